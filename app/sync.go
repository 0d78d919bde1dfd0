package app

import (
	"bytes"
	"context"
	"fmt"

	"outpost/backend/audit"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	"outpost/backend/seal"
	outsync "outpost/backend/sync"
	"outpost/backend/vault"
)

// Sync in the app (docs/sync-app.md): the laptop's state for the status
// bar, syncing on demand, connecting the first laptop to the clinic
// server, enrollment packages for the next ones, and erasing a laptop the
// clinic revoked. The loop itself is backend/sync.Loop; it runs while the
// vault is open and the laptop is enrolled, signed in or not.

// SyncState is the laptop's sync state. It holds no patient data.
type SyncState struct {
	Enrolled       bool   `json:"enrolled"`
	Server         string `json:"server"`
	Fingerprint    string `json:"fingerprint"`
	DeviceID       string `json:"deviceId"`
	DeviceName     string `json:"deviceName"`
	Online         bool   `json:"online"`
	Syncing        bool   `json:"syncing"`
	Phase          string `json:"phase"`
	ProgressDone   int64  `json:"progressDone"`
	ProgressTotal  int64  `json:"progressTotal"`
	LastSync       string `json:"lastSync"`
	LastAttempt    string `json:"lastAttempt"`
	NextAttempt    string `json:"nextAttempt"`
	LastError      string `json:"lastError"`
	LastErrorCode  string `json:"lastErrorCode"`
	Pending        int    `json:"pending"`
	Conflicts      int    `json:"conflicts"`
	AuditShippedAt string `json:"auditShippedAt"`
}

// ScreenErased is shown when the clinic revoked this laptop and its
// vault was erased.
const ScreenErased = "erased"

// erasedMessage is what the erased screen says.
const erasedMessage = "The clinic revoked this laptop, so Outpost erased its data here: the vault key was removed from the keyring and the vault file overwritten. The clinic's records are safe on the clinic server and the other laptops. To use this laptop again, ask the administrator for a new enrollment package and join the clinic."

// afterSync are the steps run after each successful sync: the audit
// trail is shipped to the server (S31, S33), whose signed receipt marks
// the checkpoint acknowledged off this laptop. (Sessions are registered
// with the server at sign-in, through the registry startSync sets.)
func (a *App) afterSync(svc *clinic.Services, c *outsync.Client) []outsync.Step {
	return []outsync.Step{{Name: "audit", Run: func(ctx context.Context) error {
		alerts, err := svc.Alerts.List(ctx, svc.Vault.R, 500)
		if err != nil {
			return err
		}
		_, err = c.ShipAudit(ctx, svc.Vault.W, svc.Audit, alerts...)
		return err
	}}}
}

// startSync starts the background loop when the laptop is enrolled.
// Caller holds a.mu; svc is open.
func (a *App) startSync(ctx context.Context, svc *clinic.Services) error {
	if a.loop != nil {
		return nil
	}
	st, err := svc.SyncSettings(ctx)
	if err != nil || !st.Enrolled() {
		return err
	}
	l, err := svc.SyncLoop(ctx, st, cmpRand(a.cfg.Rand), a.cfg.Now, a.cfg.Log)
	if err != nil {
		return err
	}
	l.AfterSync = a.afterSync(svc, l.Client)
	// Sign-ins ask the server for the user's sessions on the other laptops
	// (S22, S34 across devices); offline, the local rules alone apply.
	svc.Users.SetRegistry(outsync.NewRegistry(l.Client), 0)
	if a.cfg.SyncPoll > 0 {
		l.Poll = a.cfg.SyncPoll
	}
	l.OnErase = func() { a.eraseRevoked(svc) }
	a.loop, a.syncSettings = l, st
	l.Start()
	return nil
}

// stopSync stops the loop (waiting for a sync in flight to end). It must
// be called without a.mu held.
func (a *App) stopSync() {
	a.mu.Lock()
	l := a.loop
	a.loop = nil
	a.mu.Unlock()
	if l != nil {
		l.Stop()
	}
}

// eraseRevoked is the loop's answer to a server that says this laptop was
// revoked: sessions end, the vault closes and is erased (key out of the
// keyring, files overwritten), and the erased screen is all that is left.
// Nothing is audited afterwards: the vault is gone.
func (a *App) eraseRevoked(svc *clinic.Services) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sid = ""
	a.loop = nil
	if a.svc == svc {
		a.svc = nil
		svc.Close()
	}
	a.state = ScreenErased
	a.fatal = &Problem{Code: outsync.ERevoked, Message: erasedMessage}
	if err := vault.Erase(a.vaultOptions()); err != nil {
		a.fatal = problem(a.cfg.Log, "erase", ehr.Wrap(outsync.ERevoked,
			"The clinic revoked this laptop, but its data could not be fully erased. Tell the administrator now: the data folder must be removed by hand.", err))
		return
	}
	a.cfg.Log.Warn("this laptop was revoked by the clinic; its vault was erased")
}

// SyncStatus reports the laptop's sync state.
func (a *App) SyncStatus() (SyncState, error) {
	c, err := a.begin("SyncStatus")
	if err != nil {
		return SyncState{}, err
	}
	return a.syncState(c.ctx, c.svc), nil
}

func (a *App) syncState(ctx context.Context, svc *clinic.Services) SyncState {
	a.mu.Lock()
	l, st := a.loop, a.syncSettings
	a.mu.Unlock()
	if l == nil {
		// Not enrolled (or the loop stopped): what is waiting here.
		out := SyncState{}
		if s, err := svc.SyncSettings(ctx); err == nil && s.Enrolled() {
			out.Enrolled, out.Server, out.Fingerprint, out.DeviceID, out.DeviceName = true, s.Server, s.Fingerprint, s.DeviceID, s.DeviceName
		}
		out.Pending, _ = svc.Records.Outbox(ctx)
		out.Conflicts, _ = svc.Records.ClinicalConflicts(ctx)
		return out
	}
	ls := l.State()
	out := SyncState{Enrolled: true, Server: st.Server, Fingerprint: st.Fingerprint, DeviceID: st.DeviceID, DeviceName: st.DeviceName,
		Online: ls.Online, Syncing: ls.Syncing, Phase: ls.Phase, ProgressDone: ls.Done, ProgressTotal: ls.Total,
		LastSync: rfc3339(ls.LastSync), LastAttempt: rfc3339(ls.LastAttempt), NextAttempt: rfc3339(ls.NextAttempt),
		LastError: ls.ErrMessage, LastErrorCode: ls.ErrCode, Pending: ls.Pending, Conflicts: ls.Conflicts}
	if ls.Incident != "" && ls.ErrMessage != "" {
		out.LastError = ls.ErrMessage + " (incident " + ls.Incident + ")"
	}
	out.AuditShippedAt = auditShipped(ctx, svc)
	return out
}

// auditShipped is when the server last acknowledged this laptop's audit
// trail (its signed receipt, kept in the vault's meta).
func auditShipped(ctx context.Context, svc *clinic.Services) string {
	r, ok, err := outsync.LastReceipt(ctx, svc.Vault.R)
	if err != nil || !ok {
		return ""
	}
	return rfc3339(r.ReceivedAt)
}

// SyncNow starts a sync in the background unless one runs, and returns at
// once.
func (a *App) SyncNow() (SyncState, error) {
	c, err := a.begin("SyncNow")
	if err != nil {
		return SyncState{}, err
	}
	a.mu.Lock()
	l := a.loop
	a.mu.Unlock()
	if l == nil {
		return SyncState{}, problem(a.cfg.Log, "SyncNow", ehr.Errorf(ehr.EConflict, "This laptop is not connected to a clinic server. An administrator connects it under Admin, Clinic server."))
	}
	l.Kick()
	return a.syncState(c.ctx, c.svc), nil
}

// ConnectServer enrols this laptop with its clinic server using a token
// from outpost-server enroll, pins the certificate, and starts syncing.
func (a *App) ConnectServer(req clinic.ConnectRequest) (SyncState, error) {
	c, err := a.begin("ConnectServer")
	if err != nil {
		return SyncState{}, err
	}
	st, err := c.svc.Connect(c.ctx, req, c.actor.Username, a.cfg.Now(), cmpRand(a.cfg.Rand))
	if err != nil {
		return SyncState{}, problem(a.cfg.Log, "ConnectServer", err)
	}
	a.mu.Lock()
	if a.svc == c.svc {
		err = a.startSync(context.Background(), c.svc)
	}
	a.mu.Unlock()
	if err != nil {
		return SyncState{}, problem(a.cfg.Log, "ConnectServer", err)
	}
	a.cfg.Log.Info("laptop enrolled with the clinic server", "device", st.DeviceID)
	return a.syncState(c.ctx, c.svc), nil
}

// EnrollmentPackageRequest asks for a package for a new laptop.
type EnrollmentPackageRequest struct {
	Token      string `json:"token"`
	LaptopName string `json:"laptopName"`
}

// EnrollmentPackage is the saved package and its one-time code, shown
// once.
type EnrollmentPackage struct {
	Code  string    `json:"code"`
	Saved SavedFile `json:"saved"`
}

// CreateEnrollmentPackage seals the server's address and fingerprint, a
// token from outpost-server enroll, the clinic key and the clinic's name
// under a new one-time code, and saves the package where the user
// chooses. Neither the code nor the key is logged or audited.
func (a *App) CreateEnrollmentPackage(req EnrollmentPackageRequest) (EnrollmentPackage, error) {
	c, err := a.begin("CreateEnrollmentPackage")
	if err != nil {
		return EnrollmentPackage{}, err
	}
	v := ehr.Invalid{}
	if _, err := (clinic.ConnectRequest{Server: "https://x", Fingerprint: zeroFingerprint, Token: req.Token, DeviceName: req.LaptopName}).Validate(); err != nil {
		for f, m := range ehr.ErrorFields(err) {
			if f == "deviceName" {
				f = "laptopName"
			}
			v.Add(f, m)
		}
	}
	if err := v.Err(); err != nil {
		return EnrollmentPackage{}, problem(a.cfg.Log, "CreateEnrollmentPackage", err)
	}
	st, err := c.svc.SyncSettings(c.ctx)
	if err != nil {
		return EnrollmentPackage{}, problem(a.cfg.Log, "CreateEnrollmentPackage", err)
	}
	if !st.Enrolled() {
		return EnrollmentPackage{}, problem(a.cfg.Log, "CreateEnrollmentPackage", ehr.Errorf(ehr.EConflict, "Connect this laptop to the clinic server first (Admin, Clinic server)."))
	}
	key, err := clinic.ClinicKey(c.ctx, c.svc.Vault, cmpRand(a.cfg.Rand))
	if err != nil {
		return EnrollmentPackage{}, problem(a.cfg.Log, "CreateEnrollmentPackage", err)
	}
	code, err := outsync.NewCode(cmpRand(a.cfg.Rand))
	if err != nil {
		return EnrollmentPackage{}, problem(a.cfg.Log, "CreateEnrollmentPackage", err)
	}
	var buf bytes.Buffer
	pkg := outsync.Package{Server: st.Server, Fingerprint: st.Fingerprint, Token: req.Token, ClinicKey: key.String(), ClinicName: c.svc.Info.Name}
	if err := outsync.SealPackage(pkg, code, a.sealCosts(), cmpRand(a.cfg.Rand), &buf); err != nil {
		return EnrollmentPackage{}, problem(a.cfg.Log, "CreateEnrollmentPackage", err)
	}
	name := fmt.Sprintf("outpost-enrollment-%s.opkg", a.cfg.Now().UTC().Format("20060102"))
	saved, err := a.cfg.Save(c.ctx, name, buf.Bytes())
	if err != nil {
		return EnrollmentPackage{}, problem(a.cfg.Log, "CreateEnrollmentPackage", err)
	}
	if saved == "" { // cancelled: the code is never shown
		return EnrollmentPackage{}, nil
	}
	laptop, _ := clinic.ValidDeviceName(req.LaptopName)
	if err := c.svc.Audit.Record(c.ctx, c.svc.Vault.W, audit.Event{Username: c.actor.Username, Roles: c.actor.Roles, Session: c.actor.Session,
		Action: "sync.enrollment_package", Outcome: audit.Success, Detail: "enrollment package saved for a new laptop: " + laptop}); err != nil {
		return EnrollmentPackage{}, problem(a.cfg.Log, "CreateEnrollmentPackage", err)
	}
	return EnrollmentPackage{Code: code, Saved: SavedFile{Name: saved}}, nil
}

// zeroFingerprint passes the fingerprint check when only the other
// fields of a form are checked.
var zeroFingerprint = outsync.FormatFingerprint([32]byte{})

// sealCosts follows the passphrase key file's costs (lowered by tests).
func (a *App) sealCosts() seal.Costs {
	if p := a.cfg.Argon2; p.MemoryKiB > 0 {
		return seal.Costs{Memory: p.MemoryKiB, Time: p.Time, Threads: p.Threads}
	}
	return seal.DefaultCosts
}
