package app

import (
	"context"
	"strings"

	"outpost/backend/clinic"
	"outpost/backend/ehr"
	outsync "outpost/backend/sync"
)

// Joining a clinic from the setup screen: the package made by an
// administrator on another laptop, the one-time code, a name for this
// laptop and the key store. The vault is made, the laptop enrols and the
// clinic's records (and accounts) arrive in the background; the join
// screen polls JoinStatus. Any failure erases the new vault again.

// JoinRequest is the join form.
type JoinRequest struct {
	Package    string `json:"package"` // base64 of the package file
	Code       string `json:"code"`
	DeviceName string `json:"deviceName"`
	KeyStore   string `json:"keyStore"`
	Passphrase string `json:"passphrase"`
}

// JoinProgress is how far a join is.
type JoinProgress struct {
	Phase       string   `json:"phase"` // "opening" | "enrolling" | "syncing" | "done" | "failed"
	Done        int64    `json:"done"`
	Total       int64    `json:"total"`
	Clinic      string   `json:"clinic"`
	RecoveryKey string   `json:"recoveryKey"` // once, with the first "done"
	Problem     *Problem `json:"problem,omitempty"`
}

// Join phases besides clinic's.
const (
	JoinDone   = "done"
	JoinFailed = "failed"
)

// joinJob is the join in progress or its outcome; guarded by App.mu.
type joinJob struct {
	started  bool
	running  bool
	progress JoinProgress
	recovery string // handed out once, then forgotten
}

// maxPackage bounds an enrollment package file (a few hundred bytes).
const maxPackage = 64 << 10

// JoinClinic checks the form, opens the package with the code, and starts
// joining in the background. Allowed only on the setup screen.
func (a *App) JoinClinic(req JoinRequest) (JoinProgress, error) {
	if err := a.joinAllowed(); err != nil {
		return JoinProgress{}, problem(a.cfg.Log, "JoinClinic", err)
	}
	v := ehr.Invalid{}
	var data []byte
	if strings.TrimSpace(req.Package) == "" {
		v.Add("package", "Choose the enrollment package file (outpost-enrollment-….opkg).")
	} else if b, err := decodeBase64Field("package", req.Package, maxPackage); err != nil {
		v.Add("package", "This file is not an enrollment package.")
	} else {
		data = b
	}
	if strings.TrimSpace(req.Code) == "" {
		v.Add("code", "Type the one-time code shown when the package was made.")
	}
	jr := clinic.JoinRequest{DeviceName: req.DeviceName, KeyStore: req.KeyStore, Passphrase: req.Passphrase}
	for f, m := range ehr.ErrorFields(jr.Validate()) {
		v.Add(f, m)
	}
	if err := v.Err(); err != nil {
		return JoinProgress{}, problem(a.cfg.Log, "JoinClinic", err)
	}
	pkg, err := outsync.OpenPackage(data, req.Code)
	if err != nil {
		return JoinProgress{}, problem(a.cfg.Log, "JoinClinic", &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{"code": "This code does not open the package. Check the code, or ask the administrator for a new package."}, Err: err})
	}
	jr.Package = pkg
	a.mu.Lock()
	if err := a.joinAllowedLocked(); err != nil {
		a.mu.Unlock()
		return JoinProgress{}, problem(a.cfg.Log, "JoinClinic", err)
	}
	a.joining = joinJob{started: true, running: true, progress: JoinProgress{Phase: clinic.JoinOpening, Clinic: pkg.ClinicName}}
	out := a.joining.progress
	a.mu.Unlock()
	go a.runJoin(jr)
	return out, nil
}

func (a *App) joinAllowed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.joinAllowedLocked()
}

func (a *App) joinAllowedLocked() error {
	switch {
	case a.state != ScreenSetup:
		return ehr.Errorf(ehr.EForbidden, "This computer is already set up.")
	case a.joining.running:
		return ehr.Errorf(ehr.EConflict, "This laptop is already joining a clinic. Wait for it to finish.")
	}
	return nil
}

// runJoin joins in the background and leaves the app on the sign-in
// screen, syncing, or on the setup screen again after a failure.
func (a *App) runJoin(req clinic.JoinRequest) {
	ctx := context.Background()
	s, recovery, err := clinic.Join(ctx, a.vaultOptions(), a.deps(), req, func(phase string, done, total int64) {
		a.mu.Lock()
		a.joining.progress.Phase, a.joining.progress.Done, a.joining.progress.Total = phase, done, total
		a.mu.Unlock()
	})
	a.mu.Lock()
	defer a.mu.Unlock()
	a.joining.running = false
	if err != nil {
		a.joining.progress = JoinProgress{Phase: JoinFailed, Clinic: req.Package.ClinicName, Problem: problem(a.cfg.Log, "JoinClinic", err)}
		return
	}
	a.svc, a.state = s, ScreenLogin
	if err := a.startSync(ctx, s); err != nil {
		a.cfg.Log.Warn("background sync not started", "cause", err.Error())
	}
	p := &a.joining.progress
	p.Phase, p.Problem = JoinDone, nil
	a.joining.recovery = recovery
	a.cfg.Log.Info("joined the clinic from an enrollment package")
}

// JoinStatus reports the join started on this screen. The recovery key
// comes once, with the first answer whose phase is "done".
func (a *App) JoinStatus() (JoinProgress, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.joining.started {
		return JoinProgress{}, problem(a.cfg.Log, "JoinStatus", ehr.Errorf(ehr.ENotFound, "No join is running."))
	}
	out := a.joining.progress
	if out.Phase == JoinDone && a.joining.recovery != "" {
		out.RecoveryKey, a.joining.recovery = a.joining.recovery, ""
	}
	return out, nil
}
