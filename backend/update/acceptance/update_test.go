package acceptance

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"outpost/backend/update"
	"outpost/backend/update/client"
	"outpost/backend/update/repo"
)

var kinds = []string{"https", "folder"}

// Version 1 updates itself to version 2, published with outpost-release,
// from a loopback HTTPS server (its certificate trusted as a CA, or pinned
// by fingerprint) and from a folder; the result reports 2.
func TestUpdateEndToEnd(t *testing.T) {
	for _, kind := range append(kinds, "https-pinned") {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, baseRepo, dir)
			s := serve(t, kind, dir, false, false)
			m := newMachine(t, "1.0.0")
			old := sum(t, m.bin)

			r := m.update(t, "check", s)
			if r.code != 0 || !strings.Contains(r.stdout, "SECURITY UPDATE available: outpost-admin 2.0.0") || !strings.Contains(r.stdout, "Fixes the sign-in lockout.") {
				t.Fatalf("check: %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if got := sum(t, m.bin); got != old {
				t.Fatal("check changed the binary")
			}
			r = m.update(t, "apply", s)
			if r.code != 0 || !strings.Contains(r.stdout, "Updated outpost-admin to 2.0.0") {
				t.Fatalf("apply: %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if got, want := m.version(t), "2.0.0"; got != want {
				t.Fatalf("version after update: got %q, want %q", got, want)
			}
			if got, want := sum(t, m.bin), sum(t, adminBin["2.0.0"]); got != want {
				t.Fatal("the installed binary is not the published one")
			}
			if got := sum(t, client.PreviousPath(m.bin)); got != old {
				t.Fatal("the previous binary was not kept")
			}
			r = m.update(t, "apply", s)
			if r.code != 0 || !strings.Contains(r.stdout, "2.0.0 is up to date") {
				t.Fatalf("second apply: %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			r = run(t, m.bin, "update", "status", "--state-dir", m.state)
			for _, want := range []string{"installed        2.0.0", "highest ever     2.0.0", "repository       " + strings.TrimSuffix(s.repo, "/")} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("status: got\n%s\nwant a line %q", r.stdout, want)
				}
			}
			if strings.Contains(r.stdout, "never") || strings.Contains(r.stdout, "WARNING") {
				t.Errorf("status after a fresh check:\n%s", r.stdout)
			}
		})
	}
}

type attack struct {
	name string
	// prepare runs first against the intact repository (to seed the
	// client's trusted state); mutate then plays the attacker or mistake.
	prepare     func(t *testing.T, m machine, s served)
	mutate      func(t *testing.T, kind, repoDir, keysDir string)
	endless     bool // serve target files followed by endless bytes (https)
	endlessMeta bool // the same for timestamp.json
	want        string
}

func attacks() []attack {
	return []attack{
		{name: "tampered binary", mutate: func(t *testing.T, _, dir, _ string) {
			p := targetFile(t, dir, "2.0.0")
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0xff
			os.WriteFile(p, b, 0o644)
		}, want: "does not match its signed length and hash"},

		{name: "timestamp signed by an unknown key", mutate: func(t *testing.T, _, dir, _ string) {
			ts, err := metadata.Timestamp().FromFile(filepath.Join(dir, "timestamp.json"))
			if err != nil {
				t.Fatal(err)
			}
			ts.Signed.Version++
			_, stranger, _ := ed25519.GenerateKey(rand.Reader)
			signAs(t, ts, stranger)
			writeMeta(t, ts, filepath.Join(dir, "timestamp.json"))
		}, want: "not signed by enough trusted keys"},

		{name: "snapshot signed by an unknown key under a valid timestamp", mutate: func(t *testing.T, _, dir, keys string) {
			ts, _ := metadata.Timestamp().FromFile(filepath.Join(dir, "timestamp.json"))
			sp := filepath.Join(dir, "3.snapshot.json")
			snap, err := metadata.Snapshot().FromFile(filepath.Join(dir, "2.snapshot.json"))
			if err != nil {
				t.Fatal(err)
			}
			snap.Signed.Version = 3
			_, stranger, _ := ed25519.GenerateKey(rand.Reader)
			signAs(t, snap, stranger)
			writeMeta(t, snap, sp)
			raw, _ := os.ReadFile(sp)
			ts.Signed.Version++
			ts.Signed.Meta["snapshot.json"] = metaFile(3, raw)
			signAs(t, ts, keysOf(t, keys, "timestamp")...)
			writeMeta(t, ts, filepath.Join(dir, "timestamp.json"))
		}, want: "not signed by enough trusted keys"},

		{name: "new root with fewer signatures than the threshold", mutate: func(t *testing.T, _, dir, keys string) {
			root, err := metadata.Root().FromFile(filepath.Join(dir, "1.root.json"))
			if err != nil {
				t.Fatal(err)
			}
			root.Signed.Version = 2
			signAs(t, root, keysOf(t, keys, "root")[0]) // 1 of the 2 needed
			writeMeta(t, root, filepath.Join(dir, "2.root.json"))
		}, want: "not signed by enough trusted keys"},

		{name: "metadata rolled back to an older version", prepare: func(t *testing.T, m machine, s served) {
			if r := m.update(t, "check", s); r.code != 0 {
				t.Fatalf("seeding check: %d %s", r.code, r.stderr)
			}
		}, mutate: func(t *testing.T, _, dir, _ string) {
			os.WriteFile(filepath.Join(dir, "timestamp.json"), firstTS, 0o644)
		}, want: "older than, or inconsistent with, what this computer has verified"},

		{name: "release lower than the highest installed", prepare: func(t *testing.T, m machine, s served) {
			if r := m.update(t, "apply", s); r.code != 0 {
				t.Fatalf("seeding apply: %d %s", r.code, r.stderr)
			}
			install(t, m, "1.0.0") // the old program is put back, say from a backup
		}, mutate: func(t *testing.T, _, dir, keys string) {
			r, err := repo.Open(repo.Options{Dir: dir, KeysDir: keys})
			if err != nil {
				t.Fatal(err)
			}
			delete(r.Targets.Signed.Targets, update.TargetPath("outpost-admin", update.Version{Major: 2}, platform))
			if err := r.Add(repo.Release{Product: "outpost-admin", Version: update.Version{Major: 1, Minor: 5},
				Platforms: map[string]string{platform: adminBin["1.5.0"]}}); err != nil {
				t.Fatal(err)
			}
		}, want: "release, 1.5.0, is older than 2.0.0, already installed on this computer"},

		{name: "expired timestamp (freeze)", mutate: func(t *testing.T, _, dir, keys string) {
			past := func() time.Time { return time.Now().Add(-repo.MaxTimestampExpiry - time.Hour) }
			r, err := repo.Open(repo.Options{Dir: dir, KeysDir: keys, Now: past})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.RefreshTimestamp(repo.MaxTimestampExpiry); err != nil {
				t.Fatal(err)
			}
		}, want: "timestamp.json is expired"},

		{name: "snapshot from another version (mix and match)", mutate: func(t *testing.T, _, dir, _ string) {
			old, _ := os.ReadFile(filepath.Join(dir, "1.snapshot.json"))
			os.WriteFile(filepath.Join(dir, "2.snapshot.json"), old, 0o644)
		}, want: "files are mixed or altered"},

		{name: "targets from another version (mix and match)", mutate: func(t *testing.T, _, dir, _ string) {
			old, _ := os.ReadFile(filepath.Join(dir, "1.targets.json"))
			os.WriteFile(filepath.Join(dir, "2.targets.json"), old, 0o644)
		}, want: "files are mixed or altered"},

		{name: "target larger than signed (endless data)", endless: true, mutate: func(t *testing.T, kind, dir, _ string) {
			if kind == "folder" {
				appendJunk(t, targetFile(t, dir, "2.0.0"), 8<<20)
			}
		}, want: "larger than its signed"},

		{name: "endless timestamp", endlessMeta: true, mutate: func(t *testing.T, kind, dir, _ string) {
			if kind == "folder" {
				appendJunk(t, filepath.Join(dir, "timestamp.json"), 1<<20)
			}
		}, want: "larger than allowed"},
	}
}

func appendJunk(t *testing.T, p string, n int) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(bytes.Repeat([]byte{0x90}, n))
	f.Close()
}

func metaFile(version int64, raw []byte) *metadata.MetaFiles {
	mf := metadata.MetaFile(version)
	h := sha256.Sum256(raw)
	mf.Length = int64(len(raw))
	mf.Hashes = metadata.Hashes{"sha256": h[:]}
	return mf
}

// Each attack is refused with a clear message, and the binary is left
// byte for byte as it was, from HTTPS and from a folder.
func TestUpdateRefusals(t *testing.T) {
	for _, a := range attacks() {
		for _, kind := range kinds {
			t.Run(a.name+"/"+kind, func(t *testing.T) {
				dir, keys := t.TempDir(), t.TempDir()
				copyTree(t, baseRepo, dir)
				copyTree(t, baseKeys, keys)
				s := serve(t, kind, dir, a.endless, a.endlessMeta)
				m := newMachine(t, "1.0.0")
				if a.prepare != nil {
					a.prepare(t, m, s)
				}
				before, ver := sum(t, m.bin), m.version(t)
				os.Remove(client.PreviousPath(m.bin))
				a.mutate(t, kind, dir, keys)

				r := m.update(t, "apply", s)
				t.Logf("stderr: %s", r.stderr)
				if got, want := r.code, 1; got != want {
					t.Fatalf("exit code: got %d, want %d\n%s%s", got, want, r.stdout, r.stderr)
				}
				if !strings.Contains(r.stderr, a.want) || !strings.Contains(r.stderr, "update refused") {
					t.Errorf("message: got %q, want it to contain %q", r.stderr, a.want)
				}
				if got := sum(t, m.bin); got != before {
					t.Error("the binary changed")
				}
				if _, err := os.Stat(client.PreviousPath(m.bin)); err == nil {
					t.Error("a previous binary was saved: the apply went ahead")
				}
				if got := m.version(t); got != ver {
					t.Errorf("version after refusal: got %q, want %q", got, ver)
				}
			})
		}
	}
}

// Root and timestamp keys rotate with outpost-release: clients follow the
// rotation, and metadata signed with the replaced keys is then refused.
func TestKeyRotation(t *testing.T) {
	cases := []struct {
		role   string
		forged func(t *testing.T, dir, keys string)
	}{
		{"root", func(t *testing.T, dir, keys string) {
			root, err := metadata.Root().FromFile(filepath.Join(dir, "2.root.json"))
			if err != nil {
				t.Fatal(err)
			}
			root.Signed.Version = 3
			signAs(t, root, keysOf(t, filepath.Join(keys, "retired"), "root")...)
			writeMeta(t, root, filepath.Join(dir, "3.root.json"))
		}},
		{"timestamp", func(t *testing.T, dir, keys string) {
			ts, err := metadata.Timestamp().FromFile(filepath.Join(dir, "timestamp.json"))
			if err != nil {
				t.Fatal(err)
			}
			ts.Signed.Version++
			signAs(t, ts, keysOf(t, filepath.Join(keys, "retired"), "timestamp")...)
			writeMeta(t, ts, filepath.Join(dir, "timestamp.json"))
		}},
	}
	for _, c := range cases {
		for _, kind := range kinds {
			t.Run(c.role+"/"+kind, func(t *testing.T) {
				dir, keys := t.TempDir(), t.TempDir()
				copyTree(t, baseRepo, dir)
				copyTree(t, baseKeys, keys)
				release(t, "rotate", "--repo", dir, "--keys", keys, "--role", c.role)
				s := serve(t, kind, dir, false, false)
				m := newMachine(t, "1.0.0")
				if r := m.update(t, "apply", s); r.code != 0 {
					t.Fatalf("apply after rotation: %d\n%s%s", r.code, r.stdout, r.stderr)
				}
				if got, want := m.version(t), "2.0.0"; got != want {
					t.Fatalf("version: got %q, want %q", got, want)
				}
				c.forged(t, dir, keys)
				before := sum(t, m.bin)
				r := m.update(t, "check", s)
				if r.code != 1 || !strings.Contains(r.stderr, "not signed by enough trusted keys") {
					t.Fatalf("old %s keys: got %d %q, want a refusal", c.role, r.code, r.stderr)
				}
				if sum(t, m.bin) != before {
					t.Error("the binary changed")
				}
			})
		}
	}
}
