package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type result struct {
	code           int
	stdout, stderr string
}

func runTool(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, env{stdout: &out, stderr: &errb, now: time.Now, rand: rand.Reader})
	return result{code, out.String(), errb.String()}
}

func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := runTool(t, args...)
	if r.code != 0 {
		t.Fatalf("%v: %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// newRepo makes a repository and keys folder in a temp dir.
func newRepo(t *testing.T) (repoDir, keysDir string) {
	t.Helper()
	base := t.TempDir()
	repoDir, keysDir = filepath.Join(base, "repo"), filepath.Join(base, "media", "keys")
	mustRun(t, "init", "--repo", repoDir, "--keys", keysDir)
	return repoDir, keysDir
}

func binary(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outpost")
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// Keys are written to the keys folder only, mode 0600; no private key
// material reaches the repository or the output.
func TestInitKeepsKeysOutOfTheRepository(t *testing.T) {
	base := t.TempDir()
	repoDir, keysDir := filepath.Join(base, "repo"), filepath.Join(base, "keys")
	r := mustRun(t, "init", "--repo", repoDir, "--keys", keysDir)
	add := mustRun(t, "add", "--repo", repoDir, "--keys", keysDir, "--version", "1.0.0", "--platform", "linux-amd64="+binary(t, "v1"))
	st := mustRun(t, "status", "--repo", repoDir, "--keys", keysDir)
	output := r.stdout + r.stderr + add.stdout + add.stderr + st.stdout + st.stderr

	entries, err := os.ReadDir(keysDir)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var secrets [][]byte
	for _, e := range entries {
		info, _ := e.Info()
		if got, want := info.Mode().Perm(), fs.FileMode(0o600); got != want {
			t.Errorf("%s: mode %v, want %v", e.Name(), got, want)
		}
		counts[strings.SplitN(e.Name(), "-", 2)[0]]++
		raw, _ := os.ReadFile(filepath.Join(keysDir, e.Name()))
		blk, _ := pem.Decode(raw)
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		seed := k.(ed25519.PrivateKey).Seed()
		secrets = append(secrets, raw, blk.Bytes, seed, []byte(hex.EncodeToString(seed)))
	}
	if want := map[string]int{"root": 3, "targets": 1, "snapshot": 1, "timestamp": 1}; !equalCounts(counts, want) {
		t.Errorf("key files: got %v, want %v", counts, want)
	}
	filepath.WalkDir(repoDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, _ := os.ReadFile(p)
		for _, s := range secrets {
			if bytes.Contains(raw, s) || bytes.Contains(raw, []byte("PRIVATE KEY")) {
				t.Errorf("%s holds private key material", p)
			}
		}
		return nil
	})
	for _, s := range secrets {
		if strings.Contains(output, string(s)) || strings.Contains(output, "PRIVATE KEY") {
			t.Error("the output shows private key material")
		}
	}
	if !strings.Contains(st.stdout, "root") || !strings.Contains(st.stdout, "2          3 of 3") || !strings.Contains(st.stdout, "1.0.0") {
		t.Errorf("status:\n%s", st.stdout)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestWarnsOnReadableKeyFile(t *testing.T) {
	repoDir, keysDir := newRepo(t)
	m, _ := filepath.Glob(filepath.Join(keysDir, "timestamp-*.key"))
	if err := os.Chmod(m[0], 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, "timestamp", "--repo", repoDir, "--keys", keysDir)
	if !strings.Contains(r.stderr, "warning: key file timestamp-") || !strings.Contains(r.stderr, "readable by others") {
		t.Errorf("got %q, want a warning about the key file's mode", r.stderr)
	}
}

func TestRefusals(t *testing.T) {
	repoDir, keysDir := newRepo(t)
	bin := binary(t, "v1")
	mustRun(t, "add", "--repo", repoDir, "--keys", keysDir, "--version", "1.0.0", "--platform", "linux-amd64="+bin)
	fewRoot := t.TempDir() // a keys folder with a single root key
	for i, p := range globAll(t, keysDir, "*.key") {
		if strings.HasPrefix(filepath.Base(p), "root-") && i > 0 {
			continue
		}
		raw, _ := os.ReadFile(p)
		os.WriteFile(filepath.Join(fewRoot, filepath.Base(p)), raw, 0o600)
	}
	cases := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"timestamp beyond 7 days", []string{"timestamp", "--repo", repoDir, "--keys", keysDir, "--expires", "8d"}, 1, "between one hour and 7 days"},
		{"bad expiry", []string{"timestamp", "--repo", repoDir, "--keys", keysDir, "--expires", "soon"}, 2, "--expires"},
		{"keys inside the repository", []string{"timestamp", "--repo", repoDir, "--keys", filepath.Join(repoDir, "k")}, 1, "must not be inside the repository"},
		{"init twice", []string{"init", "--repo", repoDir, "--keys", keysDir}, 1, "already holds an update repository"},
		{"release twice", []string{"add", "--repo", repoDir, "--keys", keysDir, "--version", "1.0.0", "--platform", "linux-amd64=" + bin}, 1, "already in the repository"},
		{"no platform", []string{"add", "--repo", repoDir, "--keys", keysDir, "--version", "1.1.0"}, 1, "at least one --platform"},
		{"bad version", []string{"add", "--repo", repoDir, "--keys", keysDir, "--version", "1.1", "--platform", "linux-amd64=" + bin}, 2, "X.Y.Z"},
		{"missing binary", []string{"add", "--repo", repoDir, "--keys", keysDir, "--version", "1.1.0", "--platform", "linux-amd64=/nonexistent/bin"}, 1, "not a readable"},
		{"bad role", []string{"rotate", "--repo", repoDir, "--keys", keysDir, "--role", "admin"}, 1, "want root, targets"},
		{"root rotation below threshold", []string{"rotate", "--repo", repoDir, "--keys", fewRoot, "--role", "root"}, 1, "needs 2 current root keys"},
		{"not a repository", []string{"status", "--repo", t.TempDir()}, 1, "not an update repository"},
		{"no flags", []string{"add"}, 2, "--repo and --keys are required"},
		{"keys folder is the repository", []string{"init", "--repo", repoDir + "-new", "--keys", repoDir + "-new/"}, 1, "must not be inside the repository"},
		{"repository inside the keys folder", []string{"init", "--repo", filepath.Join(keysDir, "repo"), "--keys", keysDir}, 1, "must not be inside the repository"},
		{"control characters in notes", []string{"add", "--repo", repoDir, "--keys", keysDir, "--version", "1.2.0", "--notes", notesFile(t, "fix\x1b[31m"), "--platform", "linux-amd64=" + bin}, 1, "plain UTF-8 text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runTool(t, c.args...)
			if r.code != c.wantCode || !strings.Contains(r.stderr, c.want) {
				t.Errorf("got %d %q, want %d and %q", r.code, r.stderr, c.wantCode, c.want)
			}
		})
	}
	// A root rotation with enough root keys works, and the repository still loads.
	mustRun(t, "rotate", "--repo", repoDir, "--keys", keysDir, "--role", "root")
	if got := globAll(t, filepath.Join(keysDir, "retired"), "root-*.key"); len(got) != 3 {
		t.Errorf("retired root keys: got %d, want 3", len(got))
	}
	mustRun(t, "sign", "--repo", repoDir, "--keys", keysDir, "--root")
}

func notesFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func globAll(t *testing.T, dir, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
