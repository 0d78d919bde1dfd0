package app

import (
	"context"
	"errors"
	"regexp"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	"outpost/backend/records"
)

// Access levels of bound methods besides the permissions of auth.
const (
	public  = "public"  // callable before sign-in
	session = "session" // any session of the caller, in whatever stage
)

// methodPerms is the access of every bound method: public, session, or a
// permission from auth's table. A bound method missing here fails the
// reflection test, and is refused at run time.
var methodPerms = map[string]string{
	"Status": public, "Setup": public, "Unlock": public, "Login": public, "Logout": public, "UIReady": public,

	"VerifyMFA": session, "ChangePassword": session, "BeginMFAEnrollment": session, "ConfirmMFAEnrollment": session,
	"LockSession": session, "UnlockSession": session, "KeepAlive": session,

	"ValidatePatient": auth.PermPatientWrite, "RegisterPatient": auth.PermPatientWrite, "UpdatePatient": auth.PermPatientWrite,
	"GetPatient": auth.PermPatientRead, "SearchPatients": auth.PermPatientRead, "PatientHistory": auth.PermPatientRead,
	"SetPatientRestricted": auth.PermPatientRestrict, "BreakGlass": auth.PermBreakGlass,

	"ListUsers": auth.PermUsersManage, "CreateUser": auth.PermUsersManage, "SetUserRoles": auth.PermUsersManage,
	"DisableUser": auth.PermUsersManage, "EnableUser": auth.PermUsersManage, "UnlockUser": auth.PermUsersManage,
	"ResetPassword": auth.PermUsersManage, "ResetMFA": auth.PermUsersManage, "RequestUserDeletion": auth.PermUsersManage,
	"ListDeletionRequests": auth.PermUsersManage, "ApproveUserDeletion": auth.PermUsersManage,
	"GetSettings": auth.PermSettingsManage, "SaveSettings": auth.PermSettingsManage,
	"ListAlerts": auth.PermAlertsRead, "AcknowledgeAlert": auth.PermAlertsRead, "SecurityReport": auth.PermAlertsRead,
	"GetAuditShipping": auth.PermAuditManage, "SaveSealedAuditCopy": auth.PermAuditManage, "ConfirmAuditCopy": auth.PermAuditManage,
	"ListAuditPurges": auth.PermAuditManage, "RequestAuditPurge": auth.PermAuditManage, "ApproveAuditPurge": auth.PermAuditManage,
	"ListAudit": auth.PermAuditRead, "SaveAuditExport": auth.PermAuditRead,

	"ChartSummary": auth.PermChartRead, "VitalSeries": auth.PermChartRead, "VisitRecords": auth.PermChartRead,
	"SaveEncounter": auth.PermChartWrite, "SignEncounter": auth.PermChartWrite, "SaveObservation": auth.PermChartWrite,
	"SaveCondition": auth.PermChartWrite, "SaveMedication": auth.PermChartWrite, "SaveAllergy": auth.PermChartWrite,
	"SaveImmunization": auth.PermChartWrite, "SaveNote": auth.PermChartWrite,
	"RequestRecordDeletion": auth.PermRecordDelete, "ListRecordDeletions": auth.PermRecordDelete,
	"ApproveRecordDeletion": auth.PermRecordDelete, "RestoreRecord": auth.PermRecordDelete, "ListDeletedRecords": auth.PermRecordDelete,
	"AddDocument": auth.PermChartWrite, "ListDocuments": auth.PermChartRead, "GetDocument": auth.PermChartRead,
	"SaveSummaryPDF": auth.PermChartRead, "RecordHistory": auth.PermChartRead, "SaveDocument": auth.PermChartRead,
	"ExportFHIR": auth.PermChartRead, "StartFHIRImport": auth.PermChartWrite, "FHIRImportStatus": auth.PermChartWrite,

	// Sync (docs/sync-app.md). JoinClinic and JoinStatus work only on the
	// setup screen, before any vault exists.
	"JoinClinic": public, "JoinStatus": public,
	"SyncStatus": session, "SyncNow": session,
	"ConnectServer": auth.PermUsersManage, "CreateEnrollmentPackage": auth.PermUsersManage,
	"ListConflicts": auth.PermChartRead, "ResolveConflict": auth.PermChartWrite,

	// Signed updates (docs/updates.md): every user sees an available
	// release; administrators check, install and set the repository.
	"UpdateStatus":    session,
	"CheckForUpdates": auth.PermSettingsManage, "InstallUpdate": auth.PermSettingsManage, "SetUpdateSettings": auth.PermSettingsManage,
}

// User is the signed-in user as the UI shows it.
type User struct {
	Username    string   `json:"username"`
	Name        string   `json:"name"`
	Roles       []string `json:"roles"`
	Permissions []string `json:"permissions"`
	MFAEnabled  bool     `json:"mfaEnabled"`
}

func userView(u auth.User) *User {
	return &User{Username: u.Username, Name: u.Name, Roles: u.Roles, Permissions: auth.Permissions(u.Roles), MFAEnabled: u.MFAEnabled}
}

// Status tells the UI which screen to show.
type Status struct {
	Screen           string   `json:"screen"`
	Clinic           string   `json:"clinic"`
	Version          string   `json:"version"`
	KeyringAvailable bool     `json:"keyringAvailable"`
	KeyringHelp      string   `json:"keyringHelp"`
	Notice           string   `json:"notice"`
	IdleMinutes      int      `json:"idleMinutes"`
	Problem          *Problem `json:"problem,omitempty"`
	User             *User    `json:"user,omitempty"`
	// NoAccounts: a laptop that joined a clinic has no account until the
	// clinic's accounts arrive by sync (login screen only).
	NoAccounts bool `json:"noAccounts"`
}

// Session screens.
const (
	ScreenMFA      = "mfa"
	ScreenPassword = "password"
	ScreenEnroll   = "enroll"
	ScreenLocked   = "locked"
)

// Status reports the state of this installation and of the window's
// session. It needs no session and reveals no patient data.
func (a *App) Status() Status {
	a.mu.Lock()
	st := Status{Screen: a.state, Version: a.cfg.Version, KeyringAvailable: true}
	svc, sid := a.svc, a.sid
	switch a.state {
	case ScreenSetup:
		if err := probeKeyring(a.cfg.Keyring); err != nil {
			a.cfg.Log.Warn("no usable OS keyring", "cause", err.Error())
			st.KeyringAvailable, st.KeyringHelp = false, keyringHelp
		}
	case ScreenFatal, ScreenErased:
		st.Problem = a.fatal
	case ScreenLogin:
		st.Clinic, st.Notice = svc.Info.Name, a.notice(svc)
		if ok, err := svc.Users.HasUsers(context.Background()); err == nil && !ok {
			st.NoAccounts = true
		}
	}
	a.mu.Unlock()
	if st.Screen != ScreenLogin || sid == "" {
		return st
	}
	ss, err := svc.Users.Peek(context.Background(), sid)
	if err != nil {
		a.dropSession(sid)
		return st
	}
	st.User, st.IdleMinutes = userView(ss.User), int(ss.Idle.Minutes())
	switch {
	case ss.Locked:
		st.Screen = ScreenLocked
	case ss.Stage == auth.StageMFA:
		st.Screen = ScreenMFA
	case ss.Stage == auth.StagePassword:
		st.Screen = ScreenPassword
	case ss.Stage == auth.StageEnroll:
		st.Screen = ScreenEnroll
	default:
		st.Screen = ScreenHome
	}
	return st
}

func (a *App) notice(svc *clinic.Services) string {
	if s, err := svc.Users.Settings(context.Background()); err == nil && s.Notice != "" {
		return s.Notice
	}
	return svc.Info.Notice
}

// dropSession forgets the window's session if it is still sid.
func (a *App) dropSession(sid string) {
	a.mu.Lock()
	if a.sid == sid {
		a.sid = ""
	}
	a.mu.Unlock()
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

// LoginResult is shown after sign-in: the previous successful sign-in,
// every failed attempt since, and what must happen before the home
// screen (Next: "", "mfa", "password" or "enroll").
type LoginResult struct {
	User        User         `json:"user"`
	LastLogin   *LoginEvent  `json:"lastLogin,omitempty"`
	FailedSince []LoginEvent `json:"failedSince"`
	Next        string       `json:"next"`
}

// Login signs a user in. The usage and privacy notice must be accepted
// first (S5); the acceptance is audited.
func (a *App) Login(req LoginRequest) (LoginResult, error) {
	ctx := context.Background()
	a.mu.Lock()
	svc, state, old := a.svc, a.state, a.sid
	a.mu.Unlock()
	if state != ScreenLogin {
		return LoginResult{}, problem(a.cfg.Log, "Login", ehr.Errorf(ehr.ESession, "Outpost is not ready for sign-in."))
	}
	if !req.NoticeAccepted {
		return LoginResult{}, problem(a.cfg.Log, "Login", &ehr.Error{Code: ehr.EInvalid, Message: "Read and accept the usage and privacy notice to continue.",
			Fields: map[string]string{"noticeAccepted": "Read and accept the notice to continue."}})
	}
	if old != "" {
		svc.Users.End(ctx, old, "signed in again")
		a.dropSession(old)
	}
	res, err := svc.Users.Login(ctx, req.Username, req.Password, a.cfg.Workstation)
	if err != nil {
		return LoginResult{}, problem(a.cfg.Log, "Login", err)
	}
	ss := res.Session
	if err := svc.Audit.Record(ctx, svc.Vault.W, audit.Event{Username: ss.User.Username, Roles: ss.User.Roles, Session: ss.ID,
		Action: "notice.accept", Outcome: audit.Success}); err != nil {
		svc.Users.End(ctx, ss.ID, "audit failed")
		return LoginResult{}, problem(a.cfg.Log, "Login", err)
	}
	a.mu.Lock()
	a.sid = ss.ID
	a.mu.Unlock()
	out := LoginResult{User: *userView(ss.User), FailedSince: []LoginEvent{}, Next: ss.Stage}
	if res.Last != nil {
		out.LastLogin = &LoginEvent{At: res.Last.At.Format(time.RFC3339), Workstation: res.Last.Workstation}
	}
	for _, f := range res.FailedSince {
		out.FailedSince = append(out.FailedSince, LoginEvent{At: f.At.Format(time.RFC3339), Workstation: f.Workstation})
	}
	return out, nil
}

// Logout ends the window's session.
func (a *App) Logout() error {
	a.mu.Lock()
	svc, sid := a.svc, a.sid
	a.sid = ""
	a.mu.Unlock()
	if svc == nil || sid == "" {
		return nil
	}
	if err := svc.Users.End(context.Background(), sid, "signed out"); err != nil {
		return problem(a.cfg.Log, "Logout", err)
	}
	return nil
}

// call is an authorised bound call in progress.
type call struct {
	ctx   context.Context
	svc   *clinic.Services
	sess  auth.Session
	actor records.Actor
}

// begin authorises a bound call by its entry in methodPerms: the session
// must exist, be unlocked and past its sign-in steps, and its roles must
// hold the permission (S6, P1). Every refusal for lack of permission is
// audited. The lock is not held while the call runs.
func (a *App) begin(method string) (call, error) {
	perm, ok := methodPerms[method]
	if !ok || perm == public {
		return call{}, problem(a.cfg.Log, method, errors.New("method "+method+" has no access rule"))
	}
	c, err := a.current(method)
	if err != nil || perm == session {
		return c, err
	}
	ss := c.sess
	switch {
	case ss.Locked:
		return call{}, problem(a.cfg.Log, method, ehr.Errorf(ehr.ELocked, "Your session is locked. Enter your password to continue."))
	case ss.Stage == auth.StagePassword:
		return call{}, problem(a.cfg.Log, method, ehr.Errorf(ehr.EPassword, "Set a new password first."))
	case ss.Stage != "":
		return call{}, problem(a.cfg.Log, method, ehr.Errorf(ehr.EMFA, "Complete the second sign-in step first."))
	case !auth.Can(ss.User.Roles, perm):
		c.svc.Audit.Record(c.ctx, c.svc.Vault.W, audit.Event{Username: ss.User.Username, Roles: ss.User.Roles, Session: ss.ID,
			Action: method, Outcome: audit.Denied, Detail: "missing permission " + perm})
		return call{}, problem(a.cfg.Log, method, ehr.Errorf(ehr.EForbidden, "Your role does not allow this."))
	}
	return c, nil
}

// current returns the window's session, checked, in whatever stage.
func (a *App) current(method string) (call, error) {
	a.mu.Lock()
	svc, sid := a.svc, a.sid
	a.mu.Unlock()
	if svc == nil || sid == "" {
		return call{}, problem(a.cfg.Log, method, ehr.Errorf(ehr.ESession, "Please sign in."))
	}
	ctx := context.Background()
	ss, err := svc.Users.Check(ctx, sid)
	if err != nil {
		if ehr.ErrorCode(err) == ehr.ESession {
			a.dropSession(sid)
		}
		return call{}, problem(a.cfg.Log, method, err)
	}
	act := records.Actor{UserID: ss.User.ID, Username: ss.User.Username, Roles: ss.User.Roles, Session: ss.ID}
	return call{ctx: ctx, svc: svc, sess: ss, actor: act}, nil
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
