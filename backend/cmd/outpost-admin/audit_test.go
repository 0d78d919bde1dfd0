package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/clinic"
)

const auditorPassword = "meadow-cobalt-harvest-48"

// The audit trail end to end: who may export it, the file, and both
// verifiers on an untouched and a tampered trail.
func TestAuditExportVerify(t *testing.T) {
	dir, kr := newClinic(t)
	withServices(t, dir, kr, func(s *clinic.Services) {
		tx, _ := s.Vault.W.Begin()
		if _, err := s.Users.CreateUser(t.Context(), tx, "it.admin", auth.NewUser{Username: "audit.ana", Name: "Ana", Password: auditorPassword,
			Roles: []string{auth.RoleAuditor}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	})
	out := filepath.Join(t.TempDir(), "audit.ndjson")

	// A clinician may not; the refusal is itself audited.
	r := runWith(t, kr, clinicianPassword+"\n", "audit", "export", "--data-dir", dir, "--user", "dr.banda", "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "E_FORBIDDEN") {
		t.Fatalf("clinician export: %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("a refused export left a file")
	}
	withServices(t, dir, kr, func(s *clinic.Services) {
		var n int
		s.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action = 'audit.export' AND outcome = 'denied' AND username = 'dr.banda'").Scan(&n)
		if n != 1 {
			t.Errorf("%d denied export events", n)
		}
	})
	if n := openSessions(t, dir, kr); n != 0 {
		t.Errorf("%d sessions left open", n)
	}

	// An auditor may.
	r = runWith(t, kr, auditorPassword+"\n", "audit", "export", "--data-dir", dir, "--user", "audit.ana", "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, "Exported") || !strings.Contains(r.stdout, "public key (Ed25519): ") {
		t.Fatalf("auditor export: %d %s %s", r.code, r.stdout, r.stderr)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", fi, err)
	}
	file, _ := os.ReadFile(out)
	key := strings.TrimSpace(r.stdout[strings.LastIndex(r.stdout, ": ")+2:])
	if !bytes.Contains(file, []byte(`"format":"outpost-audit/1"`)) || !bytes.Contains(file, []byte(`"publicKey":"`+key+`"`)) {
		t.Fatalf("export header:\n%.300s", file)
	}
	// The sign-in that exported is the file's last event, under a checkpoint.
	ls := bytes.Split(bytes.TrimSpace(file), []byte("\n"))
	last := ls[len(ls)-1]
	if !bytes.Contains(last, []byte(`"type":"checkpoint"`)) {
		t.Fatalf("last line %s", last)
	}

	r = runWith(t, kr, "", "audit", "verify", out)
	if r.code != 0 || !strings.Contains(r.stdout, "audit trail OK: ") || !strings.Contains(r.stdout, "; 0 events after it") {
		t.Fatalf("verify file: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := runWith(t, kr, "", "audit", "verify", "--public-key", key, out); r.code != 0 {
		t.Fatalf("verify pinned: %d %s %s", r.code, r.stdout, r.stderr)
	}
	other := base64.StdEncoding.EncodeToString(make([]byte, 32))
	if r := runWith(t, kr, "", "audit", "verify", "--public-key", other, out); r.code != 1 || !strings.Contains(r.stdout, "not the one expected") {
		t.Fatalf("verify with another key: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runWith(t, kr, "", "audit", "verify", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "audit trail OK: ") {
		t.Fatalf("verify vault: %d %s %s", r.code, r.stdout, r.stderr)
	}

	// The file with event 4 changed, or the last two events cut.
	ls4 := bytes.SplitAfter(bytes.Clone(file), []byte("\n"))
	ls4[4] = bytes.Replace(ls4[4], []byte(`"outcome":"success"`), []byte(`"outcome":"failure"`), 1)
	changed := bytes.Join(ls4, nil)
	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	os.WriteFile(bad, changed, 0o600)
	r = runWith(t, kr, "", "audit", "verify", bad)
	if r.code != 1 || !strings.Contains(r.stdout, "breaks at event 4 (line 5)") || !strings.Contains(r.stderr, "first bad event is 4") {
		t.Fatalf("verify changed file: %d %s %s", r.code, r.stdout, r.stderr)
	}
	var events, cps [][]byte
	for _, l := range bytes.SplitAfter(file, []byte("\n"))[1:] {
		if bytes.Contains(l, []byte(`"type":"checkpoint"`)) {
			cps = append(cps, l)
		} else if len(l) > 0 {
			events = append(events, l)
		}
	}
	cut := append([]byte{}, bytes.SplitAfter(file, []byte("\n"))[0]...)
	cut = append(cut, bytes.Join(events[:len(events)-2], nil)...)
	cut = append(cut, bytes.Join(cps, nil)...)
	os.WriteFile(bad, cut, 0o600)
	r = runWith(t, kr, "", "audit", "verify", bad)
	if want := "breaks at event " + strconv.Itoa(len(events)-1); r.code != 1 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "missing") {
		t.Fatalf("verify cut file: %d %s %s (want %q)", r.code, r.stdout, r.stderr, want)
	}

	// The vault with event 3 changed through SQL with the key.
	v := mustOpen(t, dir, kr)
	for _, stmt := range []string{"DROP TRIGGER audit_immutable_update", "UPDATE audit SET username = 'someone.else' WHERE seq = 3"} {
		if _, err := v.W.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	v.Close()
	r = runWith(t, kr, "", "audit", "verify", "--data-dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "breaks at event 3:") || !strings.Contains(r.stderr, "first bad event is 3") {
		t.Fatalf("verify tampered vault: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// An administrator may export too; the export shows the change.
	r = runWith(t, kr, adminPassword+"\n", "audit", "export", "--data-dir", dir, "--user", "it.admin", "--out", out)
	if r.code != 0 {
		t.Fatalf("admin export: %d %s", r.code, r.stderr)
	}
	if r := runWith(t, kr, "", "audit", "verify", out); r.code != 1 || !strings.Contains(r.stdout, "breaks at event 3 (line 4)") {
		t.Fatalf("verify export of the tampered vault: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, dir) {
		t.Errorf("output names the data folder")
	}
}

func TestAuditUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"audit"}, 2, "export or verify"},
		{[]string{"audit", "frob"}, 2, "unknown audit command"},
		{[]string{"audit", "verify"}, 2, "give one FILE"},
		{[]string{"audit", "verify", "--data-dir", "d", "f"}, 2, "give one FILE"},
		{[]string{"audit", "verify", "--public-key", "short", "f"}, 2, "32 bytes"},
		{[]string{"audit", "verify", "/nonexistent/audit.ndjson"}, 1, "Cannot read the file"},
		{[]string{"audit", "export", "--data-dir", "d"}, 2, "required"},
	} {
		r := runWith(t, nil, "", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: %d %q", tt.args, r.code, r.stderr)
		}
	}
}

// S32: after a purge (events 11 years old, copied off, two people) both
// verifiers start from the anchor, and an export is of format 2.
func TestAuditVerifyAfterPurge(t *testing.T) {
	dir, kr := newClinic(t)
	later := time.Now().UTC().AddDate(11, 0, 0)
	s, err := clinic.Attach(t.Context(), mustOpen(t, dir, kr), clinic.Deps{Workstation: "test", Passwords: fastPasswords,
		Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := s.Vault.W.Begin()
	if _, err := s.Users.CreateUser(t.Context(), tx, "it.admin", auth.NewUser{Username: "audit.ana", Name: "Ana", Password: auditorPassword,
		Roles: []string{auth.RoleAuditor}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var media bytes.Buffer
	if _, err := audit.Export(t.Context(), s.Vault.R, later, &media); err != nil {
		t.Fatal(err)
	}
	cp, err := audit.AcknowledgeCopy(t.Context(), s.Vault.W, media.Bytes(), later)
	if err != nil {
		t.Fatal(err)
	}
	a := audit.PurgeActor{UserID: "id-a", Username: "off.a", Roles: []string{auth.RoleOfficer}}
	b := audit.PurgeActor{UserID: "id-b", Username: "it.admin", Roles: []string{auth.RoleAdmin}}
	req, err := s.Audit.RequestPurge(t.Context(), "req-1", a, "ten years kept", audit.DefaultRetentionYears)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Audit.ApprovePurge(t.Context(), req.ID, b, audit.DefaultRetentionYears)
	if err != nil || res.Through != cp.Seq {
		t.Fatalf("purge: %+v %v (copy through %d)", res, err, cp.Seq)
	}
	s.Close()

	r := runWith(t, kr, "", "audit", "verify", "--data-dir", dir)
	want := fmt.Sprintf("events 1 to %d were purged", res.Through)
	if r.code != 0 || !strings.Contains(r.stdout, "audit trail OK: ") || !strings.Contains(r.stdout, want) ||
		!strings.Contains(r.stdout, fmt.Sprintf("(%d to ", res.Through+1)) {
		t.Fatalf("verify purged vault: %d %s %s", r.code, r.stdout, r.stderr)
	}
	out := filepath.Join(t.TempDir(), "audit.ndjson")
	r = runWith(t, kr, auditorPassword+"\n", "audit", "export", "--data-dir", dir, "--user", "audit.ana", "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("Events 1 to %d were purged", res.Through)) {
		t.Fatalf("export purged vault: %d %s %s", r.code, r.stdout, r.stderr)
	}
	file, _ := os.ReadFile(out)
	if !bytes.Contains(file, []byte(`"format":"outpost-audit/2"`)) || !bytes.Contains(file, []byte(fmt.Sprintf(`{"hash":"%s","seq":%d,"type":"anchor"}`, res.Anchor.Hash, res.Anchor.Seq))) {
		t.Fatalf("anchored export:\n%.600s", file)
	}
	r = runWith(t, kr, "", "audit", "verify", out)
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("verify anchored file: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// A changed event after the anchor is still named.
	ls := bytes.SplitAfter(file, []byte("\n"))
	ls[3] = bytes.Replace(ls[3], []byte(`"outcome":"success"`), []byte(`"outcome":"failure"`), 1)
	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	os.WriteFile(bad, bytes.Join(ls, nil), 0o600)
	r = runWith(t, kr, "", "audit", "verify", bad)
	if want := fmt.Sprintf("breaks at event %d (line 4)", res.Through+2); r.code != 1 || !strings.Contains(r.stdout, want) {
		t.Fatalf("verify changed anchored file: %d %s %s (want %q)", r.code, r.stdout, r.stderr, want)
	}
}
