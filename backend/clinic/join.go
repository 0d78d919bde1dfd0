package clinic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/seal"
	"outpost/backend/sync"
	"outpost/backend/vault"
)

// Joining a clinic: a new laptop makes its vault from an enrollment
// package (server, fingerprint, token, clinic key, clinic name) made by an
// administrator on an enrolled laptop. The vault gets a new device id and
// code, the clinic's key, and its own audit key, but no local account:
// accounts arrive with the first sync, like every record. Until that sync
// has completed the new vault is worth nothing, so any failure before it
// erases the vault again and the person tries again.

// JoinRequest is the join form once the package is opened.
type JoinRequest struct {
	Package    sync.Package
	DeviceName string
	KeyStore   string // "keyring" or "passphrase"
	Passphrase string
}

// Join phases, as the join screen shows them.
const (
	JoinOpening   = "opening"
	JoinEnrolling = "enrolling"
	JoinSyncing   = "syncing"
)

// Validate returns field messages keyed by the join form's JSON names.
func (r JoinRequest) Validate() error {
	v := ehr.Invalid{}
	if _, ok := ValidDeviceName(r.DeviceName); !ok {
		v.Add("deviceName", "Name this laptop (2 to 60 characters), e.g. Front desk.")
	}
	switch r.KeyStore {
	case vault.StoreKeyring:
	case vault.StorePassphrase:
		if utf8.RuneCountInString(r.Passphrase) < vault.MinPassphrase {
			v.Add("passphrase", fmt.Sprintf("Use at least %d characters.", vault.MinPassphrase))
		}
	default:
		v.Add("keyStore", "Choose where the vault key is kept.")
	}
	return v.Err()
}

// Join creates the vault in o.Dir from an opened enrollment package,
// enrols the laptop with the clinic server and pulls the clinic's records,
// telling progress how far it is. It returns the services and the
// recovery key (shown once). On any failure the new vault is erased:
// nothing is kept, and the error says whether the package can be used
// again (its token is spent once the server has enrolled the laptop).
func Join(ctx context.Context, o vault.Options, d Deps, req JoinRequest, progress func(phase string, done, total int64)) (*Services, string, error) {
	d = d.withDefaults()
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	if err := noVaultYet(o); err != nil {
		return nil, "", err
	}
	if err := req.Validate(); err != nil {
		return nil, "", err
	}
	key, err := seal.ParseKey(req.Package.ClinicKey)
	if err != nil {
		return nil, "", ehr.Wrap(ehr.EInvalid, "The enrollment package is damaged. Ask the administrator for a new one.", err)
	}
	name, _ := ValidDeviceName(req.DeviceName)
	progress(JoinOpening, 0, 0)
	v, recovery, err := vault.Create(ctx, o, req.KeyStore, []byte(req.Passphrase))
	if err != nil {
		return nil, "", err
	}
	enrolled := false
	fail := func(s *Services, err error) (*Services, string, error) {
		if s != nil {
			s.Close()
		} else {
			v.Close()
		}
		if eerr := vault.Erase(o); eerr != nil {
			err = errors.Join(err, fmt.Errorf("erase the unfinished vault: %w", eerr))
		}
		return nil, "", joinError(err, enrolled)
	}
	if err := initJoined(ctx, v, d, req.Package.ClinicName, req.KeyStore, key); err != nil {
		return fail(nil, err)
	}
	s, err := Attach(ctx, v, d)
	if err != nil {
		return fail(nil, err)
	}
	progress(JoinEnrolling, 0, 0)
	st := sync.Settings{Server: req.Package.Server, Fingerprint: req.Package.Fingerprint, DeviceName: name}
	c, err := s.SyncClient(ctx, st, d.Rand)
	if err != nil {
		return fail(s, err)
	}
	resp, err := c.Enroll(ctx, req.Package.Token, name)
	if err != nil {
		return fail(s, err)
	}
	enrolled = true
	st.DeviceID, st.EnrolledAt = resp.Device, d.Now().UTC()
	if err := s.saveEnrollment(ctx, st, "setup", "sync.join"); err != nil {
		return fail(s, err)
	}
	progress(JoinSyncing, 0, 0)
	c.Progress = func(done, total int64) { progress(JoinSyncing, done, total) }
	if _, err := c.Sync(ctx); err != nil {
		return fail(s, err)
	}
	if _, err := s.Vault.W.ExecContext(ctx, "DELETE FROM meta WHERE key = 'join_unfinished'"); err != nil {
		return fail(s, fmt.Errorf("join: %w", err))
	}
	return s, recovery, nil
}

// metaUnfinished marks a joined vault whose first sync has not completed:
// the app was closed (or the computer stopped) in the middle of a join.
const metaUnfinished = "join_unfinished"

// JoinUnfinished reports whether v is a join that never completed its
// first sync; such a vault holds nothing worth keeping and is erased.
func JoinUnfinished(ctx context.Context, v *vault.Vault) (bool, error) {
	var n int
	if err := v.R.QueryRowContext(ctx, "SELECT count(*) FROM meta WHERE key = 'join_unfinished'").Scan(&n); err != nil {
		return false, fmt.Errorf("join state: %w", err)
	}
	return n > 0, nil
}

// joinError says what failed and what to do: the vault was erased; the
// package serves again unless the server had already enrolled the laptop.
func joinError(err error, enrolled bool) error {
	code, msg := sync.Explain(err)
	then := " Nothing was kept on this laptop; try again."
	if enrolled {
		then = " Nothing was kept on this laptop. The package's token is now used: ask the administrator for a new package, then try again."
	}
	return &ehr.Error{Code: code, Message: strings.TrimSpace(msg) + then, Err: err}
}

// initJoined writes the meta of a joined vault: the clinic's name and
// key from the package, a new device id and code, the device's audit key.
// No account is made here.
func initJoined(ctx context.Context, v *vault.Vault, d Deps, clinicName, keyStore string, key seal.Key) error {
	ids := &ehr.IDs{Now: d.Now, Rand: d.Rand}
	deviceID, err := ids.New()
	if err != nil {
		return err
	}
	code, err := deviceCode(d.Rand)
	if err != nil {
		return err
	}
	name := strings.Join(strings.Fields(clinicName), " ")
	if name == "" {
		name = "Clinic"
	}
	log := &audit.Log{Device: deviceID, Workstation: d.Workstation, Now: d.Now, OSUser: d.OSUser, Addresses: d.Addresses}
	tx, err := v.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for k, val := range map[string]string{
		"clinic_name":  name,
		"device_id":    deviceID,
		"device_code":  code,
		"notice":       DefaultNotice,
		"clinic_key":   key.String(),
		metaUnfinished: "1", // until the first sync has completed
	} {
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", k, val); err != nil {
			return fmt.Errorf("join: %w", err)
		}
	}
	if _, err := audit.EnsureKey(ctx, tx, deviceID, d.Now()); err != nil {
		return err
	}
	if _, err := log.Append(ctx, tx, audit.Event{Username: "setup", Action: "clinic.join", Outcome: audit.Success,
		Detail: "joined from an enrollment package; key store " + keyStore}); err != nil {
		return err
	}
	return tx.Commit()
}
