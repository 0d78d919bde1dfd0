package app

import (
	"context"
	"errors"
	"outpost/backend/audit"

	"outpost/backend/clinic"
	"outpost/backend/ehr"
	"outpost/backend/vault"
)

func (a *App) deps() clinic.Deps {
	return clinic.Deps{Now: a.cfg.Now, Rand: a.cfg.Rand, Workstation: a.cfg.Workstation, Passwords: a.cfg.Passwords,
		Report: func(err error) { a.cfg.Log.Error("audit alarm failed", "cause", err.Error()) }}
}

// errJoinErased: the vault was a join interrupted before its first sync
// completed, and was erased; the setup screen is shown again.
var errJoinErased = errors.New("an unfinished join was erased")

// attach wires the services over an open vault. Caller holds a.mu. A
// vault left by a join that never finished its first sync is erased
// instead (errJoinErased), and the setup screen comes back.
func (a *App) attach(ctx context.Context, v *vault.Vault) error {
	if unfinished, err := clinic.JoinUnfinished(ctx, v); err != nil {
		return err
	} else if unfinished {
		v.Close()
		if err := vault.Erase(a.vaultOptions()); err != nil {
			return err
		}
		a.cfg.Log.Warn("a join interrupted before its first sync was erased")
		a.state = ScreenSetup
		return errJoinErased
	}
	s, err := clinic.Attach(ctx, v, a.deps())
	if err != nil {
		return err
	}
	a.svc = s
	// An enrolled laptop syncs in the background while its vault is open.
	if err := a.startSync(ctx, s); err != nil {
		a.cfg.Log.Warn("background sync not started", "cause", err.Error())
	}
	// The whole audit chain is verified in the background at every start;
	// a break raises an alert for the officer (S35).
	go func() {
		if _, err := audit.CheckIntegrity(context.Background(), s.Vault.R, s.Vault.W, s.Alerts); err != nil {
			a.cfg.Log.Warn("audit integrity check", "cause", err.Error())
		}
	}()
	return nil
}

// SetupResult carries the recovery key, shown once.
type SetupResult struct {
	RecoveryKey string `json:"recoveryKey"`
}

// Setup creates the vault, the clinic and its first administrator. It is
// allowed only on first run.
func (a *App) Setup(req clinic.SetupRequest) (SetupResult, error) {
	ctx := context.Background()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != ScreenSetup {
		return SetupResult{}, problem(a.cfg.Log, "Setup", ehr.Errorf(ehr.EForbidden, "This computer is already set up."))
	}
	if a.joining.running {
		return SetupResult{}, problem(a.cfg.Log, "Setup", ehr.Errorf(ehr.EConflict, "This laptop is joining a clinic. Wait for it to finish."))
	}
	s, recovery, err := clinic.Setup(ctx, a.vaultOptions(), a.deps(), req)
	if err != nil {
		return SetupResult{}, problem(a.cfg.Log, "Setup", err)
	}
	a.svc = s
	a.state = ScreenLogin
	return SetupResult{RecoveryKey: recovery}, nil
}

// Unlock opens a vault whose key is protected by a passphrase.
func (a *App) Unlock(passphrase string) error {
	ctx := context.Background()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != ScreenUnlock {
		return problem(a.cfg.Log, "Unlock", ehr.Errorf(ehr.EForbidden, "The vault is not waiting for a passphrase."))
	}
	v, err := vault.OpenPassphrase(ctx, a.vaultOptions(), []byte(passphrase))
	if errors.Is(err, vault.ErrPassphrase) {
		return problem(a.cfg.Log, "Unlock", err)
	}
	if err != nil {
		a.setFatal("Unlock", err)
		return a.fatal
	}
	if err := a.attach(ctx, v); errors.Is(err, errJoinErased) {
		return problem(a.cfg.Log, "Unlock", ehr.Errorf(ehr.EVault, "Joining the clinic did not finish on this laptop, so its unfinished vault was erased. Join again."))
	} else if err != nil {
		v.Close()
		a.setFatal("Unlock", err)
		return a.fatal
	}
	a.state = ScreenLogin
	return nil
}
