package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/backend/auth"
	"outpost/backend/ehr"
	"outpost/backend/totp"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

// clinicEnv is one vault that several windows (App instances) open, as
// several people would on one laptop, all on one injected clock.
type clinicEnv struct {
	t      *testing.T
	dir    string
	saves  string // where the stand-in save dialog writes
	kr     vault.Keyring
	clock  *testClock
	admin  *App
	secret totp.Secret
}

func newClinic(t *testing.T) *clinicEnv {
	e := &clinicEnv{t: t, dir: t.TempDir(), saves: t.TempDir(), kr: vaulttest.NewKeyring(), clock: &testClock{t: time.Date(2026, 5, 4, 8, 30, 0, 0, time.UTC)}}
	e.admin = e.window("admin-pc")
	if _, err := e.admin.Setup(setupReq); err != nil {
		t.Fatal(err)
	}
	e.secret = enrolAndSignIn(t, e.admin, e.clock, "admin.rose", setupReq.Password)
	return e
}

func (e *clinicEnv) window(workstation string) *App {
	a := New(Config{DataDir: e.dir, Keyring: e.kr, Now: e.clock.Now, Rand: rand.Reader, Version: "test",
		Workstation: workstation, Argon2: vaulttest.FastArgon2, Passwords: fastPasswords, Save: FolderSaver(e.saves)})
	Start(context.Background(), a)
	e.t.Cleanup(func() { Stop(a) })
	return a
}

const tempPassword = "copper-lantern-morning-41"

// user creates an account with roles and returns a window signed in as
// it, past the forced password change (and MFA enrolment where required).
func (e *clinicEnv) user(name string, roles ...string) (*App, string) {
	return e.userT(e.t, name, roles...)
}

func (e *clinicEnv) userT(t *testing.T, name string, roles ...string) (*App, string) {
	t.Helper()
	if _, err := e.admin.CreateUser(NewUserRequest{Username: name, Name: "Test " + name, Roles: roles, TemporaryPassword: tempPassword}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	w := e.window(name + "-pc")
	lr, err := w.Login(LoginRequest{Username: name, Password: tempPassword, NoticeAccepted: true})
	if err != nil || lr.Next != "password" {
		t.Fatalf("temp login %s: next %q, %v", name, lr.Next, err)
	}
	perm := "harbor-violet-engine-93"
	if err := w.ChangePassword(PasswordChange{Current: tempPassword, New: perm}); err != nil {
		t.Fatalf("change password %s: %v", name, err)
	}
	if auth.RequiresMFA(roles) {
		enrolAndSignIn(t, w, e.clock, name, perm)
	} else if lr, err := w.Login(LoginRequest{Username: name, Password: perm, NoticeAccepted: true}); err != nil || lr.Next != "" {
		t.Fatalf("login %s: next %q, %v", name, lr.Next, err)
	}
	return w, perm
}

func (e *clinicEnv) patient(w *App) Patient {
	e.t.Helper()
	p, err := w.RegisterPatient(ehr.PatientInput{Family: "Moyo", Given: "Tendai", Sex: "male", BirthDate: "1970-01-01"})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	return problemOf(t, err).Code
}

// S6, P1, P7: every bound method, for every role, is allowed exactly when
// the permission table says so; and every method has an access rule.
func TestPermissionMatrix(t *testing.T) {
	e := newClinic(t)
	v := reflect.ValueOf(e.admin)
	for i := 0; i < v.NumMethod(); i++ {
		if _, ok := methodPerms[v.Type().Method(i).Name]; !ok {
			t.Errorf("bound method %s has no access rule in methodPerms", v.Type().Method(i).Name)
		}
	}
	for _, role := range auth.AllRoles {
		t.Run(role, func(t *testing.T) {
			w, _ := e.userT(t, "u."+role, role)
			wv := reflect.ValueOf(w)
			for i := 0; i < wv.NumMethod(); i++ {
				name := wv.Type().Method(i).Name
				perm := methodPerms[name]
				if perm == public || perm == session || name == "LockSession" {
					continue
				}
				m := wv.Method(i)
				args := make([]reflect.Value, m.Type().NumIn())
				for j := range args {
					args[j] = reflect.New(m.Type().In(j)).Elem()
				}
				out := m.Call(args)
				err, _ := out[len(out)-1].Interface().(error)
				got := code(t, err)
				if auth.Can([]string{role}, perm) {
					if got == ehr.EForbidden || got == ehr.ESession {
						t.Errorf("%s: %s refused (%s) although %s holds %s", role, name, got, role, perm)
					}
				} else if got != ehr.EForbidden {
					t.Errorf("%s: %s gave %q, want %s (%s lacks %s)", role, name, got, ehr.EForbidden, role, perm)
				}
			}
		})
	}
	// An administrator without a clinical role cannot open charts (S6).
	w, _ := e.user("it.only", auth.RoleAdmin)
	if _, err := w.SearchPatients("moyo"); code(t, err) != ehr.EForbidden {
		t.Errorf("administrator-only search: %v", err)
	}
	// A clinician cannot reach admin functions.
	c, _ := e.user("dr.c", auth.RoleClinician)
	if _, err := c.ListUsers(); code(t, err) != ehr.EForbidden {
		t.Errorf("clinician ListUsers: %v", err)
	}
}

// S17: after 5 failures the 6th attempt is refused even with the right
// password; unknown names behave the same; the lock survives a restart,
// grows, is audited and alerted; an administrator can lift it.
func TestLockout(t *testing.T) {
	e := newClinic(t)
	_, pw := e.user("nurse.joy", auth.RoleNurse)
	w := e.window("ward")
	login := func(user, pass string) error {
		_, err := w.Login(LoginRequest{Username: user, Password: pass, NoticeAccepted: true})
		return err
	}
	var msgs []string
	for i := range 5 {
		err := login("nurse.joy", fmt.Sprintf("wrong-password-%d-xyz", i))
		msgs = append(msgs, problemOf(t, err).Message)
		ghost := login("ghost.user", fmt.Sprintf("wrong-password-%d-xyz", i))
		if problemOf(t, ghost).Message != problemOf(t, err).Message {
			t.Errorf("attempt %d: unknown user %q and real user %q differ", i+1, problemOf(t, ghost).Message, problemOf(t, err).Message)
		}
	}
	if !strings.Contains(msgs[4], "locked") || strings.Contains(msgs[3], "locked") {
		t.Errorf("messages = %q", msgs)
	}
	if err := login("nurse.joy", pw); err == nil || !strings.Contains(problemOf(t, err).Message, "locked") {
		t.Fatalf("6th attempt with the right password: %v", err)
	}
	// A restart keeps the lock.
	Stop(w)
	w = e.window("ward")
	if err := login("nurse.joy", pw); err == nil {
		t.Fatal("lock lost on restart")
	}
	// After the lock (1 minute), one more failure locks again for longer.
	e.clock.t = e.clock.t.Add(61 * time.Second)
	login("nurse.joy", "wrong-password-again-1")
	e.clock.t = e.clock.t.Add(61 * time.Second)
	if err := login("nurse.joy", pw); err == nil {
		t.Fatal("the second lock was not longer than the first")
	}
	users, err := e.admin.ListUsers()
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, u := range users {
		if u.Username == "nurse.joy" {
			id = u.ID
			if u.LockedUntil == "" {
				t.Error("admin list does not show the lock")
			}
		}
	}
	alerts, _ := e.admin.ListAlerts()
	if !slices.ContainsFunc(alerts, func(a Alert) bool { return a.Kind == "lockout" && a.Username == "nurse.joy" }) {
		t.Errorf("no lockout alert: %+v", alerts)
	}
	if _, err := e.admin.UnlockUser(id); err != nil {
		t.Fatal(err)
	}
	if err := login("nurse.joy", pw); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	var n int
	e.admin.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action = 'user.lockout'").Scan(&n)
	if n < 2 {
		t.Errorf("lockouts audited: %d", n)
	}
}

// S19 and S21: an administrator's password is temporary (single use,
// 24 hours, forced change); a new password must be long, uncommon and
// differ in 8 positions.
func TestTemporaryPasswordsAndPolicy(t *testing.T) {
	e := newClinic(t)
	if _, err := e.admin.CreateUser(NewUserRequest{Username: "clerk.sam", Name: "Sam", Roles: []string{auth.RoleClerk}, TemporaryPassword: tempPassword}); err != nil {
		t.Fatal(err)
	}
	w := e.window("desk")
	lr, err := w.Login(LoginRequest{Username: "clerk.sam", Password: tempPassword, NoticeAccepted: true})
	if err != nil || lr.Next != "password" {
		t.Fatalf("temp login: %+v %v", lr, err)
	}
	if st := w.Status(); st.Screen != ScreenPassword {
		t.Fatalf("screen %s", st.Screen)
	}
	if _, err := w.SearchPatients("x"); code(t, err) != ehr.EPassword {
		t.Fatalf("search before the change: %v", err)
	}
	tests := []struct{ next, field string }{
		{"short-one", "new"},
		{"password123456", "new"},
		{"copper-lantern-morning-42", "new"}, // one position from the old
		{tempPassword, "new"},
	}
	for _, tt := range tests {
		err := w.ChangePassword(PasswordChange{Current: tempPassword, New: tt.next})
		if p := problemOf(t, err); p.Fields[tt.field] == "" {
			t.Errorf("new password %q: %+v", tt.next, p)
		}
	}
	if err := w.ChangePassword(PasswordChange{Current: "not-the-password-1", New: "violet-harbor-engine-77"}); problemOf(t, err).Fields["current"] == "" {
		t.Errorf("wrong current password accepted: %v", err)
	}
	if err := w.ChangePassword(PasswordChange{Current: tempPassword, New: "violet-harbor-engine-77"}); err != nil {
		t.Fatal(err)
	}
	if st := w.Status(); st.Screen != ScreenLogin {
		t.Fatalf("after change: %s, want login", st.Screen)
	}
	if _, err := w.Login(LoginRequest{Username: "clerk.sam", Password: tempPassword, NoticeAccepted: true}); err == nil {
		t.Fatal("the temporary password worked twice")
	}
	if lr, err := w.Login(LoginRequest{Username: "clerk.sam", Password: "violet-harbor-engine-77", NoticeAccepted: true}); err != nil || lr.Next != "" {
		t.Fatalf("login with the new password: %+v %v", lr, err)
	}
	// A temporary password lapses after 24 hours.
	if _, err := e.admin.CreateUser(NewUserRequest{Username: "late.lee", Name: "Lee", Roles: []string{auth.RoleNurse}, TemporaryPassword: tempPassword}); err != nil {
		t.Fatal(err)
	}
	e.clock.t = e.clock.t.Add(25 * time.Hour)
	if _, err := w.Login(LoginRequest{Username: "late.lee", Password: tempPassword, NoticeAccepted: true}); err == nil || !strings.Contains(problemOf(t, err).Message, "expired") {
		t.Fatalf("expired temporary password: %v", err)
	}
}

// S18: a change of roles, password or MFA ends that user's sessions.
func TestAccountChangesEndSessions(t *testing.T) {
	e := newClinic(t)
	w, _ := e.user("nurse.ann", auth.RoleNurse)
	users, _ := e.admin.ListUsers()
	var id string
	for _, u := range users {
		if u.Username == "nurse.ann" {
			id = u.ID
		}
	}
	if _, err := w.SearchPatients("x"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.SetUserRoles(RolesRequest{ID: id, Roles: []string{auth.RoleNurse, auth.RoleClerk}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SearchPatients("x"); code(t, err) != ehr.ESession {
		t.Fatalf("after a role change: %v", err)
	}
	w2, _ := e.user("nurse.bob", auth.RoleNurse)
	for _, u := range mustUsers(t, e.admin) {
		if u.Username == "nurse.bob" {
			id = u.ID
		}
	}
	if _, err := e.admin.ResetPassword(PasswordReset{ID: id, TemporaryPassword: "amber-falcon-river-stone-8"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.SearchPatients("x"); code(t, err) != ehr.ESession {
		t.Fatalf("after a password reset: %v", err)
	}
}

func mustUsers(t *testing.T, a *App) []UserInfo {
	t.Helper()
	u, err := a.ListUsers()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// S22 and S34: a 4th concurrent session is refused; a sign-in while the
// account is active elsewhere is audited and alerted.
func TestSessionLimit(t *testing.T) {
	e := newClinic(t)
	_, pw := e.user("dr.kim", auth.RoleClinician)
	for i := range 2 {
		w := e.window(fmt.Sprintf("ward-%d", i))
		if _, err := w.Login(LoginRequest{Username: "dr.kim", Password: pw, NoticeAccepted: true}); err != nil {
			t.Fatalf("session %d: %v", i+2, err)
		}
	}
	w := e.window("ward-9")
	if _, err := w.Login(LoginRequest{Username: "dr.kim", Password: pw, NoticeAccepted: true}); code(t, err) != ehr.EForbidden {
		t.Fatalf("4th session: %v", err)
	}
	alerts, _ := e.admin.ListAlerts()
	if !slices.ContainsFunc(alerts, func(a Alert) bool { return a.Kind == "concurrent-session" && a.Username == "dr.kim" }) {
		t.Errorf("no concurrent-session alert")
	}
}

// S23: idle lock after 15 minutes (10 for administrators), unlock with the
// password, 12-hour limit; settings stay within bounds.
func TestIdleLockAndTimeLimit(t *testing.T) {
	e := newClinic(t)
	w, pw := e.user("dr.lin", auth.RoleClinician)
	e.clock.t = e.clock.t.Add(14 * time.Minute)
	if _, err := w.SearchPatients("x"); err != nil {
		t.Fatalf("at 14 minutes: %v", err)
	}
	e.clock.t = e.clock.t.Add(15 * time.Minute)
	if _, err := w.SearchPatients("x"); code(t, err) != ehr.ELocked {
		t.Fatalf("after 15 idle minutes: %v", err)
	}
	if st := w.Status(); st.Screen != ScreenLocked || st.User == nil {
		t.Fatalf("status: %+v", st)
	}
	if err := w.UnlockSession("wrong-password-000"); err == nil {
		t.Fatal("unlocked with a wrong password")
	}
	if err := w.UnlockSession(pw); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SearchPatients("x"); err != nil {
		t.Fatal(err)
	}
	// The administrator locks after 10 minutes.
	e.clock.t = e.clock.t.Add(11 * time.Minute)
	if _, err := e.admin.ListUsers(); code(t, err) != ehr.ELocked {
		t.Fatalf("admin after 11 idle minutes: %v", err)
	}
	if _, err := w.SearchPatients("x"); err != nil {
		t.Fatalf("clinician at 11 idle minutes: %v", err)
	}
	// 12 hours after sign-in the session ends, however busy.
	for range 12 * 6 {
		e.clock.t = e.clock.t.Add(10 * time.Minute)
		if _, err := w.SearchPatients("x"); err != nil {
			if code(t, err) != ehr.ESession {
				t.Fatalf("at %v: %v", e.clock.t, err)
			}
			break
		}
	}
	if st := w.Status(); st.Screen != ScreenLogin {
		t.Fatalf("after the time limit: %s", st.Screen)
	}
	// Settings are bounded.
	mfaSignIn(t, e.admin, e.clock, "admin.rose", setupReq.Password, e.secret)
	if _, err := e.admin.SaveSettings(auth.Settings{Notice: "short", IdleMinutes: 90, AdminIdleMinutes: 10, AbsoluteHours: 30}); code(t, err) != ehr.EInvalid {
		t.Fatalf("out-of-bounds settings: %v", err)
	}
	s, err := e.admin.SaveSettings(auth.Settings{Notice: DefaultNoticeForTest, IdleMinutes: 5, AdminIdleMinutes: 5, AbsoluteHours: 8, AuditRetentionYears: 10})
	if err != nil || s.IdleMinutes != 5 {
		t.Fatalf("save settings: %+v %v", s, err)
	}
}

const DefaultNoticeForTest = "Use this system only for the care of this clinic's patients."

// S24: an account unused for 35 days is disabled on day 36; only an
// administrator enables it again.
func TestInactiveAccounts(t *testing.T) {
	e := newClinic(t)
	_, pwEve := e.user("nurse.eve", auth.RoleNurse)
	_, pwFay := e.user("nurse.fay", auth.RoleNurse)
	w := e.window("ward")
	e.clock.t = e.clock.t.Add(20 * 24 * time.Hour)
	mfaSignIn(t, e.admin, e.clock, "admin.rose", setupReq.Password, e.secret) // the administrator stays active
	e.clock.t = e.clock.t.Add(14 * 24 * time.Hour)
	mfaSignIn(t, e.admin, e.clock, "admin.rose", setupReq.Password, e.secret)
	if _, err := w.Login(LoginRequest{Username: "nurse.eve", Password: pwEve, NoticeAccepted: true}); err != nil {
		t.Fatalf("day 34: %v", err)
	}
	w.Logout()
	e.clock.t = e.clock.t.Add(2 * 24 * time.Hour)
	if _, err := w.Login(LoginRequest{Username: "nurse.fay", Password: pwFay, NoticeAccepted: true}); err == nil || !strings.Contains(problemOf(t, err).Message, "35 days") {
		t.Fatalf("day 36: %v", err)
	}
	mfaSignIn(t, e.admin, e.clock, "admin.rose", setupReq.Password, e.secret)
	var id string
	for _, u := range mustUsers(t, e.admin) {
		if u.Username == "nurse.fay" {
			id = u.ID
			if !u.Disabled || u.DisabledReason != "inactive" {
				t.Errorf("account = %+v", u)
			}
		}
	}
	if _, err := e.admin.EnableUser(id); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Login(LoginRequest{Username: "nurse.fay", Password: pwFay, NoticeAccepted: true}); err != nil {
		t.Fatalf("after enable: %v", err)
	}
}

// MFA: recovery codes work once; a TOTP code is never accepted twice.
func TestMFARecoveryAndReplay(t *testing.T) {
	e := newClinic(t)
	w := e.window("office")
	e.clock.t = e.clock.t.Add(30 * time.Second)
	c := totp.Code(e.secret, e.clock.t)
	if _, err := w.Login(LoginRequest{Username: "admin.rose", Password: setupReq.Password, NoticeAccepted: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.VerifyMFA(c); err != nil {
		t.Fatal(err)
	}
	w2 := e.window("office-2")
	if _, err := w2.Login(LoginRequest{Username: "admin.rose", Password: setupReq.Password, NoticeAccepted: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.VerifyMFA(c); code(t, err) != ehr.EAuth {
		t.Fatalf("replayed code: %v", err)
	}
}

// Break-glass: a restricted chart opens for others only with a reason,
// for a limited time, audited and alerted.
func TestBreakGlass(t *testing.T) {
	e := newClinic(t)
	doc, _ := e.user("dr.ama", auth.RoleClinician)
	nurse, _ := e.user("nurse.kofi", auth.RoleNurse)
	p := e.patient(doc)
	if _, err := doc.SetPatientRestricted(RestrictRequest{ID: p.ID, Restricted: true, Reason: "staff member"}); err != nil {
		t.Fatal(err)
	}
	if _, err := doc.GetPatient(p.ID); err != nil {
		t.Fatalf("the responsible clinician: %v", err)
	}
	hits, _ := nurse.SearchPatients("moyo")
	if len(hits) != 1 || !hits[0].Restricted {
		t.Fatalf("search: %+v", hits)
	}
	if _, err := nurse.GetPatient(p.ID); code(t, err) != ehr.ERestricted {
		t.Fatalf("restricted chart: %v", err)
	}
	if _, err := nurse.PatientHistory(p.ID); code(t, err) != ehr.ERestricted {
		t.Fatalf("restricted history: %v", err)
	}
	if _, err := nurse.BreakGlass(BreakGlassRequest{PatientID: p.ID, Reason: "x"}); problemOf(t, err).Fields["reason"] == "" {
		t.Fatalf("no reason: %v", err)
	}
	g, err := nurse.BreakGlass(BreakGlassRequest{PatientID: p.ID, Reason: "unconscious at the door, needs allergies"})
	if err != nil {
		t.Fatal(err)
	}
	if g.Until != e.clock.t.Add(time.Hour).Format(time.RFC3339) {
		t.Errorf("until = %s", g.Until)
	}
	if _, err := nurse.GetPatient(p.ID); err != nil {
		t.Fatalf("after break-glass: %v", err)
	}
	alerts, _ := e.admin.ListAlerts()
	if !slices.ContainsFunc(alerts, func(a Alert) bool { return a.Kind == "break-glass" && a.Username == "nurse.kofi" }) {
		t.Errorf("no break-glass alert")
	}
	var reason, detail string
	e.admin.svc.Vault.R.QueryRow("SELECT reason, detail FROM audit WHERE action = 'patient.breakglass'").Scan(&reason, &detail)
	if !strings.Contains(reason, "unconscious at the door") || strings.Contains(detail, "unconscious") {
		t.Errorf("audit reason %q, detail %q: the reason belongs in its own field", reason, detail)
	}
	// 61 minutes later (with activity in between) the grant has lapsed.
	for range 7 {
		e.clock.t = e.clock.t.Add(9 * time.Minute)
		nurse.SearchPatients("x")
	}
	if _, err := nurse.GetPatient(p.ID); code(t, err) != ehr.ERestricted {
		t.Fatalf("after 63 minutes: %v", err)
	}
}

// S1 for accounts: deletion needs a second administrator; the requester
// cannot approve; both steps are audited.
func TestUserDeletionDualControl(t *testing.T) {
	e := newClinic(t)
	second, _ := e.user("admin.two", auth.RoleAdmin)
	e.user("leaver", auth.RoleNurse)
	var id string
	for _, u := range mustUsers(t, e.admin) {
		if u.Username == "leaver" {
			id = u.ID
		}
	}
	req, err := e.admin.RequestUserDeletion(DeletionAsk{ID: id, Reason: "left the clinic"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.admin.ApproveUserDeletion(req.ID); code(t, err) != ehr.EForbidden {
		t.Fatalf("self-approval: %v", err)
	}
	if !e.audited(t, "user.delete_approve", "") {
		t.Error("the refused self-approval was not audited")
	}
	for _, u := range mustUsers(t, e.admin) {
		if u.Username == "leaver" && u.Disabled {
			t.Fatal("deleted before approval")
		}
	}
	pending, _ := second.ListDeletionRequests()
	if len(pending) != 1 || pending[0].Username != "leaver" || pending[0].RequestedBy != "admin.rose" {
		t.Fatalf("pending = %+v", pending)
	}
	if err := second.ApproveUserDeletion(req.ID); err != nil {
		t.Fatal(err)
	}
	for _, u := range mustUsers(t, second) {
		if u.Username == "leaver" && (!u.Disabled || u.DisabledReason != "deleted") {
			t.Fatalf("after approval: %+v", u)
		}
	}
	var n int
	e.admin.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action IN ('user.delete_request', 'user.delete_approve') AND outcome = 'success'").Scan(&n)
	if n != 2 {
		t.Errorf("audited steps = %d, want 2", n)
	}
}

// S5: the notice is accepted before any data, and the acceptance audited.
func TestNoticeAcknowledgementAudited(t *testing.T) {
	e := newClinic(t)
	var n int
	e.admin.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action = 'notice.accept'").Scan(&n)
	if n < 1 {
		t.Fatal("notice acceptance not audited")
	}
	w := e.window("x")
	if _, err := w.Login(LoginRequest{Username: "admin.rose", Password: setupReq.Password}); problemOf(t, err).Fields["noticeAccepted"] == "" {
		t.Fatalf("login without accepting: %v", err)
	}
}

// Status polls do not keep an idle session open; KeepAlive (user input
// without other calls) does.
func TestStatusIsNotActivity(t *testing.T) {
	e := newClinic(t)
	polling, _ := e.user("dr.poll", auth.RoleClinician)
	typing, _ := e.user("dr.typing", auth.RoleClinician)
	for range 20 { // twenty minutes: one poll, or one burst of typing, a minute
		e.clock.t = e.clock.t.Add(time.Minute)
		polling.Status()
		typing.Status()
		if err := typing.KeepAlive(); err != nil {
			t.Fatal(err)
		}
	}
	if st := polling.Status(); st.Screen != ScreenLocked {
		t.Fatalf("after 20 minutes of polls only: %s, want locked", st.Screen)
	}
	if st := typing.Status(); st.Screen != ScreenHome {
		t.Fatalf("after 20 minutes of input: %s, want home", st.Screen)
	}
}
