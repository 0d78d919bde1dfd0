package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/fhir"
	"outpost/backend/totp"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

const (
	adminPassword     = "copper-meadow-finch-22"
	clinicianPassword = "lantern-orchard-basalt-71"
	clerkPassword     = "harbour-thistle-quartz-35"
)

var fastPasswords = auth.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}

// newClinic makes a vault with its administrator (it.admin, who also holds
// the clinician role), a clinician (dr.banda) and a clerk (clerk.joe).
func newClinic(t *testing.T) (string, vault.Keyring) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vault")
	kr := vaulttest.NewKeyring()
	if r := runWith(t, kr, adminPassword+"\n", "init", "--data-dir", dir, "--clinic", "Hill Clinic", "--admin", "it.admin"); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	withServices(t, dir, kr, func(s *clinic.Services) {
		tx, err := s.Vault.W.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []auth.NewUser{
			{Username: "dr.banda", Name: "Dr Banda", Password: clinicianPassword, Roles: []string{auth.RoleClinician}},
			{Username: "clerk.joe", Name: "Joe", Password: clerkPassword, Roles: []string{auth.RoleClerk}},
		} {
			if _, err := s.Users.CreateUser(context.Background(), tx, "it.admin", u); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	})
	return dir, kr
}

func withServices(t *testing.T, dir string, kr vault.Keyring, fn func(*clinic.Services)) {
	t.Helper()
	s, err := clinic.Attach(context.Background(), mustOpen(t, dir, kr), clinic.Deps{Workstation: "test", Passwords: fastPasswords})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fn(s)
}

func sampleFile(t *testing.T, prefix string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "fhir", "samples", prefix+"_*.json"))
	if len(m) != 1 {
		t.Fatalf("no sample %s", prefix)
	}
	return m[0]
}

// openSessions counts sessions not ended.
func openSessions(t *testing.T, dir string, kr vault.Keyring) int {
	t.Helper()
	var n int
	withServices(t, dir, kr, func(s *clinic.Services) {
		if err := s.Vault.R.QueryRow("SELECT count(*) FROM sessions WHERE ended = ''").Scan(&n); err != nil {
			t.Fatal(err)
		}
	})
	return n
}

func TestImportExportCommands(t *testing.T) {
	dir, kr := newClinic(t)
	tony, norma := sampleFile(t, "Tony"), sampleFile(t, "Norma")

	r := runWith(t, kr, clinicianPassword+"\n", "import", "--data-dir", dir, "--user", "dr.banda", tony, norma)
	if r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	for _, want := range []string{
		tony + ": 159 entries: 70 records imported, 0 already present",
		"Encounter                     16         0         0",
		"Observation                   26         0        45",
		"not modelled, skipped: CarePlan 2, Claim 20, DiagnosticReport 4, ExplanationOfBenefit 16, Organization 2, Practitioner 2, Procedure 3",
		"skipped (first 20 of 45):",
		"not a vital sign Outpost records (72514-3 Pain severity",
		norma + ": 239 entries:",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("import output lacks %q:\n%s", want, r.stdout)
		}
	}
	// Not a terminal: plain progress lines, no carriage returns.
	if !strings.Contains(r.stderr, "import "+filepath.Base(tony)+": 159/159\n") || strings.Contains(r.stderr, "\r") {
		t.Errorf("progress on stderr:\n%q", r.stderr)
	}

	// The same file again: nothing new.
	r = runWith(t, kr, clinicianPassword+"\n", "import", "--data-dir", dir, "--user", "dr.banda", tony)
	if r.code != 0 || !strings.Contains(r.stdout, "0 records imported, 70 already present") {
		t.Fatalf("second import: %d %s %s", r.code, r.stdout, r.stderr)
	}

	// Export everything, then one patient.
	out := filepath.Join(t.TempDir(), "export.json")
	r = runWith(t, kr, clinicianPassword+"\n", "export", "--data-dir", dir, "--user", "dr.banda", "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, "Exported 2 patients") {
		t.Fatalf("export: %d %s %s", r.code, r.stdout, r.stderr)
	}
	checkExport(t, out, 2)
	one := filepath.Join(filepath.Dir(out), "one.json")
	tonyID := fhir.DeriveID("urn:uuid:79c96478-7878-4703-9e94-b999f2bc3295")
	r = runWith(t, kr, clinicianPassword+"\n", "export", "--data-dir", dir, "--user", "dr.banda", "--out", one, "--patient", tonyID)
	if r.code != 0 || !strings.Contains(r.stdout, "Exported 1 patient, 70 resources") {
		t.Fatalf("export of one: %d %s %s", r.code, r.stdout, r.stderr)
	}
	checkExport(t, one, 1)
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 2 {
		t.Errorf("the export folder holds %v", entries)
	}

	// The administrator (clinician too, MFA not yet enrolled) is
	// identified by the password alone.
	r = runWith(t, kr, adminPassword+"\n", "export", "--data-dir", dir, "--user", "it.admin", "--out", out)
	if r.code != 0 {
		t.Fatalf("export as the administrator: %d %s", r.code, r.stderr)
	}
	if n := openSessions(t, dir, kr); n != 0 {
		t.Errorf("%d sessions left open", n)
	}
}

func checkExport(t *testing.T, name string, patients int) {
	t.Helper()
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("export mode %v", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(name)
	var b struct {
		ResourceType, Type string
		Entry              []struct {
			Resource struct{ ResourceType string }
		}
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.ResourceType != "Bundle" || b.Type != "collection" {
		t.Fatalf("export is not a collection Bundle: %v", err)
	}
	n := 0
	for _, e := range b.Entry {
		if e.Resource.ResourceType == "Patient" {
			n++
		}
	}
	if n != patients {
		t.Errorf("%d patients in the export, want %d", n, patients)
	}
}

func TestFHIRCommandsRefuse(t *testing.T) {
	dir, kr := newClinic(t)
	tmp := t.TempDir()
	notBundle := filepath.Join(tmp, "patient.json")
	os.WriteFile(notBundle, []byte(`{"resourceType":"Patient"}`), 0o600)
	broken := filepath.Join(tmp, "broken.json")
	os.WriteFile(broken, []byte("{\"resourceType\":\n\"Bundle\",,}"), 0o600)
	out := filepath.Join(tmp, "out.json")
	tony := sampleFile(t, "Tony")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"no password", "", []string{"import", "--data-dir", dir, "--user", "dr.banda", tony}, 2, "password"},
		{"wrong password", "not-the-password\n", []string{"import", "--data-dir", dir, "--user", "dr.banda", tony}, 1, "E_AUTH"},
		{"no file", clinicianPassword + "\n", []string{"import", "--data-dir", dir, "--user", "dr.banda"}, 2, "FILE"},
		{"clerk imports", clerkPassword + "\n", []string{"import", "--data-dir", dir, "--user", "clerk.joe", tony}, 1, "E_FORBIDDEN"},
		{"clerk exports", clerkPassword + "\n", []string{"export", "--data-dir", dir, "--user", "clerk.joe", "--out", out}, 1, "E_FORBIDDEN"},
		{"not a Bundle", clinicianPassword + "\n", []string{"import", "--data-dir", dir, "--user", "dr.banda", notBundle}, 1, "not a FHIR Bundle: it holds a FHIR Patient resource"},
		{"malformed", clinicianPassword + "\n", []string{"import", "--data-dir", dir, "--user", "dr.banda", broken}, 1, "not valid JSON: invalid character ',' looking for beginning of object key string at line 2, column 10"},
		{"missing file", clinicianPassword + "\n", []string{"import", "--data-dir", dir, "--user", "dr.banda", filepath.Join(tmp, "nope.json")}, 1, "cannot read the file"},
		{"export without --out", clinicianPassword + "\n", []string{"export", "--data-dir", dir, "--user", "dr.banda"}, 2, "--out"},
		{"export unknown patient", clinicianPassword + "\n", []string{"export", "--data-dir", dir, "--user", "dr.banda", "--out", out, "--patient", "0190a1b2-0000-7000-8000-000000000000"}, 1, "No such patient"},
		{"export to a folder", clinicianPassword + "\n", []string{"export", "--data-dir", dir, "--user", "dr.banda", "--out", tmp}, 2, "--out must name a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runWith(t, kr, tt.stdin, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("code %d (want %d), stderr %q (want %q)", r.code, tt.code, r.stderr, tt.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused export left %s: %v", out, err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 2 {
		t.Errorf("refused commands left files: %v", entries)
	}
	if n := openSessions(t, dir, kr); n != 0 {
		t.Errorf("%d sessions left open", n)
	}
}

// An account with a second factor needs its code on the next line.
func TestFHIRCommandsAskForSecondFactor(t *testing.T) {
	dir, kr := newClinic(t)
	var secret totp.Secret
	withServices(t, dir, kr, func(s *clinic.Services) {
		ctx := context.Background()
		res, err := s.Users.Login(ctx, "dr.banda", clinicianPassword, "test")
		if err != nil {
			t.Fatal(err)
		}
		en, err := s.Users.BeginEnrollment(ctx, res.Session.ID)
		if err != nil {
			t.Fatal(err)
		}
		if secret, err = totp.ParseBase32(en.Secret); err != nil {
			t.Fatal(err)
		}
		// The previous step's code: the command's code (this step's) is
		// then still unused.
		if _, err := s.Users.ConfirmEnrollment(ctx, res.Session.ID, totp.Code(secret, time.Now().Add(-30*time.Second))); err != nil {
			t.Fatal(err)
		}
		s.Users.End(ctx, res.Session.ID, "test")
	})
	out := filepath.Join(t.TempDir(), "out.json")
	args := []string{"export", "--data-dir", dir, "--user", "dr.banda", "--out", out}
	if r := runWith(t, kr, clinicianPassword+"\n", args...); r.code != 2 || !strings.Contains(r.stderr, "second factor") {
		t.Fatalf("without a code: %d %s", r.code, r.stderr)
	}
	if r := runWith(t, kr, clinicianPassword+"\n000000\n", args...); r.code != 1 {
		t.Fatalf("with a wrong code: %d %s", r.code, r.stderr)
	}
	if r := runWith(t, kr, clinicianPassword+"\n"+totp.Code(secret, time.Now())+"\n", args...); r.code != 0 {
		t.Fatalf("with the code: %d %s", r.code, r.stderr)
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, label: "import x.json", terminal: true, step: -1}
	p.update(1, 4)
	p.update(2, 4) // within 100 ms: not redrawn
	p.update(4, 4) // the end is always drawn
	p.finish()
	want := "\rimport x.json [#######                       ] 1/4" +
		"\rimport x.json [##############################] 4/4\n"
	if buf.String() != want {
		t.Errorf("bar %q, want %q", buf.String(), want)
	}
	buf.Reset()
	p = newProgress(&buf, "export")
	for i := 1; i <= 20; i++ { // a line at the start, then one per tenth
		p.update(i, 20)
	}
	p.finish()
	if got := strings.Count(buf.String(), "\n"); got != 11 || !strings.HasSuffix(buf.String(), "export: 20/20\n") {
		t.Errorf("plain progress:\n%s", buf.String())
	}
	if isTerminal(&buf) {
		t.Error("a buffer is a terminal")
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.json")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := writeAtomic(out, func(w io.Writer) error {
		io.WriteString(w, `{"resourceType":"Bundle",`)
		return context.Canceled // as on an interrupt mid-export
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if got, _ := os.ReadFile(out); string(got) != "old" {
		t.Errorf("a failed export changed the file: %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed export left %v", entries)
	}
	if err := writeAtomic(out, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(out)
	if got, _ := os.ReadFile(out); string(got) != "new" || fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced file %q, mode %v", got, fi.Mode().Perm())
	}
}
