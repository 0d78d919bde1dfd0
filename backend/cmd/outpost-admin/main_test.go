package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

type result struct {
	code           int
	stdout, stderr string
}

func runWith(t *testing.T, kr vault.Keyring, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, keyring: kr, now: time.Now,
		argon2: vaulttest.FastArgon2, deps: clinic.Deps{Workstation: "it-bench", Passwords: auth.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}}}
	code := run(context.Background(), args, e)
	return result{code, out.String(), errb.String()}
}

var recoveryRE = regexp.MustCompile(`([0-9A-Z]{4}-){8}[0-9A-Z]{4}`)

func TestInitCheckTamperRecover(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vault")
	kr := vaulttest.NewKeyring()
	r := runWith(t, kr, "copper-meadow-finch-22\n", "init", "--data-dir", dir, "--clinic", "Hill Clinic", "--admin", "it.admin")
	if r.code != 0 {
		t.Fatalf("init: %d %s", r.code, r.stderr)
	}
	rk := recoveryRE.FindString(r.stdout)
	if rk == "" {
		t.Fatalf("init printed no recovery key: %s", r.stdout)
	}
	if r := runWith(t, kr, "x\n", "init", "--data-dir", dir, "--clinic", "Hill Clinic", "--admin", "it.admin"); r.code != 1 || !strings.Contains(r.stderr, "already holds a vault") {
		t.Fatalf("second init: %d %s", r.code, r.stderr)
	}
	r = runWith(t, kr, "", "check", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "vault OK") || strings.Contains(r.stdout, "FAIL") {
		t.Fatalf("check: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Recover into an empty keyring, as on a new user profile.
	empty := vaulttest.NewKeyring()
	if r := runWith(t, empty, "", "check", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "recover") {
		t.Fatalf("check without key: %d %s", r.code, r.stderr)
	}
	if r := runWith(t, empty, rk+"\n", "recover", "--data-dir", dir); r.code != 0 {
		t.Fatalf("recover: %d %s", r.code, r.stderr)
	}
	if r := runWith(t, empty, "", "check", "--data-dir", dir); r.code != 0 {
		t.Fatalf("check after recover: %d %s", r.code, r.stderr)
	}

	// A byte flipped in the middle of the file.
	p := filepath.Join(dir, vault.DBFile)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2+17] ^= 0x01
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runWith(t, kr, "", "check", "--data-dir", dir)
	if r.code == 0 {
		t.Fatalf("check passed a tampered vault:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout+r.stderr, "FAIL") && !strings.Contains(r.stderr, "tampered") {
		t.Errorf("check did not name the problem:\n%s%s", r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, dir) {
		t.Errorf("output names the data folder")
	}
}

func TestCheckFindsLooseModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vault")
	kr := vaulttest.NewKeyring()
	if r := runWith(t, kr, "copper-meadow-finch-22\n", "init", "--data-dir", dir, "--clinic", "Hill Clinic", "--admin", "it.admin"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if err := os.Chmod(filepath.Join(dir, vault.DBFile), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runWith(t, kr, "", "check", "--data-dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL  outpost.db mode") {
		t.Fatalf("check with a world-readable file: %d\n%s", r.code, r.stdout)
	}
}

func TestUsageAndInputErrors(t *testing.T) {
	kr := vaulttest.NewKeyring()
	dir := filepath.Join(t.TempDir(), "v")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"no command", "", nil, 2, "usage"},
		{"unknown command", "", []string{"frobnicate"}, 2, "unknown command"},
		{"init without flags", "", []string{"init"}, 2, "required"},
		{"weak password", "short\n", []string{"init", "--data-dir", dir, "--clinic", "C", "--admin", "a"}, 1, "E_VALIDATION"},
		{"check no vault", "", []string{"check", "--data-dir", dir}, 1, "No vault"},
		{"recover without key", "", []string{"recover", "--data-dir", dir}, 2, "recovery key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runWith(t, kr, tt.stdin, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("code %d (want %d), stderr %q (want %q)", r.code, tt.code, r.stderr, tt.want)
			}
		})
	}
	if _, err := os.Stat(dir); err == nil {
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("failed commands left files: %v", entries)
		}
	}
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	creds := filepath.Join(t.TempDir(), "login.txt")
	kr := vaulttest.NewKeyring()
	r := runWith(t, kr, "", "demo", "--data-dir", dir, "--patients", "40", "--credentials", creds)
	if r.code != 0 {
		t.Fatalf("demo: %d %s", r.code, r.stderr)
	}
	saved, err := os.ReadFile(creds)
	if err != nil || string(saved) != r.stdout {
		t.Fatalf("credentials file: %v", err)
	}
	pw := regexp.MustCompile(`Password:\s+(\S+)`).FindStringSubmatch(r.stdout)
	if pw == nil {
		t.Fatalf("no password printed: %s", r.stdout)
	}
	s, err := clinic.Attach(context.Background(), mustOpen(t, dir, kr), clinic.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Users.Login(context.Background(), "clinician", pw[1], "test"); err != nil {
		t.Fatalf("demo sign-in: %v", err)
	}
	// The outbox holds the patients and the accounts' versions.
	ids, err := s.Records.PatientIDs(context.Background())
	n, oerr := s.Records.Outbox(context.Background())
	if err != nil || oerr != nil || len(ids) != 40 || n < 40 {
		t.Fatalf("demo patients = %d (outbox %d), %v %v", len(ids), n, err, oerr)
	}
}

func mustOpen(t *testing.T, dir string, kr vault.Keyring) *vault.Vault {
	t.Helper()
	v, err := vault.Open(context.Background(), vault.Options{Dir: dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
