package app

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"outpost/backend/auth"
	"outpost/backend/ehr"
	"outpost/backend/totp"
	"outpost/backend/update"
	"outpost/backend/update/repo"
	"outpost/backend/vault/vaulttest"
)

// updateRepo is a real signed repository in a temporary folder, with its
// keys beside it (never inside).
type updateRepo struct {
	dir  string
	root []byte
	r    *repo.Repo
}

const securityNotes = "Fixes a lockout after a password change.\n<b>Install today.</b>"

func newUpdateRepo(t *testing.T) *updateRepo {
	t.Helper()
	base := t.TempDir()
	u := &updateRepo{dir: filepath.Join(base, "repo")}
	// Signed at the test clinics' clock (newClinic): the timestamp
	// expires a week after.
	signedAt := func() time.Time { return time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC) }
	r, err := repo.Init(repo.Options{Dir: u.dir, KeysDir: filepath.Join(base, "keys"), Rand: rand.Reader, Now: signedAt}, repo.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.r = r
	if u.root, err = repo.RootJSON(u.dir, 1); err != nil {
		t.Fatal(err)
	}
	return u
}

// publish adds "outpost" version for this platform; its binary holds
// "outpost <version>".
func (u *updateRepo) publish(t *testing.T, version string, security bool, notes string) {
	t.Helper()
	v, err := update.ParseVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "outpost")
	if err := os.WriteFile(bin, []byte("outpost "+version), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := u.r.Add(repo.Release{Product: "outpost", Version: v, Security: security, Notes: notes,
		Platforms: map[string]string{update.Platform(): bin}}); err != nil {
		t.Fatal(err)
	}
}

// updClock is a clock the update watcher may read while the test moves it.
type updClock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *updClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *updClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeProgram is the program the updates replace: "outpost 1.0.0".
func fakeProgram(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outpost")
	if err := os.WriteFile(p, []byte("outpost 1.0.0"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// updateWindow opens a window on e's vault running version, with the
// repository's root trusted and target as the program to replace, and
// signs the administrator in on it. Its clock starts at e's and moves on
// its own.
func (e *clinicEnv) updateWindow(t *testing.T, version string, uc UpdateConfig) (*App, *updClock) {
	t.Helper()
	e.clock.t = e.clock.t.Add(30 * time.Second) // a new TOTP step: a code is never accepted twice
	lc := &updClock{t: e.clock.t}
	if uc.Poll == 0 {
		uc.Poll = 5 * time.Millisecond
	}
	w := New(Config{DataDir: e.dir, Keyring: e.kr, Now: lc.Now, Rand: rand.Reader, Version: version, Workstation: "update-pc",
		Argon2: vaulttest.FastArgon2, Passwords: fastPasswords, Save: FolderSaver(e.saves), Updates: uc})
	Start(context.Background(), w)
	t.Cleanup(func() { Stop(w) })
	e.adminOn(t, w, lc)
	return w, lc
}

// adminOn signs the administrator in on w.
func (e *clinicEnv) adminOn(t *testing.T, w *App, lc *updClock) {
	t.Helper()
	lr, err := w.Login(LoginRequest{Username: "admin.rose", Password: setupReq.Password, NoticeAccepted: true})
	if err != nil || lr.Next != "mfa" {
		t.Fatalf("login: next %q, %v", lr.Next, err)
	}
	if _, err := w.VerifyMFA(totp.Code(e.secret, lc.Now())); err != nil {
		t.Fatalf("verify mfa: %v", err)
	}
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func mustUpdateState(t *testing.T, w *App) UpdateState {
	t.Helper()
	s, err := w.UpdateStatus()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checked waits for the watcher to finish the check it was asked for.
func checked(t *testing.T, w *App) UpdateState {
	t.Helper()
	var s UpdateState
	eventually(t, "the update check", func() bool { s = mustUpdateState(t, w); return !s.Checking && s.LastCheck != "" })
	return s
}

func auditCount(t *testing.T, e *clinicEnv, action, username, outcome string) int {
	t.Helper()
	var n int
	if err := e.admin.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action = ? AND username = ? AND outcome = ?", action, username, outcome).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUpdateSettingsValidate(t *testing.T) {
	pin := strings.Repeat("ab", 32)
	pinFormatted := strings.ToUpper(strings.TrimSuffix(strings.Repeat("ab:", 32), ":"))
	cases := []struct {
		name       string
		in         UpdateSettings
		want       UpdateSettings
		wantFields []string
	}{
		{"folder", UpdateSettings{Repository: " /media/usb/outpost-updates/ ", Policy: "ask"},
			UpdateSettings{Repository: "/media/usb/outpost-updates", Policy: "ask"}, nil},
		{"https with a pin", UpdateSettings{Repository: "https://clinic-server:8443/updates", Pin: pin, Policy: "auto-security"},
			UpdateSettings{Repository: "https://clinic-server:8443/updates", Pin: pinFormatted, Policy: "auto-security"}, nil},
		{"off", UpdateSettings{Policy: "ask"}, UpdateSettings{Policy: "ask"}, nil},
		{"plain http", UpdateSettings{Repository: "http://clinic/updates", Policy: "ask"}, UpdateSettings{}, []string{"repository"}},
		{"relative folder", UpdateSettings{Repository: "updates", Policy: "ask"}, UpdateSettings{}, []string{"repository"}},
		{"user in the url", UpdateSettings{Repository: "https://me:pw@clinic/updates", Policy: "ask"}, UpdateSettings{}, []string{"repository"}},
		{"two lines", UpdateSettings{Repository: "/media/usb\n/etc", Policy: "ask"}, UpdateSettings{}, []string{"repository"}},
		{"bad pin", UpdateSettings{Repository: "https://clinic/updates", Pin: "AB:CD", Policy: "ask"}, UpdateSettings{}, []string{"pin"}},
		{"pin on a folder", UpdateSettings{Repository: "/media/usb", Pin: pin, Policy: "ask"}, UpdateSettings{}, []string{"pin"}},
		{"no policy", UpdateSettings{Repository: "/media/usb"}, UpdateSettings{}, []string{"policy"}},
		{"unknown policy", UpdateSettings{Repository: "/media/usb", Policy: "always"}, UpdateSettings{}, []string{"policy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.in.Validate()
			fields := ehr.ErrorFields(err)
			if len(c.wantFields) == 0 {
				if err != nil || got != c.want {
					t.Errorf("got %+v, %v; want %+v", got, err, c.want)
				}
				return
			}
			if ehr.ErrorCode(err) != ehr.EInvalid || len(fields) != len(c.wantFields) {
				t.Fatalf("got fields %v (%v), want %v", fields, err, c.wantFields)
			}
			for _, f := range c.wantFields {
				if fields[f] == "" {
					t.Errorf("no message for %s: %v", f, fields)
				}
			}
		})
	}
}

// An administrator sets a folder repository (audited); every user sees the
// security release with its notes; only the administrator installs it;
// the program is replaced and the app asks for a restart; the next day's
// check finds nothing more.
func TestUpdateAnnouncedThenInstalledByAnAdministrator(t *testing.T) {
	e := newClinic(t)
	ur := newUpdateRepo(t)
	ur.publish(t, "2.0.0", true, securityNotes)
	target := fakeProgram(t)
	w, clock := e.updateWindow(t, "1.0.0", UpdateConfig{Root: ur.root, Target: target})

	if s := mustUpdateState(t, w); s.Available != nil || s.Repository != "" || s.Policy != "ask" || !s.CanManage || s.Installed != "1.0.0" {
		t.Fatalf("before any setting: %+v", s)
	}
	if _, err := w.CheckForUpdates(); code(t, err) != ehr.EConflict {
		t.Errorf("check without a repository: %v, want %s", err, ehr.EConflict)
	}
	if _, err := w.SetUpdateSettings(UpdateSettings{Repository: "relative/path", Policy: "ask"}); err == nil || problemOf(t, err).Fields["repository"] == "" {
		t.Errorf("a relative folder: %v, want a field message", err)
	}
	if _, err := w.SetUpdateSettings(UpdateSettings{Repository: ur.dir, Policy: "ask"}); err != nil {
		t.Fatal(err)
	}
	if n := auditCount(t, e, "update.settings", "admin.rose", "success"); n != 1 {
		t.Errorf("%d update.settings events, want 1", n)
	}
	s := checked(t, w)
	want := UpdateRelease{Version: "2.0.0", Security: true, Notes: securityNotes, Size: int64(len("outpost 2.0.0"))}
	if s.Available == nil || *s.Available != want {
		t.Fatalf("available: got %+v, want %+v (error %q)", s.Available, want, s.LastError)
	}
	if s.Repository != ur.dir || s.LastRefreshed == "" || s.Expires == "" || s.Expired || s.LastError != "" || s.Highest != "1.0.0" {
		t.Errorf("admin view: %+v", s)
	}

	// A nurse signed in on the same computer sees the release, not the
	// repository or the errors, and may not install it.
	if err := w.Logout(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.CreateUser(NewUserRequest{Username: "nurse.n", Name: "Nurse N", Roles: []string{auth.RoleNurse}, TemporaryPassword: tempPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Login(LoginRequest{Username: "nurse.n", Password: tempPassword, NoticeAccepted: true}); err != nil {
		t.Fatal(err)
	}
	if err := w.ChangePassword(PasswordChange{Current: tempPassword, New: "harbor-violet-engine-93"}); err != nil {
		t.Fatal(err)
	}
	if lr, err := w.Login(LoginRequest{Username: "nurse.n", Password: "harbor-violet-engine-93", NoticeAccepted: true}); err != nil || lr.Next != "" {
		t.Fatalf("nurse login: %+v, %v", lr, err)
	}
	ns := mustUpdateState(t, w)
	if ns.Available == nil || *ns.Available != want || ns.CanManage || ns.Repository != "" || ns.LastRefreshed != "" || ns.LastCheck != "" {
		t.Errorf("nurse's view: %+v", ns)
	}
	if _, err := w.InstallUpdate("2.0.0"); code(t, err) != ehr.EForbidden {
		t.Errorf("nurse installs: %v, want %s", err, ehr.EForbidden)
	}
	if _, err := w.SetUpdateSettings(UpdateSettings{Repository: "/tmp", Policy: "ask"}); code(t, err) != ehr.EForbidden {
		t.Errorf("nurse changes the settings: %v, want %s", err, ehr.EForbidden)
	}
	if _, err := w.CheckForUpdates(); code(t, err) != ehr.EForbidden {
		t.Errorf("nurse checks: %v, want %s", err, ehr.EForbidden)
	}
	if err := w.Logout(); err != nil {
		t.Fatal(err)
	}
	clock.add(30 * time.Second) // a new TOTP step
	e.adminOn(t, w, clock)

	if _, err := w.InstallUpdate("3.0.0"); code(t, err) != ehr.EConflict {
		t.Errorf("install of a release not offered: %v, want %s", err, ehr.EConflict)
	}
	if got, _ := os.ReadFile(target); string(got) != "outpost 1.0.0" {
		t.Fatalf("program changed by a refused install: %q", got)
	}
	s, err := w.InstallUpdate("2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if !s.RestartNeeded || s.InstalledVersion != "2.0.0" || s.Available != nil || s.Highest != "2.0.0" {
		t.Errorf("after install: %+v", s)
	}
	if got, _ := os.ReadFile(target); string(got) != "outpost 2.0.0" {
		t.Errorf("program after install: %q", got)
	}
	if got, _ := os.ReadFile(target + ".previous"); string(got) != "outpost 1.0.0" {
		t.Errorf("previous program: %q", got)
	}
	if n := auditCount(t, e, "update.install", "admin.rose", "success"); n != 1 {
		t.Errorf("%d update.install events, want 1", n)
	}
	if _, err := w.InstallUpdate("2.0.0"); code(t, err) != ehr.EConflict {
		t.Errorf("second install: %v, want %s", err, ehr.EConflict)
	}

	// A day later the watcher checks again by itself: nothing newer.
	first := s.LastCheck
	clock.add(update.CheckInterval + time.Minute)
	e.adminOn(t, w, clock) // the session ended at its time limit
	eventually(t, "the daily check", func() bool { s = mustUpdateState(t, w); return s.LastCheck != first && !s.Checking })
	if s.Available != nil || s.LastError != "" || !s.RestartNeeded {
		t.Errorf("after the daily check: %+v", s)
	}
}

// The watcher checks at start and then daily by the app's clock: a
// release published in between is seen only once the day has passed.
func TestUpdateCheckedDaily(t *testing.T) {
	e := newClinic(t)
	ur := newUpdateRepo(t)
	ur.publish(t, "1.0.0", false, "")
	w, clock := e.updateWindow(t, "1.0.0", UpdateConfig{Root: ur.root, Target: fakeProgram(t)})
	if _, err := w.SetUpdateSettings(UpdateSettings{Repository: ur.dir, Policy: "ask"}); err != nil {
		t.Fatal(err)
	}
	s := checked(t, w)
	if s.Available != nil || s.LastError != "" {
		t.Fatalf("nothing newer than 1.0.0: %+v", s)
	}
	first := s.LastCheck
	ur.publish(t, "1.1.0", false, "Faster search.")
	clock.add(update.CheckInterval - time.Minute)
	e.adminOn(t, w, clock)             // the session ended at its time limit
	time.Sleep(100 * time.Millisecond) // twenty looks at the clock
	if s := mustUpdateState(t, w); s.Available != nil || s.LastCheck != first {
		t.Fatalf("checked before a day had passed: %+v", s)
	}
	clock.add(2 * time.Minute)
	eventually(t, "the daily check", func() bool { s = mustUpdateState(t, w); return s.Available != nil })
	if s.Available.Version != "1.1.0" || s.Available.Security || s.Available.Notes != "Faster search." {
		t.Errorf("available: %+v", s.Available)
	}
}

// Under auto-security the watcher installs a security release itself
// (audited as the updater) and asks for a restart; any other release, and
// every release under ask, waits for an administrator.
func TestUpdatePolicy(t *testing.T) {
	cases := []struct {
		policy      string
		security    bool
		wantInstall bool
	}{
		{"auto-security", true, true},
		{"auto-security", false, false},
		{"ask", true, false},
	}
	for _, c := range cases {
		t.Run(c.policy+map[bool]string{true: " security", false: " ordinary"}[c.security], func(t *testing.T) {
			e := newClinic(t)
			ur := newUpdateRepo(t)
			ur.publish(t, "2.0.0", c.security, "Notes.")
			target := fakeProgram(t)
			w, _ := e.updateWindow(t, "1.0.0", UpdateConfig{Root: ur.root, Target: target})
			if _, err := w.SetUpdateSettings(UpdateSettings{Repository: ur.dir, Policy: c.policy}); err != nil {
				t.Fatal(err)
			}
			s := checked(t, w)
			got, _ := os.ReadFile(target)
			if installed := string(got) == "outpost 2.0.0"; installed != c.wantInstall || s.RestartNeeded != c.wantInstall {
				t.Fatalf("program %q, state %+v; want installed %v", got, s, c.wantInstall)
			}
			if !c.wantInstall && (s.Available == nil || s.Available.Version != "2.0.0" || s.Available.Security != c.security) {
				t.Errorf("not announced: %+v", s)
			}
			if n := auditCount(t, e, "update.install", "update", "success"); (n == 1) != c.wantInstall {
				t.Errorf("%d automatic update.install events", n)
			}
		})
	}
}

// Refused checks say why in plain words, without a path or go-tuf's
// detail, and leave the program as it was.
func TestUpdateRefusalsArePlain(t *testing.T) {
	ur := newUpdateRepo(t)
	ur.publish(t, "2.0.0", true, securityNotes)
	other := newUpdateRepo(t)
	cases := []struct {
		name    string
		version string
		root    []byte
		repo    string
		advance time.Duration
		want    string
		wantExp bool
	}{
		{"expired metadata (freeze)", "1.0.0", ur.root, ur.dir, 8 * 24 * time.Hour, "expired", true},
		{"another repository's keys", "1.0.0", other.root, ur.dir, 0, "not signed by this clinic's release keys", false},
		{"no folder (USB stick out)", "1.0.0", ur.root, filepath.Join(ur.dir, "missing"), 0, "could not be read", false},
		{"development build", "dev", ur.root, ur.dir, 0, "no release version", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newClinic(t)
			target := fakeProgram(t)
			w, clock := e.updateWindow(t, c.version, UpdateConfig{Root: c.root, Target: target})
			if c.advance > 0 {
				// First a good check, then the repository freezes.
				if _, err := w.SetUpdateSettings(UpdateSettings{Repository: c.repo, Policy: "ask"}); err != nil {
					t.Fatal(err)
				}
				if s := checked(t, w); s.Available == nil {
					t.Fatalf("first check: %+v", s)
				}
				clock.add(c.advance)
				e.adminOn(t, w, clock) // the session ended at its time limit
				if s := mustUpdateState(t, w); !s.Expired {
					t.Errorf("status a week on: %+v, want expired", s)
				}
			} else if _, err := w.SetUpdateSettings(UpdateSettings{Repository: c.repo, Policy: "auto-security"}); err != nil {
				t.Fatal(err)
			}
			s, err := w.CheckForUpdates()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(s.LastError, c.want) || s.Incident == "" || s.Available != nil || s.Expired != c.wantExp {
				t.Errorf("got %+v, want an error with %q", s, c.want)
			}
			for _, leak := range []string{"/", ".json", "go-tuf", "timestamp.json"} {
				if strings.Contains(s.LastError, leak) {
					t.Errorf("message %q leaks %q", s.LastError, leak)
				}
			}
			if got, _ := os.ReadFile(target); string(got) != "outpost 1.0.0" {
				t.Errorf("program changed: %q", got)
			}
		})
	}
}

// Once a repository is set, the app checks at start by itself: a window
// opened later (Outpost started again) announces the release without any
// call but UpdateStatus.
func TestUpdateCheckedAtStart(t *testing.T) {
	e := newClinic(t)
	ur := newUpdateRepo(t)
	ur.publish(t, "2.0.0", true, securityNotes)
	first, _ := e.updateWindow(t, "1.0.0", UpdateConfig{Root: ur.root, Target: fakeProgram(t)})
	if _, err := first.SetUpdateSettings(UpdateSettings{Repository: ur.dir, Policy: "ask"}); err != nil {
		t.Fatal(err)
	}
	checked(t, first)
	Stop(first)
	w, _ := e.updateWindow(t, "1.0.0", UpdateConfig{Root: ur.root, Target: fakeProgram(t)})
	s := checked(t, w)
	if s.Available == nil || s.Available.Version != "2.0.0" || !s.Available.Security || s.Policy != "ask" || s.Repository != ur.dir {
		t.Errorf("at start: %+v", s)
	}
}
