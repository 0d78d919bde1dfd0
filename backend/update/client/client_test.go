package client_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"outpost/backend/update"
	"outpost/backend/update/client"
	"outpost/backend/update/repo"
	"outpost/backend/update/source"
)

type fixture struct {
	repoDir, keysDir string
	root             []byte
	src              source.Source
}

// newFixture publishes "outpost" 2.0.0 (a security release) for this
// platform in a fresh repository, with real keys.
func newFixture(t *testing.T) fixture {
	t.Helper()
	base := t.TempDir()
	f := fixture{repoDir: filepath.Join(base, "repo"), keysDir: filepath.Join(base, "keys")}
	r, err := repo.Init(repo.Options{Dir: f.repoDir, KeysDir: f.keysDir, Rand: rand.Reader}, repo.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "new")
	os.WriteFile(bin, []byte("outpost 2.0.0 binary"), 0o755)
	if err := r.Add(repo.Release{Product: "outpost", Version: update.Version{Major: 2}, Security: true, Notes: "Fixes a lockout.",
		Platforms: map[string]string{update.Platform(): bin, "windows-amd64": bin}}); err != nil {
		t.Fatal(err)
	}
	if f.root, err = repo.RootJSON(f.repoDir, 1); err != nil {
		t.Fatal(err)
	}
	if f.src, err = source.NewFolder(f.repoDir); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) client(t *testing.T, state, running, target string, now func() time.Time) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Source: f.src, StateDir: state, Root: f.root, Product: "outpost",
		Running: running, Target: target, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckApplyStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	target := filepath.Join(t.TempDir(), "outpost")
	os.WriteFile(target, []byte("outpost 1.0.0 binary"), 0o755)
	state := t.TempDir()
	c := f.client(t, state, "1.0.0", target, clock)

	st, err := c.Status()
	if err != nil || !st.LastRefreshed.IsZero() || st.Expired {
		t.Fatalf("status before any check: %+v %v", st, err)
	}
	a, err := c.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := update.Available{Found: true, Version: update.Version{Major: 2}, Security: true, Notes: "Fixes a lockout.",
		Size: int64(len("outpost 2.0.0 binary")), Target: "outpost/2.0.0/" + update.Platform()}
	if a != want {
		t.Fatalf("check: got %+v, want %+v", a, want)
	}
	st, _ = c.Status()
	if !st.LastRefreshed.Equal(now.UTC()) || st.Expired || st.Expires.Before(now) || st.Highest != "1.0.0" || st.Repository != f.repoDir {
		t.Errorf("status after check: %+v", st)
	}
	inst, err := c.Apply(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "outpost 2.0.0 binary" {
		t.Errorf("target after apply: %q", got)
	}
	if got, _ := os.ReadFile(inst.Previous); string(got) != "outpost 1.0.0 binary" {
		t.Errorf("previous binary: %q", got)
	}
	if st, _ = c.Status(); st.Highest != "2.0.0" {
		t.Errorf("highest after apply: got %q, want 2.0.0", st.Highest)
	}
	// A week and a day later, with no refresh, the metadata has expired.
	now = now.Add(8 * 24 * time.Hour)
	if st, _ = c.Status(); !st.Expired {
		t.Errorf("status a week later: %+v, want expired", st)
	}
	if _, err := c.Check(ctx); !errors.Is(err, update.ErrExpired) || !errors.Is(err, update.ErrRefused) {
		t.Errorf("check a week later: got %v, want ErrExpired", err)
	}
}

func TestRefusedWithoutTouchingTheTarget(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := newFixture(t) // another repository's root: unknown keys
	cases := []struct {
		name    string
		running string
		root    []byte
		now     time.Time
		want    error
	}{
		{"build without a version", "dev", f.root, time.Now(), update.ErrUnknownVersion},
		{"root of another repository", "1.0.0", other.root, time.Now(), update.ErrUntrusted},
		{"clock after expiry (freeze)", "1.0.0", f.root, time.Now().Add(8 * 24 * time.Hour), update.ErrExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "outpost")
			os.WriteFile(target, []byte("old"), 0o755)
			cl, err := client.New(client.Config{Source: f.src, StateDir: t.TempDir(), Root: c.root, Product: "outpost",
				Running: c.running, Target: target, Now: func() time.Time { return c.now }})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.Check(ctx)
			if !errors.Is(err, c.want) {
				t.Errorf("check: got %v, want %v", err, c.want)
			}
			_, err = cl.Apply(ctx, update.Available{Found: true, Version: update.Version{Major: 2}, Target: "outpost/2.0.0/" + update.Platform()})
			if !errors.Is(err, c.want) {
				t.Errorf("apply: got %v, want %v", err, c.want)
			}
			if got, _ := os.ReadFile(target); string(got) != "old" {
				t.Errorf("target changed: %q", got)
			}
		})
	}
}

// Apply re-checks what it is given against the signed metadata.
func TestApplyOnlySignedReleases(t *testing.T) {
	f := newFixture(t)
	target := filepath.Join(t.TempDir(), "outpost")
	os.WriteFile(target, []byte("old"), 0o755)
	c := f.client(t, t.TempDir(), "1.0.0", target, time.Now)
	cases := []struct {
		name string
		a    update.Available
		want error
	}{
		{"unsigned version", update.Available{Found: true, Version: update.Version{Major: 9}, Target: "outpost/9.0.0/" + update.Platform()}, update.ErrNoRelease},
		{"other platform", update.Available{Found: true, Version: update.Version{Major: 2}, Target: "outpost/2.0.0/windows-amd64"}, update.ErrNoRelease},
	}
	for _, tc := range cases {
		if _, err := c.Apply(context.Background(), tc.a); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	// Running the newest already: nothing to do.
	c2 := f.client(t, t.TempDir(), "2.0.0", target, time.Now)
	if a, err := c2.Check(context.Background()); err != nil || a.Found {
		t.Errorf("check at 2.0.0: got %+v %v, want nothing", a, err)
	}
	if got, _ := os.ReadFile(target); string(got) != "old" {
		t.Errorf("target changed: %q", got)
	}
}

// The app's schedule: a check at start, then one per tick; the policy
// decides whether a security release installs itself.
func TestWatch(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		policy                 update.Policy
		wantAvail, wantInstall int
	}{
		{update.PolicyAsk, 2, 0},          // shown at start and at the next tick
		{update.PolicyAutoSecurity, 0, 1}, // installed at start; nothing newer after
	}
	for _, c := range cases {
		t.Run(string(c.policy), func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "outpost")
			os.WriteFile(target, []byte("old"), 0o755)
			cl := f.client(t, t.TempDir(), "1.0.0", target, time.Now)
			ctx, cancel := context.WithCancel(context.Background())
			ticks := 0
			var avail, installed int
			w := client.Watch{Policy: c.policy,
				After: func(d time.Duration) <-chan time.Time {
					if got, want := d, update.CheckInterval; got != want {
						t.Errorf("interval: got %v, want %v", got, want)
					}
					ch := make(chan time.Time, 1)
					if ticks++; ticks < 2 {
						ch <- time.Now()
					} else {
						cancel()
					}
					return ch
				},
				OnAvailable: func(a update.Available) {
					if !a.Security || a.Notes == "" {
						t.Errorf("available: %+v", a)
					}
					avail++
				},
				OnInstalled: func(client.Installed) { installed++ },
				OnError:     func(err error) { t.Errorf("watch: %v", err) },
			}
			w.Run(ctx, cl)
			if avail != c.wantAvail || installed != c.wantInstall {
				t.Errorf("got %d shown, %d installed; want %d, %d", avail, installed, c.wantAvail, c.wantInstall)
			}
		})
	}
}
