package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	outsync "outpost/backend/sync"
	"outpost/backend/sync/synctest"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

// The sync tests run the real outpost-server as a process (synctest): the
// app's test binary never links the server's SQLite driver.

var (
	serverOnce gosync.Once
	serverBin  string
	serverDir  string
	serverErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if serverDir != "" {
		os.RemoveAll(serverDir)
	}
	os.Exit(code)
}

func startServer(t *testing.T) *synctest.Server {
	t.Helper()
	serverOnce.Do(func() {
		if serverDir, serverErr = os.MkdirTemp("", "outpost-app-sync-"); serverErr == nil {
			serverBin, serverErr = synctest.Build(serverDir)
		}
	})
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	return synctest.Start(t, serverBin)
}

const clinicID = "hill"

func connectReq(t *testing.T, srv *synctest.Server) clinic.ConnectRequest {
	return clinic.ConnectRequest{Server: srv.Base, Fingerprint: srv.Fingerprint, Token: srv.Token(t, clinicID, "Hill Clinic"), DeviceName: "Front desk"}
}

// syncNow asks a for a sync and waits until one that began after the
// request has finished.
func syncNow(t *testing.T, a *App) SyncState {
	t.Helper()
	a.mu.Lock()
	l, svc := a.loop, a.svc
	a.mu.Unlock()
	if l == nil {
		t.Fatal("no sync loop")
	}
	l.Kick()
	want := l.State().Kicks
	for deadline := time.Now().Add(60 * time.Second); ; {
		if s := l.State(); s.Served >= want && !s.Syncing || s.Erased {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync did not finish: %+v", l.State())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if svc == nil {
		return SyncState{}
	}
	return a.syncState(context.Background(), svc)
}

// joinedLaptop makes an enrollment package on from and joins a new
// laptop (own data folder and keyring) with it, waiting until done.
func joinedLaptop(t *testing.T, e *clinicEnv, from *App, srv *synctest.Server) *App {
	t.Helper()
	pkg, err := from.CreateEnrollmentPackage(EnrollmentPackageRequest{Token: srv.Token(t, clinicID, "Hill Clinic"), LaptopName: "Ward laptop"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(e.saves, pkg.Saved.Name))
	if err != nil {
		t.Fatal(err)
	}
	b := New(Config{DataDir: t.TempDir(), Keyring: vaulttest.NewKeyring(), Now: e.clock.Now, Rand: rand.Reader, Version: "test",
		Workstation: "ward-pc", Argon2: vaulttest.FastArgon2, Passwords: fastPasswords, Save: FolderSaver(t.TempDir())})
	Start(context.Background(), b)
	t.Cleanup(func() { Stop(b) })
	if _, err := b.JoinClinic(JoinRequest{Package: base64.StdEncoding.EncodeToString(data), Code: strings.ToLower(pkg.Code),
		DeviceName: "Ward laptop", KeyStore: vault.StoreKeyring}); err != nil {
		t.Fatal(err)
	}
	p := waitJoin(t, b)
	if p.Phase != JoinDone || p.RecoveryKey == "" || p.Clinic != setupReq.Clinic {
		t.Fatalf("join ended %+v (problem %+v)", p, p.Problem)
	}
	if p.Done == 0 || p.Done != p.Total {
		t.Errorf("join progress %d of %d", p.Done, p.Total)
	}
	if again, _ := b.JoinStatus(); again.RecoveryKey != "" {
		t.Error("the recovery key was shown twice")
	}
	if st := b.Status(); st.Screen != ScreenLogin || st.Clinic != setupReq.Clinic {
		t.Errorf("after join: screen %q clinic %q", st.Screen, st.Clinic)
	}
	return b
}

func waitJoin(t *testing.T, b *App) JoinProgress {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		p, err := b.JoinStatus()
		if err != nil {
			t.Fatal(err)
		}
		if p.Phase == JoinDone || p.Phase == JoinFailed {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("join stuck at %+v", p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// localClinician signs in a clinician made on this laptop only (the
// accounts of other laptops arrive by sync once that lands).
func localClinician(t *testing.T, a *App, username string) {
	t.Helper()
	ctx := context.Background()
	tx, err := a.svc.Vault.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Users.CreateUser(ctx, tx, "test", auth.NewUser{Username: username, Name: "Dr " + username,
		Password: "harbor-violet-engine-93", Roles: []string{auth.RoleClinician}}); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if lr, err := a.Login(LoginRequest{Username: username, Password: "harbor-violet-engine-93", NoticeAccepted: true}); err != nil || lr.Next != "" {
		t.Fatalf("login %s: %+v %v", username, lr, err)
	}
}

func countRows(t *testing.T, a *App, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.svc.Vault.R.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The first laptop connects: bad input, a wrong fingerprint, an
// unreachable server and a refused token each get their own message;
// then the right ones enrol it and it syncs, with the pending count.
func TestSyncConnectServer(t *testing.T) {
	srv := startServer(t)
	e := newClinic(t)
	st0, err := e.admin.SyncStatus()
	if err != nil {
		t.Fatal(err)
	}
	e.patient(e.admin)
	if st, err := e.admin.SyncStatus(); err != nil || st.Enrolled || st.Pending != st0.Pending+1 {
		t.Fatalf("before connecting: %+v %v", st, err)
	}
	if _, err := e.admin.SyncNow(); code(t, err) != ehr.EConflict {
		t.Errorf("SyncNow before connecting: %v", err)
	}
	good := connectReq(t, srv)
	wrongFP := []byte(srv.Fingerprint)
	if wrongFP[0] = 'A'; srv.Fingerprint[0] == 'A' {
		wrongFP[0] = 'B'
	}
	closed := "https://127.0.0.1:1"
	for _, tc := range []struct {
		name      string
		req       clinic.ConnectRequest
		wantCode  string
		wantField string
	}{
		{"no server", clinic.ConnectRequest{Fingerprint: good.Fingerprint, Token: good.Token, DeviceName: "Front desk"}, ehr.EInvalid, "server"},
		{"plain http", clinic.ConnectRequest{Server: "http://" + srv.Addr, Fingerprint: good.Fingerprint, Token: good.Token, DeviceName: "Front desk"}, ehr.EInvalid, "server"},
		{"url with a path", clinic.ConnectRequest{Server: srv.Base + "/x?y=1", Fingerprint: good.Fingerprint, Token: good.Token, DeviceName: "Front desk"}, ehr.EInvalid, "server"},
		{"short fingerprint", clinic.ConnectRequest{Server: srv.Base, Fingerprint: good.Fingerprint[:40], Token: good.Token, DeviceName: "Front desk"}, ehr.EInvalid, "fingerprint"},
		{"malformed token", clinic.ConnectRequest{Server: srv.Base, Fingerprint: good.Fingerprint, Token: "1234", DeviceName: "Front desk"}, ehr.EInvalid, "token"},
		{"no name", clinic.ConnectRequest{Server: srv.Base, Fingerprint: good.Fingerprint, Token: good.Token, DeviceName: " "}, ehr.EInvalid, "deviceName"},
		{"wrong fingerprint", clinic.ConnectRequest{Server: srv.Base, Fingerprint: string(wrongFP), Token: good.Token, DeviceName: "Front desk"}, "E_CERTIFICATE", ""},
		{"unreachable", clinic.ConnectRequest{Server: closed, Fingerprint: good.Fingerprint, Token: good.Token, DeviceName: "Front desk"}, "E_OFFLINE", ""},
		{"unknown token", clinic.ConnectRequest{Server: srv.Base, Fingerprint: good.Fingerprint, Token: "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH", DeviceName: "Front desk"}, "E_ENROLL", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.admin.ConnectServer(tc.req)
			p := problemOf(t, err)
			if p.Code != tc.wantCode {
				t.Fatalf("code = %q, want %q (%s)", p.Code, tc.wantCode, p.Message)
			}
			if tc.wantField != "" && p.Fields[tc.wantField] == "" {
				t.Errorf("fields = %v, want %s", p.Fields, tc.wantField)
			}
			if strings.Contains(p.Message, srv.Addr) || strings.Contains(p.Message, "tls") || p.Incident == "" {
				t.Errorf("message %q (incident %q)", p.Message, p.Incident)
			}
		})
	}
	// The good token was not spent by the refusals (the wrong pin failed
	// the handshake before anything was sent).
	st, err := e.admin.ConnectServer(good)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Enrolled || st.DeviceID == "" || st.Server != srv.Base || st.Fingerprint != srv.Fingerprint || st.DeviceName != "Front desk" {
		t.Errorf("connected: %+v", st)
	}
	if _, err := e.admin.ConnectServer(connectReq(t, srv)); code(t, err) != ehr.EConflict {
		t.Errorf("connecting twice: %v", err)
	}
	st = syncNow(t, e.admin)
	if !st.Online || st.LastSync == "" || st.LastErrorCode != "" || st.Pending != 0 || st.Conflicts != 0 || st.AuditShippedAt == "" {
		t.Errorf("after sync: %+v", st)
	}
	// Settings survive a restart; the loop starts with the vault.
	w := e.window("second-pc")
	if w.loop == nil {
		t.Fatal("no loop after a restart of an enrolled laptop")
	}
	if got := w.syncSettings; got.DeviceID != st.DeviceID || got.Server != srv.Base {
		t.Errorf("settings after restart: %+v", got)
	}
	// A clerk may not connect or make packages.
	clerk, _ := e.user("clerk.c", auth.RoleClerk)
	if _, err := clerk.ConnectServer(good); code(t, err) != ehr.EForbidden {
		t.Errorf("clerk ConnectServer: %v", err)
	}
	if s, err := clerk.SyncStatus(); err != nil || !s.Enrolled {
		t.Errorf("clerk SyncStatus: %+v %v", s, err)
	}
}

// Soon after a local change (debounced) the loop syncs by itself.
func TestSyncAfterLocalChange(t *testing.T) {
	srv := startServer(t)
	e := newClinic(t)
	if _, err := e.admin.ConnectServer(connectReq(t, srv)); err != nil {
		t.Fatal(err)
	}
	syncNow(t, e.admin)
	// Another window on the same (enrolled) vault whose clock the test
	// moves; its loop starts with the vault, before anyone signs in.
	lc := &lockedClock{t: e.clock.Now()}
	w := New(Config{DataDir: e.dir, Keyring: e.kr, Now: lc.Now, Rand: rand.Reader, Version: "test", Workstation: "clocked",
		Argon2: vaulttest.FastArgon2, Passwords: fastPasswords, SyncPoll: 5 * time.Millisecond})
	Start(context.Background(), w)
	t.Cleanup(func() { Stop(w) })
	l := w.loop
	waitFor(t, "the sync at start", func() bool { s := l.State(); return s.Attempts == 1 && !s.Syncing })
	e.patient(e.admin)
	waitFor(t, "pending 1", func() bool { return l.State().Pending > 0 })
	time.Sleep(50 * time.Millisecond)
	if got := l.State().Attempts; got != 1 {
		t.Fatalf("synced before the debounce: %d attempts", got)
	}
	lc.add(11 * time.Second)
	waitFor(t, "the debounced sync", func() bool { s := l.State(); return s.Attempts == 2 && !s.Syncing && s.Pending == 0 })
	// Every two minutes anyway.
	lc.add(2*time.Minute + time.Second)
	waitFor(t, "the periodic sync", func() bool { return l.State().Attempts == 3 })
}

// lockedClock is a test clock the loop's goroutine may read while the
// test moves it.
type lockedClock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *lockedClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *lockedClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// An administrator makes a package; a new laptop joins with it and holds
// the first laptop's patients once JoinStatus says done. A wrong code is
// a field message; a spent token fails the join and keeps nothing.
func TestSyncJoinClinic(t *testing.T) {
	srv := startServer(t)
	e := newClinic(t)
	if _, err := e.admin.CreateEnrollmentPackage(EnrollmentPackageRequest{Token: srv.Token(t, clinicID, "Hill Clinic"), LaptopName: "Ward"}); code(t, err) != ehr.EConflict {
		t.Errorf("package before connecting: %v", err)
	}
	if _, err := e.admin.ConnectServer(connectReq(t, srv)); err != nil {
		t.Fatal(err)
	}
	for _, family := range []string{"Banda", "Phiri", "Mwale"} {
		if _, err := e.admin.RegisterPatient(ehr.PatientInput{Family: family, Given: "Grace", Sex: "female", BirthDate: "1980-02-02"}); err != nil {
			t.Fatal(err)
		}
	}
	syncNow(t, e.admin)

	// Refusals of the package form.
	for _, tc := range []struct {
		req   EnrollmentPackageRequest
		field string
	}{
		{EnrollmentPackageRequest{Token: "", LaptopName: "Ward"}, "token"},
		{EnrollmentPackageRequest{Token: srv.Token(t, clinicID, "Hill Clinic"), LaptopName: ""}, "laptopName"},
	} {
		_, err := e.admin.CreateEnrollmentPackage(tc.req)
		if p := problemOf(t, err); p.Code != ehr.EInvalid || p.Fields[tc.field] == "" {
			t.Errorf("%+v: %+v", tc.req, p)
		}
	}

	b := joinedLaptop(t, e, e.admin, srv)
	if got := countRows(t, b, "SELECT count(*) FROM patients"); got != 3 {
		t.Errorf("joined laptop holds %d patients, want 3", got)
	}
	if got, want := countRows(t, b, "SELECT count(*) FROM versions"), countRows(t, e.admin, "SELECT count(*) FROM versions"); got != want {
		t.Errorf("joined laptop holds %d versions, the first %d", got, want)
	}
	if b.loop == nil {
		t.Error("the joined laptop does not sync in the background")
	}
	// The package's contents never reach the audit trail.
	var leaked int
	e.admin.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE detail LIKE '%' || ? || '%'", e.admin.syncSettings.Fingerprint[:20]).Scan(&leaked)
	if leaked != 0 {
		t.Error("the audit trail holds the package's fingerprint")
	}

	// Join refusals on yet another new laptop.
	pkg, err := e.admin.CreateEnrollmentPackage(EnrollmentPackageRequest{Token: srv.Token(t, clinicID, "Hill Clinic"), LaptopName: "Spare"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(e.saves, pkg.Saved.Name))
	data := base64.StdEncoding.EncodeToString(raw)
	dir := t.TempDir()
	c := New(Config{DataDir: dir, Keyring: vaulttest.NewKeyring(), Now: e.clock.Now, Rand: rand.Reader, Version: "test",
		Workstation: "spare", Argon2: vaulttest.FastArgon2, Passwords: fastPasswords})
	Start(context.Background(), c)
	t.Cleanup(func() { Stop(c) })
	if _, err := c.JoinStatus(); code(t, err) != ehr.ENotFound {
		t.Errorf("JoinStatus before a join: %v", err)
	}
	for _, tc := range []struct {
		name  string
		req   JoinRequest
		field string
	}{
		{"no package", JoinRequest{Code: pkg.Code, DeviceName: "Spare", KeyStore: vault.StoreKeyring}, "package"},
		{"not base64", JoinRequest{Package: "%%%", Code: pkg.Code, DeviceName: "Spare", KeyStore: vault.StoreKeyring}, "package"},
		{"no code", JoinRequest{Package: data, DeviceName: "Spare", KeyStore: vault.StoreKeyring}, "code"},
		{"no name", JoinRequest{Package: data, Code: pkg.Code, KeyStore: vault.StoreKeyring}, "deviceName"},
		{"no key store", JoinRequest{Package: data, Code: pkg.Code, DeviceName: "Spare"}, "keyStore"},
		{"short passphrase", JoinRequest{Package: data, Code: pkg.Code, DeviceName: "Spare", KeyStore: vault.StorePassphrase, Passphrase: "short"}, "passphrase"},
		{"wrong code", JoinRequest{Package: data, Code: "AAAAA-BBBBB-CCCCC-DDDDD", DeviceName: "Spare", KeyStore: vault.StoreKeyring}, "code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.JoinClinic(tc.req)
			if p := problemOf(t, err); p.Code != ehr.EInvalid || p.Fields[tc.field] == "" {
				t.Errorf("got %+v, want a message for %s", p, tc.field)
			}
		})
	}
	// The token is spent by another laptop first: the join fails and the
	// new vault is erased; the setup screen is back.
	pkg2, _ := e.admin.CreateEnrollmentPackage(EnrollmentPackageRequest{Token: srv.Token(t, clinicID, "Hill Clinic"), LaptopName: "Spare"})
	raw2, _ := os.ReadFile(filepath.Join(e.saves, pkg2.Saved.Name))
	if _, err := c.JoinClinic(JoinRequest{Package: data, Code: pkg.Code, DeviceName: "Spare", KeyStore: vault.StoreKeyring}); err != nil {
		t.Fatal(err)
	}
	if p := waitJoin(t, c); p.Phase != JoinDone {
		t.Fatalf("first join: %+v %+v", p, p.Problem)
	}
	d := New(Config{DataDir: t.TempDir(), Keyring: vaulttest.NewKeyring(), Now: e.clock.Now, Rand: rand.Reader, Version: "test",
		Workstation: "spare2", Argon2: vaulttest.FastArgon2, Passwords: fastPasswords})
	Start(context.Background(), d)
	t.Cleanup(func() { Stop(d) })
	if _, err := d.JoinClinic(JoinRequest{Package: data, Code: pkg.Code, DeviceName: "Spare two", KeyStore: vault.StoreKeyring}); err != nil {
		t.Fatal(err)
	}
	p := waitJoin(t, d)
	if p.Phase != JoinFailed || p.Problem == nil || p.Problem.Code != "E_ENROLL" || !strings.Contains(p.Problem.Message, "Nothing was kept") {
		t.Errorf("join with a spent token: %+v %+v", p, p.Problem)
	}
	if _, err := vault.ReadMeta(d.cfg.DataDir); !errors.Is(err, vault.ErrNoVault) {
		t.Errorf("a failed join left a vault: %v", err)
	}
	if st := d.Status(); st.Screen != ScreenSetup {
		t.Errorf("after a failed join: screen %q", st.Screen)
	}
	// And it can try again with a fresh package.
	if _, err := d.JoinClinic(JoinRequest{Package: base64.StdEncoding.EncodeToString(raw2), Code: pkg2.Code, DeviceName: "Spare two", KeyStore: vault.StoreKeyring}); err != nil {
		t.Fatal(err)
	}
	if p := waitJoin(t, d); p.Phase != JoinDone {
		t.Errorf("second try: %+v %+v", p, p.Problem)
	}
}

// A join interrupted before its first sync completed (the app closed,
// the computer stopped) leaves a vault marked unfinished: the next start
// erases it and shows the setup screen again.
func TestJoinUnfinishedIsErased(t *testing.T) {
	srv := startServer(t)
	e := newClinic(t)
	if _, err := e.admin.ConnectServer(connectReq(t, srv)); err != nil {
		t.Fatal(err)
	}
	b := joinedLaptop(t, e, e.admin, srv)
	Stop(b)
	o := vault.Options{Dir: b.cfg.DataDir, Keyring: b.cfg.Keyring}
	v, err := vault.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.W.Exec("INSERT INTO meta (key, value) VALUES ('join_unfinished', '1')"); err != nil {
		t.Fatal(err)
	}
	v.Close()
	again := New(b.cfg)
	Start(context.Background(), again)
	t.Cleanup(func() { Stop(again) })
	if st := again.Status(); st.Screen != ScreenSetup {
		t.Errorf("screen %q, want setup", st.Screen)
	}
	if _, err := vault.ReadMeta(o.Dir); !errors.Is(err, vault.ErrNoVault) {
		t.Errorf("the unfinished vault is still there: %v", err)
	}
}

// With the server down the status says offline with a plain message and
// an incident id, and the next attempt backs off; once the server is
// back a sync succeeds and the message goes.
func TestSyncOfflineThenBack(t *testing.T) {
	srv := startServer(t)
	e := newClinic(t)
	if _, err := e.admin.ConnectServer(connectReq(t, srv)); err != nil {
		t.Fatal(err)
	}
	syncNow(t, e.admin)
	srv.Kill()
	e.patient(e.admin)
	st := syncNow(t, e.admin)
	if st.Online || st.LastErrorCode != "E_OFFLINE" || !strings.Contains(st.LastError, "incident") || st.Pending == 0 {
		t.Errorf("offline: %+v", st)
	}
	for _, leak := range []string{srv.Addr, "dial", "tcp", "/"} {
		if strings.Contains(st.LastError, leak) {
			t.Errorf("the message shows %q: %s", leak, st.LastError)
		}
	}
	last, _ := time.Parse(time.RFC3339, st.LastAttempt)
	next, _ := time.Parse(time.RFC3339, st.NextAttempt)
	// The attempt's own time (a refused dial) and the whole seconds of
	// RFC 3339 may add up to two seconds to the 5 s of the first backoff.
	if d := next.Sub(last); d < 0 || d > 7*time.Second {
		t.Errorf("first backoff %v, want at most 5 s (7 s with the attempt and rounding)", d)
	}
	srv.Serve(t)
	st = syncNow(t, e.admin)
	if !st.Online || st.LastErrorCode != "" || st.LastError != "" || st.Pending != 0 {
		t.Errorf("back online: %+v", st)
	}
}

// Something at the address that is not a TLS server gets a message that
// says so, not a generic failure.
func TestSyncConnectToPlainHTTP(t *testing.T) {
	e := newClinic(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := e.admin.ConnectServer(clinic.ConnectRequest{Server: "https://" + srv.Listener.Addr().String(),
		Fingerprint: outsync.FormatFingerprint([32]byte{1}), Token: "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH", DeviceName: "Front desk"})
	if p := problemOf(t, err); p.Code != "E_OFFLINE" || !strings.Contains(p.Message, "not the clinic server") {
		t.Errorf("got %+v", p)
	}
}

// A version the laptop cannot open with the clinic key (here: a laptop of
// another clinic, with another key, enrolled with the same server
// clinic) stops the sync with a plain message and raises an alert for
// the security officer.
func TestSyncTamperedIsAlerted(t *testing.T) {
	srv := startServer(t)
	e := newClinic(t)
	if _, err := e.admin.ConnectServer(connectReq(t, srv)); err != nil {
		t.Fatal(err)
	}
	syncNow(t, e.admin)
	other := newClinic(t)
	if _, err := other.admin.ConnectServer(connectReq(t, srv)); err != nil {
		t.Fatal(err)
	}
	other.patient(other.admin)
	syncNow(t, other.admin)
	st := syncNow(t, e.admin)
	if st.LastErrorCode != outsync.ETampered || !strings.Contains(st.LastError, "security officer") {
		t.Errorf("state %+v", st)
	}
	alerts, err := e.admin.ListAlerts()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, al := range alerts {
		found = found || al.Kind == outsync.AlertTampered
	}
	if !found {
		t.Errorf("no %s alert: %+v", outsync.AlertTampered, alerts)
	}
}
