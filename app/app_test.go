package app

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	"outpost/backend/totp"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

var fastPasswords = auth.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}

type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

func newApp(t *testing.T, dir string, kr vault.Keyring) (*App, *testClock) {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 5, 4, 8, 30, 0, 0, time.UTC)}
	a := New(Config{DataDir: dir, Keyring: kr, Now: clock.Now, Rand: rand.Reader, Version: "test",
		Workstation: "ws-test", Argon2: vaulttest.FastArgon2, Passwords: fastPasswords})
	Start(context.Background(), a)
	t.Cleanup(func() { Stop(a) })
	return a, clock
}

var setupReq = clinic.SetupRequest{Clinic: "Lakeside Health Post", AdminUsername: "admin.rose", AdminName: "Rose Admin",
	Password: "lantern-harbor-quiet-47", KeyStore: vault.StoreKeyring}

func problemOf(t *testing.T, err error) *Problem {
	t.Helper()
	var p *Problem
	if !errors.As(err, &p) {
		t.Fatalf("error %v (%T) is not a *Problem", err, err)
	}
	return p
}

func signedIn(t *testing.T) (*App, *testClock) {
	t.Helper()
	a, clock := newApp(t, t.TempDir(), vaulttest.NewKeyring())
	if _, err := a.Setup(setupReq); err != nil {
		t.Fatalf("setup: %v", err)
	}
	enrolAndSignIn(t, a, clock, "admin.rose", setupReq.Password)
	return a, clock
}

// enrolAndSignIn takes an administrator through the first sign-in: MFA
// enrolment (which ends the session), then a sign-in with the new factor.
// It returns the TOTP secret.
func enrolAndSignIn(t *testing.T, a *App, clock *testClock, user, password string) totp.Secret {
	t.Helper()
	lr, err := a.Login(LoginRequest{Username: user, Password: password, NoticeAccepted: true})
	if err != nil || lr.Next != "enroll" {
		t.Fatalf("first login: next %q, %v", lr.Next, err)
	}
	en, err := a.BeginMFAEnrollment()
	if err != nil {
		t.Fatal(err)
	}
	secret, err := totp.ParseBase32(en.Secret)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := a.ConfirmMFAEnrollment(totp.Code(secret, clock.t))
	if err != nil || len(rec.RecoveryCodes) != 10 {
		t.Fatalf("confirm enrolment: %v", err)
	}
	if st := a.Status(); st.Screen != ScreenLogin {
		t.Fatalf("after enrolment: %s, want login", st.Screen)
	}
	mfaSignIn(t, a, clock, user, password, secret)
	return secret
}

func mfaSignIn(t *testing.T, a *App, clock *testClock, user, password string, secret totp.Secret) {
	t.Helper()
	clock.t = clock.t.Add(30 * time.Second) // a code is never accepted twice
	lr, err := a.Login(LoginRequest{Username: user, Password: password, NoticeAccepted: true})
	if err != nil || lr.Next != "mfa" {
		t.Fatalf("login: next %q, %v", lr.Next, err)
	}
	if _, err := a.VerifyMFA(totp.Code(secret, clock.t)); err != nil {
		t.Fatalf("verify mfa: %v", err)
	}
	if st := a.Status(); st.Screen != ScreenHome || !st.User.MFAEnabled {
		t.Fatalf("after mfa: %s (mfa enabled %v), want home with mfa", st.Screen, st.User != nil && st.User.MFAEnabled)
	}
}

func TestFirstRunToHistory(t *testing.T) {
	dir := t.TempDir()
	kr := vaulttest.NewKeyring()
	a, clock := newApp(t, dir, kr)
	if got := a.Status(); got.Screen != ScreenSetup || !got.KeyringAvailable {
		t.Fatalf("first status = %+v", got)
	}
	bad := setupReq
	bad.Password, bad.AdminUsername, bad.Clinic = "short", "9bad name", ""
	_, err := a.Setup(bad)
	p := problemOf(t, err)
	for _, f := range []string{"password", "adminUsername", "clinic"} {
		if p.Fields[f] == "" {
			t.Errorf("no field message for %s: %+v", f, p.Fields)
		}
	}
	if _, err := vault.ReadMeta(dir); !errors.Is(err, vault.ErrNoVault) {
		t.Fatalf("invalid setup created a vault: %v", err)
	}
	res, err := a.Setup(setupReq)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if len(res.RecoveryKey) != 44 {
		t.Errorf("recovery key %q", res.RecoveryKey)
	}
	if _, err := a.Setup(setupReq); problemOf(t, err).Code != ehr.EForbidden {
		t.Errorf("second setup: %v", err)
	}
	st := a.Status()
	if st.Screen != ScreenLogin || st.Clinic != "Lakeside Health Post" || st.Notice == "" {
		t.Fatalf("status after setup = %+v", st)
	}
	if _, err := a.Login(LoginRequest{Username: "admin.rose", Password: setupReq.Password}); problemOf(t, err).Code != ehr.EInvalid {
		t.Fatalf("login without accepting the notice: %v", err)
	}
	_, errUnknown := a.Login(LoginRequest{Username: "nobody", Password: "whatever-password", NoticeAccepted: true})
	_, errWrong := a.Login(LoginRequest{Username: "admin.rose", Password: "wrong-password-123", NoticeAccepted: true})
	if pu, pw := problemOf(t, errUnknown), problemOf(t, errWrong); pu.Code != ehr.EAuth || pu.Message != pw.Message || pw.Code != ehr.EAuth {
		t.Fatalf("unknown user %+v and wrong password %+v must look the same", pu, pw)
	}
	clock.t = clock.t.Add(time.Hour)
	lr, err := a.Login(LoginRequest{Username: " Admin.Rose ", Password: setupReq.Password, NoticeAccepted: true})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if lr.LastLogin != nil || len(lr.FailedSince) != 1 || lr.Next != "enroll" {
		t.Errorf("first login: last %+v, failed since %+v, next %q (want none, one, enroll)", lr.LastLogin, lr.FailedSince, lr.Next)
	}
	if st := a.Status(); st.Screen != ScreenEnroll || st.User == nil || st.User.Username != "admin.rose" {
		t.Fatalf("status after login = %+v", st)
	}
	if _, err := a.SearchPatients("x"); problemOf(t, err).Code != ehr.EMFA {
		t.Fatalf("search before enrolment: %v", err)
	}
	secret := enrolAndSignIn(t, a, clock, "admin.rose", setupReq.Password)

	in := ehr.PatientInput{Family: "Schmidt", Given: "Catherine", Sex: "female", BirthDate: "1982-04-17", Village: "Lowland"}
	fields, err := a.ValidatePatient(ehr.PatientInput{Family: "Schmidt", BirthDate: "1982-13-40"})
	if err != nil || fields["sex"] == "" || fields["birthDate"] == "" {
		t.Fatalf("validate: %v %v", fields, err)
	}
	if _, err := a.RegisterPatient(ehr.PatientInput{Family: "<script>"}); problemOf(t, err).Code != ehr.EInvalid {
		t.Fatalf("invalid patient: %v", err)
	}
	pat, err := a.RegisterPatient(in)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if pat.Age != "44 y" || !strings.HasSuffix(pat.ClinicNo, "-00001") {
		t.Errorf("registered %+v", pat)
	}
	hits, err := a.SearchPatients("shmidt")
	if err != nil || len(hits) != 1 || hits[0].ID != pat.ID {
		t.Fatalf("search misspelt: %+v %v", hits, err)
	}
	clock.t = clock.t.Add(5 * time.Minute)
	in.Village = "Upland"
	up, err := a.UpdatePatient(UpdateRequest{ID: pat.ID, BaseVersionID: pat.VersionID, Patient: in, Reason: "moved"})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if _, err := a.UpdatePatient(UpdateRequest{ID: pat.ID, BaseVersionID: pat.VersionID, Patient: in, Reason: "again"}); problemOf(t, err).Code != ehr.EConflict {
		t.Fatalf("stale update: %v", err)
	}
	hist, err := a.PatientHistory(pat.ID)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(hist) != 2 || hist[0].VersionID != up.VersionID || hist[0].Reason != "moved" || hist[0].Author != "admin.rose" {
		t.Fatalf("history = %+v", hist)
	}
	if got, want := hist[0].Changes, []Change{{Field: "village", Label: "Village", Old: "Lowland", New: "Upland"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("changes = %+v, want %+v", got, want)
	}
	if err := a.Logout(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetPatient(pat.ID); problemOf(t, err).Code != ehr.ESession {
		t.Fatalf("read after logout: %v", err)
	}

	// The same vault opens again on the next start, with the key from the keyring.
	Stop(a)
	b := New(Config{DataDir: dir, Keyring: kr, Now: clock.Now, Rand: rand.Reader, Version: "test",
		Workstation: "ws-test", Argon2: vaulttest.FastArgon2, Passwords: fastPasswords})
	Start(context.Background(), b)
	t.Cleanup(func() { Stop(b) })
	if st := b.Status(); st.Screen != ScreenLogin {
		t.Fatalf("restart status = %+v", st)
	}
	clock.t = clock.t.Add(30 * time.Second)
	lr, err = b.Login(LoginRequest{Username: "admin.rose", Password: setupReq.Password, NoticeAccepted: true})
	if err != nil || lr.LastLogin == nil || lr.LastLogin.Workstation != "ws-test" || lr.Next != "mfa" {
		t.Fatalf("second login: %+v %v", lr, err)
	}
	if _, err := b.VerifyMFA(totp.Code(secret, clock.t)); err != nil {
		t.Fatalf("mfa after restart: %v", err)
	}
}

// P1: every bound method, enumerated by reflection so that none can be
// forgotten, refuses to act without a session.
func TestEveryBoundMethodNeedsASession(t *testing.T) {
	a, _ := signedIn(t)
	pat, err := a.RegisterPatient(ehr.PatientInput{Family: "Osei", Given: "Ama", Sex: "female", AgeYears: "30"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(); err != nil {
		t.Fatal(err)
	}
	v := reflect.ValueOf(a)
	tested := 0
	for i := 0; i < v.NumMethod(); i++ {
		name := v.Type().Method(i).Name
		if methodPerms[name] == public {
			continue
		}
		m := v.Method(i)
		args := make([]reflect.Value, m.Type().NumIn())
		for j := range args {
			args[j] = reflect.New(m.Type().In(j)).Elem()
			if args[j].Kind() == reflect.String {
				args[j].SetString(pat.ID) // a real id, so only the session can stop it
			}
		}
		out := m.Call(args)
		last := out[len(out)-1]
		err, ok := last.Interface().(error)
		if !ok || err == nil {
			t.Errorf("%s ran without a session", name)
			continue
		}
		if got := problemOf(t, err).Code; got != ehr.ESession {
			t.Errorf("%s without a session: code %s, want %s", name, got, ehr.ESession)
		}
		tested++
	}
	if tested < 6 {
		t.Fatalf("only %d methods checked", tested)
	}
}

func TestInternalErrorsCarryNoDetail(t *testing.T) {
	a, _ := signedIn(t)
	queued, err := a.svc.Records.Outbox(context.Background()) // the accounts' versions
	if err != nil {
		t.Fatal(err)
	}
	// Break the audit table for real: every audited action must now fail closed.
	if _, err := a.svc.Vault.W.Exec("CREATE TEMP TRIGGER broken BEFORE INSERT ON main.audit BEGIN SELECT RAISE(ABORT, 'SQLITE disk I/O /var/lib/x'); END"); err != nil {
		t.Fatal(err)
	}
	_, err = a.RegisterPatient(ehr.PatientInput{Family: "Osei", Given: "Ama", Sex: "female", AgeYears: "30"})
	p := problemOf(t, err)
	if p.Code != ehr.EInternal || p.Incident == "" {
		t.Fatalf("problem = %+v", p)
	}
	for _, leak := range []string{"SQL", "INSERT", "audit", "/", "goroutine", ".go:", "RAISE"} {
		if strings.Contains(p.Message, leak) {
			t.Errorf("message %q leaks %q", p.Message, leak)
		}
	}
	if n, _ := a.svc.Records.Outbox(context.Background()); n != queued {
		t.Errorf("%d versions queued although the audit failed", n-queued)
	}
	// S35: the refusal raised an alert for the officer (once, however
	// many actions are refused).
	if _, err := a.GetPatient("0190a0b0-0000-7000-8000-000000000000"); err == nil {
		t.Fatal("a read went through without its audit event")
	}
	deadline := time.Now().Add(5 * time.Second)
	var n int
	for time.Now().Before(deadline) {
		if err := a.svc.Vault.R.QueryRow("SELECT count(*) FROM alerts WHERE kind = 'audit-failure'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let a second alarm (there must be none) land
	a.svc.Vault.R.QueryRow("SELECT count(*) FROM alerts WHERE kind = 'audit-failure'").Scan(&n)
	if n != 1 {
		t.Errorf("%d audit-failure alerts, want 1", n)
	}
}

func TestFatalScreenForDamagedVault(t *testing.T) {
	dir := t.TempDir()
	kr := vaulttest.NewKeyring()
	a, _ := newApp(t, dir, kr)
	if _, err := a.Setup(setupReq); err != nil {
		t.Fatal(err)
	}
	Stop(a)
	p := filepath.Join(dir, vault.DBFile)
	st, _ := os.Stat(p)
	if err := os.Truncate(p, st.Size()-10); err != nil {
		t.Fatal(err)
	}
	b, _ := newApp(t, dir, kr)
	s := b.Status()
	if s.Screen != ScreenFatal || s.Problem == nil || s.Problem.Code != ehr.EVault || s.Problem.Incident == "" {
		t.Fatalf("status = %+v", s)
	}
	if strings.Contains(s.Problem.Message, dir) {
		t.Errorf("message names the path: %q", s.Problem.Message)
	}
	if _, err := b.Login(LoginRequest{Username: "admin.rose", Password: setupReq.Password, NoticeAccepted: true}); err == nil {
		t.Fatal("login on a damaged vault")
	}
	if _, err := b.Setup(setupReq); problemOf(t, err).Code != ehr.EForbidden {
		t.Fatalf("setup over a damaged vault: %v", err)
	}
}

func TestNoKeyringOffersPassphrase(t *testing.T) {
	dir := t.TempDir()
	kr := vaulttest.NewKeyring()
	kr.Broken = true
	a, _ := newApp(t, dir, kr)
	st := a.Status()
	if st.KeyringAvailable || !strings.Contains(st.KeyringHelp, "gnome-keyring") {
		t.Fatalf("status = %+v", st)
	}
	if _, err := a.Setup(setupReq); problemOf(t, err).Code != ehr.EKeyring {
		t.Fatalf("keyring setup without keyring: %v", err)
	}
	req := setupReq
	req.KeyStore, req.Passphrase = vault.StorePassphrase, "river stones at dawn 1987"
	if _, err := a.Setup(req); err != nil {
		t.Fatalf("passphrase setup: %v", err)
	}
	Stop(a)
	b, _ := newApp(t, dir, kr)
	if st := b.Status(); st.Screen != ScreenUnlock {
		t.Fatalf("status = %+v", st)
	}
	if err := b.Unlock("not the passphrase"); problemOf(t, err).Code != ehr.EAuth {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if err := b.Unlock(req.Passphrase); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if st := b.Status(); st.Screen != ScreenLogin {
		t.Fatalf("status after unlock = %+v", st)
	}
}
