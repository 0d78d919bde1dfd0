package app

import (
	"strings"
	"testing"

	"outpost/backend/auth"
	"outpost/backend/ehr"
	"outpost/backend/posture"
)

// The security report in the window: administrators and security
// officers read it, others are refused; it carries the window's CSP and
// every bound method's access rule, follows a setting changed through the
// admin area, and each reading is audited.
func TestSecurityReport(t *testing.T) {
	e := newClinic(t)
	rep, err := e.admin.SecurityReport()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 42 || rep.Rows[0].ID != "S1" || rep.Rows[41].ID != "P7" || rep.Version != "test" {
		t.Fatalf("%d rows, version %q", len(rep.Rows), rep.Version)
	}
	ev := func(r posture.Report, id string) (posture.Status, string) {
		row, _ := r.Row(id)
		return row.Status, strings.Join(row.Evidence, "\n")
	}
	if st, text := ev(rep, "S4"); st != posture.OK || !strings.Contains(text, "Content-Security-Policy: "+CSP) {
		t.Errorf("S4: %s %s", st, text)
	}
	if st, text := ev(rep, "P1"); st != posture.OK || !strings.Contains(text, "each with an access rule; callable before sign-in: ") || !strings.Contains(text, "Login") {
		t.Errorf("P1: %s %s", st, text)
	}
	if st, _ := ev(rep, "S23"); st != posture.OK {
		t.Errorf("S23 before: %s", st)
	}
	s, err := e.admin.GetSettings()
	if err != nil {
		t.Fatal(err)
	}
	s.AdminIdleMinutes = 15
	if _, err := e.admin.SaveSettings(s); err != nil {
		t.Fatal(err)
	}
	rep, err = e.admin.SecurityReport()
	if err != nil {
		t.Fatal(err)
	}
	if st, text := ev(rep, "S23"); st != posture.Warn || !strings.Contains(text, "administrators' idle lock 15 min (default 10)") {
		t.Errorf("S23 after: %s %s", st, text)
	}

	officer, _ := e.user("sec.oona", auth.RoleOfficer)
	if _, err := officer.SecurityReport(); err != nil {
		t.Errorf("officer: %v", err)
	}
	for _, role := range []string{auth.RoleClinician, auth.RoleAuditor} {
		w, _ := e.user("u2."+role, role)
		if _, err := w.SecurityReport(); code(t, err) != ehr.EForbidden {
			t.Errorf("%s: %v", role, err)
		}
	}
	var n int
	if err := e.admin.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action = 'security.report' AND outcome = 'success'").Scan(&n); err != nil || n != 3 {
		t.Errorf("%d security.report events, %v", n, err)
	}
}
