package app

import (
	"outpost/backend/ehr"
)

// PasswordChange is the form for a new password.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// ChangePassword replaces the user's password. It ends every session of
// the user, this one included: the next step is a fresh sign-in.
func (a *App) ChangePassword(req PasswordChange) error {
	c, err := a.begin("ChangePassword")
	if err != nil {
		return err
	}
	if err := c.svc.Users.ChangePassword(c.ctx, c.sess.ID, req.Current, req.New); err != nil {
		return problem(a.cfg.Log, "ChangePassword", err)
	}
	a.dropSession(c.sess.ID)
	return nil
}

// VerifyMFA completes sign-in with a TOTP code or a recovery code.
func (a *App) VerifyMFA(code string) (LoginResult, error) {
	c, err := a.begin("VerifyMFA")
	if err != nil {
		return LoginResult{}, err
	}
	ss, err := c.svc.Users.VerifyMFA(c.ctx, c.sess.ID, code)
	if err != nil {
		if ehr.ErrorCode(err) == ehr.ESession {
			a.dropSession(c.sess.ID)
		}
		return LoginResult{}, problem(a.cfg.Log, "VerifyMFA", err)
	}
	return LoginResult{User: *userView(ss.User), FailedSince: []LoginEvent{}}, nil
}

// MFAEnrollment is a new authenticator secret to set up.
type MFAEnrollment struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

// BeginMFAEnrollment makes a new authenticator secret.
func (a *App) BeginMFAEnrollment() (MFAEnrollment, error) {
	c, err := a.begin("BeginMFAEnrollment")
	if err != nil {
		return MFAEnrollment{}, err
	}
	e, err := c.svc.Users.BeginEnrollment(c.ctx, c.sess.ID)
	if err != nil {
		return MFAEnrollment{}, problem(a.cfg.Log, "BeginMFAEnrollment", err)
	}
	return MFAEnrollment{Secret: e.Secret, URI: e.URI}, nil
}

// MFARecovery carries the recovery codes, shown once.
type MFARecovery struct {
	RecoveryCodes []string `json:"recoveryCodes"`
}

// ConfirmMFAEnrollment checks a code from the new secret and turns MFA
// on. It ends the user's sessions: the next sign-in uses the new factor.
func (a *App) ConfirmMFAEnrollment(code string) (MFARecovery, error) {
	c, err := a.begin("ConfirmMFAEnrollment")
	if err != nil {
		return MFARecovery{}, err
	}
	codes, err := c.svc.Users.ConfirmEnrollment(c.ctx, c.sess.ID, code)
	if err != nil {
		return MFARecovery{}, problem(a.cfg.Log, "ConfirmMFAEnrollment", err)
	}
	a.dropSession(c.sess.ID)
	return MFARecovery{RecoveryCodes: codes}, nil
}

// LockSession locks the window's session (the UI's idle timer, or the
// user). The UI clears patient data from the screen and its memory.
func (a *App) LockSession() error {
	c, err := a.begin("LockSession")
	if err != nil {
		return err
	}
	if err := c.svc.Users.LockSession(c.ctx, c.sess.ID); err != nil {
		return problem(a.cfg.Log, "LockSession", err)
	}
	return nil
}

// UnlockSession reopens a locked session with the user's password.
func (a *App) UnlockSession(password string) error {
	c, err := a.begin("UnlockSession")
	if err != nil {
		return err
	}
	if err := c.svc.Users.UnlockSession(c.ctx, c.sess.ID, password); err != nil {
		if ehr.ErrorCode(err) == ehr.ESession {
			a.dropSession(c.sess.ID)
		}
		return problem(a.cfg.Log, "UnlockSession", err)
	}
	return nil
}

// KeepAlive tells the backend the user is active (typing, reading,
// scrolling) although no other call is made, so the session's idle time
// restarts. The UI calls it at most once a minute, and only after input.
func (a *App) KeepAlive() error {
	_, err := a.begin("KeepAlive")
	return err
}
