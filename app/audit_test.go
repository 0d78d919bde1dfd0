package app

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/ehr"
)

func actions(p AuditPage) []string {
	out := make([]string, len(p.Events))
	for i, e := range p.Events {
		out[i] = e.Action
	}
	return out
}

// The security officer and the auditor read the audit trail: filtered by
// user, patient, action, outcome and time, sorted by a column, in pages.
// Each look is itself audited.
func TestListAudit(t *testing.T) {
	e := newClinic(t)
	doc, _ := e.user("dr.audit", auth.RoleClinician)
	p := e.patient(doc)
	if _, err := doc.GetPatient(p.ID); err != nil {
		t.Fatal(err)
	}
	officer, _ := e.user("off.icer", auth.RoleOfficer)
	auditor, _ := e.user("aud.itor", auth.RoleAuditor)

	page, err := officer.ListAudit(AuditFilter{Username: "  DR.Audit ", Desc: true})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total < 4 || len(page.Events) != page.Total || page.Limit != audit.DefaultLimit || page.Offset != 0 {
		t.Fatalf("page %+v", page)
	}
	for _, ev := range page.Events {
		if ev.Username != "dr.audit" {
			t.Errorf("another user's event: %+v", ev)
		}
	}
	first := page.Events[0]
	if first.Action != "patient.read" || first.PatientID != p.ID || first.Workstation != "dr.audit-pc" || first.Outcome != audit.Success ||
		first.Hash == "" || first.PrevHash == "" || first.Session == "" || !slices.Equal(first.Roles, []string{auth.RoleClinician}) ||
		first.Addresses == nil || first.Seq <= page.Events[1].Seq {
		t.Errorf("newest event %+v", first)
	}
	if _, err := time.Parse(time.RFC3339Nano, first.At); err != nil {
		t.Errorf("time %q: %v", first.At, err)
	}

	// By action, patient and outcome; an action prefix.
	page, err = auditor.ListAudit(AuditFilter{Username: "dr.audit", Action: "patient.register"})
	if err != nil || page.Total != 1 || page.Events[0].PatientID != p.ID {
		t.Fatalf("by action: %+v, %v", page, err)
	}
	page, err = auditor.ListAudit(AuditFilter{PatientID: p.ID, Action: "patient.*"})
	if err != nil || !slices.Equal(actions(page), []string{"patient.register", "patient.read"}) {
		t.Fatalf("by patient: %v, %v", actions(page), err)
	}
	page, err = auditor.ListAudit(AuditFilter{Outcome: audit.Denied})
	if err != nil || page.Total != 0 {
		t.Fatalf("denied: %+v, %v", page, err)
	}
	if _, err := doc.ListAudit(AuditFilter{}); code(t, err) != ehr.EForbidden {
		t.Fatalf("clinician: %v", err)
	}
	page, err = auditor.ListAudit(AuditFilter{Outcome: audit.Denied})
	if err != nil || page.Total != 1 || page.Events[0].Username != "dr.audit" || page.Events[0].Action != "ListAudit" {
		t.Fatalf("the clinician's refused look: %+v, %v", page, err)
	}

	// Sorted by a column, in pages of 2 (the officer's own looks, added
	// as it pages, are not in this filter).
	all, err := officer.ListAudit(AuditFilter{Sort: "username", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(all.Events, func(a, b AuditEntry) int { return strings.Compare(a.Username, b.Username) }) {
		t.Error("not sorted by username")
	}
	f := AuditFilter{Username: "dr.audit", Sort: "action", Desc: true, Limit: 1000}
	whole, err := officer.ListAudit(f)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(whole.Events, func(a, b AuditEntry) int { return strings.Compare(b.Action, a.Action) }) {
		t.Errorf("not sorted by action, descending: %v", actions(whole))
	}
	var paged []AuditEntry
	for f.Offset, f.Limit = 0, 2; f.Offset < whole.Total; f.Offset += 2 {
		pg, err := officer.ListAudit(f)
		if err != nil || pg.Offset != f.Offset || pg.Limit != 2 || pg.Total != whole.Total {
			t.Fatalf("page at %d: %+v, %v", f.Offset, pg, err)
		}
		paged = append(paged, pg.Events...)
	}
	if !slices.EqualFunc(paged, whole.Events, func(a, b AuditEntry) bool { return a.Seq == b.Seq }) {
		t.Errorf("pages %v, whole %v", actions(AuditPage{Events: paged}), actions(whole))
	}

	// Every look was audited, with its filter.
	looks, err := auditor.ListAudit(AuditFilter{Action: "audit.read", Username: "off.icer", Desc: true})
	if err != nil || looks.Total < 3 {
		t.Fatalf("looks: %+v, %v", looks, err)
	}
	if d := looks.Events[len(looks.Events)-1].Detail; !strings.Contains(d, "user=dr.audit") || !strings.Contains(d, "sort=seq desc") {
		t.Errorf("first look's detail %q", d)
	}
	withPatient, err := auditor.ListAudit(AuditFilter{Action: "audit.read", PatientID: p.ID})
	if err != nil || withPatient.Total != 1 || withPatient.Events[0].Username != "aud.itor" {
		t.Errorf("a look at a patient's events names the patient: %+v, %v", withPatient, err)
	}
}

// Dates are whole days in the computer's zone, times whole seconds; both
// ends are included. Bad ones are field errors.
func TestListAuditDates(t *testing.T) {
	e := newClinic(t)
	officer, _ := e.user("off.dates", auth.RoleOfficer)
	// Every event so far is on 4 May 2026 (the test clock's day, UTC).
	count := func(f AuditFilter) int {
		t.Helper()
		f.Action = "clinic.setup"
		p, err := officer.ListAudit(f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		return p.Total
	}
	setup, err := officer.ListAudit(AuditFilter{Action: "clinic.setup"})
	if err != nil || setup.Total != 1 {
		t.Fatalf("setup event: %+v, %v", setup, err)
	}
	at := setup.Events[0].At
	for _, tc := range []struct {
		from, to string
		want     int
	}{
		{"2026-05-04", "2026-05-04", 1},
		{"2026-05-04", "", 1},
		{"", "2026-05-03", 0},
		{"2026-05-05", "", 0},
		{at, at, 1}, // both ends inclusive to the second
		{"", strings.Replace(at, "08:30:00", "08:29:59", 1), 0},
		{"2026-05-04T10:30:00+02:00", "2026-05-04T10:30:00+02:00", 1}, // another zone, the same instant
	} {
		if got := count(AuditFilter{From: tc.from, To: tc.to}); got != tc.want {
			t.Errorf("from %q to %q: %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
	for _, tc := range []struct {
		f      AuditFilter
		fields []string
	}{
		{AuditFilter{From: "04/05/2026"}, []string{"from"}},
		{AuditFilter{From: "2026-02-30", To: "yesterday"}, []string{"from", "to"}},
		{AuditFilter{To: "2026-05-04T25:00:00Z"}, []string{"to"}},
		{AuditFilter{From: "2026-05-05", To: "2026-05-03"}, []string{"to"}},
		{AuditFilter{Sort: "hash"}, []string{"sort"}},
		{AuditFilter{Outcome: "maybe"}, []string{"outcome"}},
		{AuditFilter{Limit: 1001}, []string{"limit"}},
	} {
		_, err := officer.ListAudit(tc.f)
		p := problemOf(t, err)
		if p.Code != ehr.EInvalid {
			t.Errorf("%+v: %v", tc.f, err)
			continue
		}
		for _, f := range tc.fields {
			if p.Fields[f] == "" {
				t.Errorf("%+v: no message for %s: %v", tc.f, f, p.Fields)
			}
		}
	}
}

// Exports: the filtered events as CSV or FHIR AuditEvent NDJSON through
// the save dialog; the copy is audited.
func TestSaveAuditExport(t *testing.T) {
	e := newClinic(t)
	doc, _ := e.user("dr.csv", auth.RoleClinician)
	p := e.patient(doc)
	auditor, _ := e.user("aud.export", auth.RoleAuditor)

	got, err := auditor.SaveAuditExport(AuditExportRequest{Format: "csv", Filter: AuditFilter{Username: "dr.csv", Sort: "action"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "outpost-audit-"+e.clock.t.Format("2006-01-02")+".csv" {
		t.Errorf("saved as %q", got.Name)
	}
	rows, err := csv.NewReader(bytes.NewReader(readSaved(t, e, got.Name))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], audit.CSVHeader) || len(rows) < 3 {
		t.Fatalf("rows %q", rows)
	}
	var acts []string
	for _, r := range rows[1:] {
		if r[2] != "dr.csv" {
			t.Errorf("username cell %q, not this user", r[2])
		}
		acts = append(acts, r[4])
	}
	if !slices.IsSorted(acts) || !slices.Contains(acts, "patient.register") {
		t.Errorf("actions %v", acts)
	}
	if !e.audited(t, "audit.export", "") {
		t.Error("the export was not audited")
	}

	got, err = auditor.SaveAuditExport(AuditExportRequest{Format: "fhir", Filter: AuditFilter{PatientID: p.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got.Name, ".ndjson") {
		t.Errorf("saved as %q", got.Name)
	}
	sc := bufio.NewScanner(bytes.NewReader(readSaved(t, e, got.Name)))
	n := 0
	for sc.Scan() {
		var r struct {
			ResourceType string
			Entity       []struct{ What struct{ Reference string } }
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.ResourceType != "AuditEvent" || len(r.Entity) == 0 || r.Entity[0].What.Reference != "Patient/"+p.ID {
			t.Errorf("line %d: %s (%v)", n+1, sc.Bytes(), err)
		}
		n++
	}
	if n < 1 {
		t.Error("no AuditEvent for the patient")
	}
	if !e.audited(t, "audit.export", p.ID) {
		t.Error("the export of a patient's events does not name the patient")
	}

	for _, req := range []AuditExportRequest{
		{Format: "xml"},
		{Format: "", Filter: AuditFilter{From: "soon"}},
	} {
		_, err := auditor.SaveAuditExport(req)
		if pr := problemOf(t, err); pr.Code != ehr.EInvalid || (req.Format != "csv" && pr.Fields["format"] == "") ||
			(req.Filter.From != "" && pr.Fields["from"] == "") {
			t.Errorf("%+v: %v %v", req, err, pr.Fields)
		}
	}
	if _, err := doc.SaveAuditExport(AuditExportRequest{Format: "csv"}); code(t, err) != ehr.EForbidden {
		t.Errorf("clinician export: %v", err)
	}
}
