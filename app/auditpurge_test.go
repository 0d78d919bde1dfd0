package app

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/ehr"
)

// S32 through the bound methods: the retention setting (bounded, audited),
// and a purge of events 11 years old that two different people with
// audit.manage must act on, refused before anything old enough is copied
// off the laptop.
func TestAuditPurgeDualControl(t *testing.T) {
	e := newClinic(t)
	officer, _ := e.user("off.early", auth.RoleOfficer)
	doc, _ := e.user("dr.purge", auth.RoleClinician)
	e.patient(doc)

	// The retention period: 10 years by default, 7 to 75.
	s, err := e.admin.GetSettings()
	if err != nil || s.AuditRetentionYears != audit.DefaultRetentionYears {
		t.Fatalf("settings: %+v %v", s, err)
	}
	for _, years := range []int{0, 6, 76} {
		bad := s
		bad.AuditRetentionYears = years
		if _, err := e.admin.SaveSettings(bad); problemOf(t, err).Fields["auditRetentionYears"] != "Choose 7 to 75 years." {
			t.Errorf("%d years: %v", years, err)
		}
	}
	s.AuditRetentionYears = 12
	if got, err := e.admin.SaveSettings(s); err != nil || got.AuditRetentionYears != 12 {
		t.Fatalf("12 years: %+v %v", got, err)
	}
	var detail string
	e.admin.svc.Vault.R.QueryRow("SELECT detail FROM audit WHERE action = 'settings.change' ORDER BY seq DESC LIMIT 1").Scan(&detail)
	if !strings.Contains(detail, "audit retention 12 years") {
		t.Errorf("settings change audited as %q", detail)
	}
	if st, err := officer.ListAuditPurges(); err != nil || st.RetentionYears != 12 {
		t.Fatalf("retention shown: %+v %v", st, err)
	}
	s.AuditRetentionYears = 10
	if _, err := e.admin.SaveSettings(s); err != nil {
		t.Fatal(err)
	}

	// Clinicians do not manage the audit trail.
	if _, err := doc.ListAuditPurges(); code(t, err) != ehr.EForbidden {
		t.Errorf("clinician: %v", err)
	}

	// Nothing is old enough yet.
	st, err := officer.ListAuditPurges()
	if err != nil || st.Eligible.Events != 0 || !strings.Contains(st.NotEligible, "Nothing is old enough") || st.PurgedThrough != 0 {
		t.Fatalf("fresh: %+v %v", st, err)
	}
	if _, err := officer.RequestAuditPurge(AuditPurgeAsk{Reason: "retention reached"}); code(t, err) != ehr.EConflict ||
		!strings.Contains(problemOf(t, err).Message, "Nothing is old enough") {
		t.Fatalf("young events: %v", err)
	}

	// Eleven years on (the staff kept signing in meanwhile).
	e.clock.t = e.clock.t.AddDate(11, 0, 0)
	if _, err := e.admin.svc.Vault.W.Exec("UPDATE users SET last_login = ?", e.clock.t.Add(-24*time.Hour).Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	e.admin = e.window("admin-pc-2")
	mfaSignIn(t, e.admin, e.clock, "admin.rose", setupReq.Password, e.secret)
	officer, _ = e.user("off.later", auth.RoleOfficer)

	// Old enough, but not yet copied off the laptop.
	if _, err := officer.RequestAuditPurge(AuditPurgeAsk{Reason: "retention reached"}); code(t, err) != ehr.EConflict ||
		!strings.Contains(problemOf(t, err).Message, "Nothing old enough has been copied off this laptop yet") {
		t.Fatalf("not copied off: %v", err)
	}
	saved, err := officer.SaveSealedAuditCopy(SealRequest{Passphrase: "river stones at dawn 42"})
	if err != nil {
		t.Fatal(err)
	}
	media := base64.StdEncoding.EncodeToString(readSaved(t, e, saved.Name))
	if _, err := officer.ConfirmAuditCopy(CopyConfirmation{Data: media, Passphrase: "river stones at dawn 42"}); err != nil {
		t.Fatal(err)
	}

	st, err = officer.ListAuditPurges()
	if err != nil || st.Eligible.Events == 0 || st.Eligible.From != 1 || !strings.HasPrefix(st.Eligible.Newest, "2026-") || st.NotEligible != "" {
		t.Fatalf("eligible: %+v %v", st, err)
	}
	if _, err := officer.RequestAuditPurge(AuditPurgeAsk{Reason: "no"}); problemOf(t, err).Fields["reason"] == "" {
		t.Errorf("short reason: %v", err)
	}
	req, err := officer.RequestAuditPurge(AuditPurgeAsk{Reason: "Ten years kept; the copy is confirmed"})
	if err != nil || !req.Mine || req.AuditPurgeRange != st.Eligible || req.RequestedBy != "off.later" {
		t.Fatalf("request: %+v %v (eligible %+v)", req, err, st.Eligible)
	}

	// The requester may not approve.
	_, err = officer.ApproveAuditPurge(req.ID)
	if code(t, err) != ehr.EForbidden || !strings.Contains(problemOf(t, err).Message, "second person") {
		t.Fatalf("self-approval: %v", err)
	}
	if st, _ = officer.ListAuditPurges(); len(st.Pending) != 1 || !st.Pending[0].Mine {
		t.Fatalf("the requester's list: %+v", st.Pending)
	}
	st, err = e.admin.ListAuditPurges()
	if err != nil || len(st.Pending) != 1 || st.Pending[0].Mine || st.Pending[0].RequestedBy != "off.later" ||
		st.Pending[0].Reason != "Ten years kept; the copy is confirmed" || st.Pending[0].Through != req.Through {
		t.Fatalf("the administrator's list: %+v %v", st.Pending, err)
	}

	// A second person approves: the events go, the chain still verifies.
	alertsBefore := countAlerts(t, e)
	res, err := e.admin.ApproveAuditPurge(req.ID)
	if err != nil || res.AuditPurgeRange != req.AuditPurgeRange || len(res.AnchorHash) != 64 {
		t.Fatalf("approve: %+v %v", res, err)
	}
	if _, err := e.admin.ApproveAuditPurge(req.ID); code(t, err) != ehr.ENotFound {
		t.Errorf("approved twice: %v", err)
	}
	st, err = e.admin.ListAuditPurges()
	if err != nil || st.PurgedThrough != req.Through || st.PurgedAt == "" || len(st.Pending) != 0 {
		t.Fatalf("after the purge: %+v %v", st, err)
	}
	rep, err := audit.VerifyVault(t.Context(), e.admin.svc.Vault.R)
	if err != nil || rep.Anchor.Seq != req.Through || rep.Anchor.Hash != res.AnchorHash {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	page, err := officer.ListAudit(AuditFilter{Limit: 1})
	if err != nil || len(page.Events) != 1 || page.Events[0].Seq != req.Through+1 {
		t.Fatalf("the viewer after the purge: %+v %v", page, err)
	}
	for _, want := range []struct{ action, outcome string }{
		{"audit.purge_request", audit.Success}, {"audit.purge_approve", audit.Denied}, {"audit.purge_approve", audit.Success},
	} {
		var n int
		e.admin.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action = ? AND outcome = ?", want.action, want.outcome).Scan(&n)
		if n != 1 {
			t.Errorf("%d %s events with outcome %s", n, want.action, want.outcome)
		}
	}
	if n := countAlerts(t, e); n != alertsBefore {
		t.Errorf("the purge raised %d alerts", n-alertsBefore)
	}
}

func countAlerts(t *testing.T, e *clinicEnv) int {
	t.Helper()
	var n int
	if err := e.admin.svc.Vault.R.QueryRow("SELECT count(*) FROM alerts").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
