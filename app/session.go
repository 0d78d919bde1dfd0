package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/vault"
)

// session is the signed-in user of this window.
type session struct {
	id      string
	user    auth.User
	started time.Time
}

func (s *session) actor() records.Actor {
	return records.Actor{UserID: s.user.ID, Username: s.user.Username, Roles: s.user.Roles, Session: s.id}
}

// User is the signed-in user as the UI shows it.
type User struct {
	Username string   `json:"username"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
}

// Status tells the UI which screen to show.
type Status struct {
	Screen           string   `json:"screen"`
	Clinic           string   `json:"clinic"`
	Version          string   `json:"version"`
	KeyringAvailable bool     `json:"keyringAvailable"`
	KeyringHelp      string   `json:"keyringHelp"`
	Notice           string   `json:"notice"`
	Problem          *Problem `json:"problem,omitempty"`
	User             *User    `json:"user,omitempty"`
}

// Status reports the state of this installation. It needs no session and
// reveals no patient data.
func (a *App) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := Status{Screen: a.state, Version: a.cfg.Version, KeyringAvailable: true}
	switch a.state {
	case ScreenSetup:
		if err := vault.ProbeKeyring(a.cfg.Keyring); err != nil {
			a.cfg.Log.Warn("no usable OS keyring", "cause", err.Error())
			st.KeyringAvailable, st.KeyringHelp = false, vault.KeyringHelp
		}
	case ScreenFatal:
		st.Problem = a.fatal
	case ScreenLogin:
		st.Clinic, st.Notice = a.svc.Info.Name, a.svc.Info.Notice
		if a.session != nil {
			st.Screen = ScreenHome
			st.User = &User{Username: a.session.user.Username, Name: a.session.user.Name, Roles: a.session.user.Roles}
		}
	}
	return st
}

// LoginRequest is the sign-in form.
type LoginRequest struct {
	Username       string `json:"username"`
	Password       string `json:"password"`
	NoticeAccepted bool   `json:"noticeAccepted"`
}

// LoginEvent is a past sign-in attempt.
type LoginEvent struct {
	At          string `json:"at"` // RFC 3339
	Workstation string `json:"workstation"`
}

// LoginResult is shown after sign-in: the previous successful sign-in and
// every failed attempt since.
type LoginResult struct {
	User        User         `json:"user"`
	LastLogin   *LoginEvent  `json:"lastLogin,omitempty"`
	FailedSince []LoginEvent `json:"failedSince"`
}

// Login signs a user in. The usage and privacy notice must be accepted
// first; the acceptance is audited.
func (a *App) Login(req LoginRequest) (LoginResult, error) {
	ctx := context.Background()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != ScreenLogin {
		return LoginResult{}, problem(a.cfg.Log, "Login", ehr.Errorf(ehr.ESession, "Outpost is not ready for sign-in."))
	}
	if !req.NoticeAccepted {
		return LoginResult{}, problem(a.cfg.Log, "Login", &ehr.Error{Code: ehr.EInvalid, Message: "Read and accept the usage and privacy notice to continue.",
			Fields: map[string]string{"noticeAccepted": "Read and accept the notice to continue."}})
	}
	res, err := a.svc.Users.Login(ctx, req.Username, req.Password, a.cfg.Workstation)
	if err != nil {
		return LoginResult{}, problem(a.cfg.Log, "Login", err)
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return LoginResult{}, problem(a.cfg.Log, "Login", err)
	}
	s := &session{id: hex.EncodeToString(id), user: res.User, started: a.cfg.Now()}
	if err := a.svc.Audit.Record(ctx, a.svc.Vault.W, audit.Event{Username: s.user.Username, Roles: s.user.Roles, Session: s.id,
		Action: "notice.accept", Outcome: audit.Success}); err != nil {
		return LoginResult{}, problem(a.cfg.Log, "Login", err)
	}
	a.session = s
	out := LoginResult{User: User{Username: res.User.Username, Name: res.User.Name, Roles: res.User.Roles}, FailedSince: []LoginEvent{}}
	if res.Last != nil {
		out.LastLogin = &LoginEvent{At: res.Last.At.Format(time.RFC3339), Workstation: res.Last.Workstation}
	}
	for _, f := range res.FailedSince {
		out.FailedSince = append(out.FailedSince, LoginEvent{At: f.At.Format(time.RFC3339), Workstation: f.Workstation})
	}
	return out, nil
}

// Logout ends the session.
func (a *App) Logout() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.session == nil {
		return nil
	}
	s := a.session
	a.session = nil
	if err := a.svc.Audit.Record(context.Background(), a.svc.Vault.W, audit.Event{Username: s.user.Username, Roles: s.user.Roles, Session: s.id,
		Action: "user.logout", Outcome: audit.Success}); err != nil {
		return problem(a.cfg.Log, "Logout", err)
	}
	return nil
}

// authorize returns the session's actor when a session exists and its
// roles hold perm. Denials are audited. Caller holds a.mu.
func (a *App) authorize(method, perm string) (records.Actor, error) {
	if a.session == nil {
		return records.Actor{}, problem(a.cfg.Log, method, ehr.Errorf(ehr.ESession, "Please sign in."))
	}
	if !auth.Can(a.session.user.Roles, perm) {
		act := a.session.actor()
		a.svc.Audit.Record(context.Background(), a.svc.Vault.W, audit.Event{Username: act.Username, Roles: act.Roles, Session: act.Session,
			Action: method, Outcome: audit.Denied, Detail: "missing permission " + perm})
		return records.Actor{}, problem(a.cfg.Log, method, ehr.Errorf(ehr.EForbidden, "Your role does not allow this."))
	}
	return a.session.actor(), nil
}

var screenName = regexp.MustCompile(`^[a-z]{1,20}$`)

// UIReady is called by the UI once its first screen has rendered. The
// smoke test of the real window waits for it.
func (a *App) UIReady(screen string) {
	if !screenName.MatchString(screen) {
		screen = "unknown"
	}
	a.readyOne.Do(func() {
		a.cfg.Log.Info("ui ready", "screen", screen)
		if a.cfg.OnReady != nil {
			a.cfg.OnReady(screen)
		}
	})
}
