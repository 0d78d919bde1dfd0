package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"outpost/backend/clinic"
	"outpost/backend/posture"
	"outpost/backend/vault/vaulttest"
)

// The report as text and as JSON: all 42 rows in order, live values, and
// a change to a setting seen in its row; exit 0 whatever the rows say,
// 1 when the vault cannot be opened.
func TestReportCommand(t *testing.T) {
	dir, kr := newClinic(t)

	r := runWith(t, kr, "", "report", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("report: %d %s", r.code, r.stderr)
	}
	for _, want := range []string{"Security report for Hill Clinic", "ID   STATUS REQUIREMENT", "S1   OK     Deleting a user or a clinical record needs a second authorised person",
		"P7   ", "lockout threshold: 5 failed sign-ins", "session limit: at most 3 concurrent sessions per account", "last shipment to the clinic server: never",
		"signed update metadata never checked", "cipher: SQLCipher 4.4.2", "on SQLite 3.33.0", "audit chain verified now"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	last := -1
	for _, id := range posture.IDs() {
		i := strings.Index(r.stdout, "\n"+fmt.Sprintf("%-4s ", id))
		if i < 0 || i < last {
			t.Errorf("row %s missing or out of order", id)
		}
		last = i
	}

	// An administrator loosens the idle lock: the row says so.
	withServices(t, dir, kr, func(s *clinic.Services) {
		us, _ := s.Users.ListUsers(t.Context())
		st, _ := s.Users.Settings(t.Context())
		st.IdleMinutes = 25
		if _, err := s.Users.SaveSettings(t.Context(), us[0].User, st); err != nil {
			t.Fatal(err)
		}
	})
	r = runWith(t, kr, "", "report", "--data-dir", dir, "--json")
	if r.code != 0 {
		t.Fatalf("report --json: %d %s", r.code, r.stderr)
	}
	var rep posture.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("json: %v\n%.300s", err, r.stdout)
	}
	if len(rep.Rows) != 42 || rep.Rows[0].ID != "S1" || rep.Rows[41].ID != "P7" {
		t.Fatalf("%d rows", len(rep.Rows))
	}
	s23, _ := rep.Row("S23")
	if s23.Status != posture.Warn || !strings.Contains(strings.Join(s23.Evidence, " "), "idle lock: 25 min") {
		t.Errorf("S23 after the change: %+v", s23)
	}

	// The update state of the app's folder, or another one.
	upd := filepath.Join(t.TempDir(), "upd")
	os.MkdirAll(upd, 0o700)
	os.WriteFile(filepath.Join(upd, "state.json"), []byte(`{"last_refreshed":"2020-01-01T00:00:00Z","expires":"2020-01-08T00:00:00Z"}`), 0o600)
	r = runWith(t, kr, "", "report", "--data-dir", dir, "--update-state-dir", upd)
	if r.code != 0 || !strings.Contains(r.stdout, "S16  FAIL") || !strings.Contains(r.stdout, "EXPIRED") {
		t.Errorf("expired metadata: %d %s", r.code, r.stdout)
	}

	// Refusals: no folder, no vault, no key.
	if r := runWith(t, kr, "", "report"); r.code != 2 {
		t.Errorf("no --data-dir: %d %s", r.code, r.stderr)
	}
	if r := runWith(t, kr, "", "report", "--data-dir", t.TempDir()); r.code != 1 {
		t.Errorf("no vault: %d %s", r.code, r.stderr)
	}
	if r := runWith(t, vaulttest.NewKeyring(), "", "report", "--data-dir", dir); r.code != 1 || r.stdout != "" {
		t.Errorf("no key: %d %s %s", r.code, r.stdout, r.stderr)
	}
}
