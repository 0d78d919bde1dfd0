package records_test

import (
	"strings"
	"testing"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

func registered(t *testing.T, e *env) string {
	t.Helper()
	rec, err := e.s.RegisterPatient(ctx, e.actor, patient("Phiri", "Mercy", "1990-05-05"))
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

func stamp(t time.Time) string { return t.Format(time.RFC3339) }

func TestVisitWorkflow(t *testing.T) {
	e := newEnv(t)
	pid := registered(t, e)
	start := e.clock.t
	visit, err := records.Save(ctx, e.s, e.actor, records.Encounters, "", "", ehr.Encounter{PatientID: pid, Status: "open", Start: stamp(start), Complaint: "cough for 3 days"}, "")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.t = e.clock.t.Add(5 * time.Minute)
	for _, o := range []ehr.Observation{
		{Vital: "systolic", Value: 128}, {Vital: "diastolic", Value: 84}, {Vital: "temperature", Value: 38.2}, {Vital: "weight", Value: 61.5, Unit: "kg"},
	} {
		o.PatientID, o.EncounterID, o.Effective = pid, visit.ID, stamp(e.clock.t)
		if _, err := records.Save(ctx, e.s, e.actor, records.Observations, "", "", o, ""); err != nil {
			t.Fatalf("%s: %v", o.Vital, err)
		}
	}
	// Out of range: refused with the plausible range, nothing stored.
	_, err = records.Save(ctx, e.s, e.actor, records.Observations, "", "", ehr.Observation{PatientID: pid, Vital: "temperature", Value: 58, Effective: stamp(e.clock.t)}, "")
	if msg := ehr.ErrorFields(err)["value"]; !strings.Contains(msg, "30 to 45") {
		t.Fatalf("out of range: %v", err)
	}
	// Update the open visit, then sign it.
	v := visit.Value
	v.Assessment, v.Plan = "lower respiratory infection", "amoxicillin, review in 5 days"
	visit, err = records.Save(ctx, e.s, e.actor, records.Encounters, visit.ID, visit.VersionID, v, "assessment")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.t = e.clock.t.Add(10 * time.Minute)
	signed, err := records.SignEncounter(ctx, e.s, e.actor, visit.ID, visit.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if signed.Value.Status != "signed" || signed.Value.SignedBy != e.actor.Username || signed.Value.End == "" {
		t.Fatalf("signed = %+v", signed.Value)
	}
	// A signed visit changes only by an amendment with a reason.
	w := signed.Value
	w.Plan = "amoxicillin 500 mg, review in 3 days"
	if _, err := records.Save(ctx, e.s, e.actor, records.Encounters, visit.ID, signed.VersionID, w, "x"); ehr.ErrorFields(err)["reason"] == "" {
		t.Fatalf("amendment without a reason: %v", err)
	}
	w.Status = "open"
	w.SignedBy, w.SignedAt = "", ""
	if _, err := records.Save(ctx, e.s, e.actor, records.Encounters, visit.ID, signed.VersionID, w, "reopen it"); ehr.ErrorCode(err) != ehr.EConflict {
		t.Fatalf("reopening a signed visit: %v", err)
	}
	w = signed.Value
	w.Plan = "amoxicillin 500 mg, review in 3 days"
	amended, err := records.Save(ctx, e.s, e.actor, records.Encounters, visit.ID, signed.VersionID, w, "dose clarified")
	if err != nil {
		t.Fatal(err)
	}
	if amended.Value.AmendReason != "dose clarified" || amended.Value.SignedBy != e.actor.Username {
		t.Errorf("amended = %+v", amended.Value)
	}
	hist, err := e.s.History(ctx, e.actor, visit.ID)
	if err != nil || len(hist) != 4 {
		t.Fatalf("visit history: %d versions, %v", len(hist), err)
	}
	sum, err := records.ChartSummary(ctx, e.s, e.actor, pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Visits) != 1 || sum.Visits[0].Value.AmendReason != "dose clarified" || len(sum.Vitals) != 4 {
		t.Fatalf("summary: %d visits, %d vitals", len(sum.Visits), len(sum.Vitals))
	}
}

func TestAllergyWarningAndSummary(t *testing.T) {
	e := newEnv(t)
	pid := registered(t, e)
	day := e.clock.t.Format("2006-01-02")
	if _, err := records.Save(ctx, e.s, e.actor, records.Allergies, "", "", ehr.Allergy{PatientID: pid,
		Substance: ehr.Concept{Text: "Penicillin"}, Reaction: "rash", Severity: "moderate", Status: "active"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := records.Save(ctx, e.s, e.actor, records.Conditions, "", "", ehr.Condition{PatientID: pid,
		Code: ehr.Concept{Coding: []ehr.Coding{{System: "http://hl7.org/fhir/sid/icd-10", Code: "E11.9", Display: "Type 2 diabetes"}}}, Status: "active", Onset: day}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := records.Save(ctx, e.s, e.actor, records.Conditions, "", "", ehr.Condition{PatientID: pid,
		Code: ehr.Concept{Text: "Malaria"}, Status: "resolved", Onset: day}, ""); err != nil {
		t.Fatal(err)
	}
	warn, err := records.AllergyWarnings(ctx, e.s, e.actor, pid, ehr.Concept{Text: "Penicillin V 250 mg"})
	if err != nil || len(warn) != 1 {
		t.Fatalf("warning: %v %v", warn, err)
	}
	if warn, _ := records.AllergyWarnings(ctx, e.s, e.actor, pid, ehr.Concept{Text: "Paracetamol"}); len(warn) != 0 {
		t.Fatalf("false warning: %v", warn)
	}
	sum, err := records.ChartSummary(ctx, e.s, e.actor, pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Problems) != 1 || sum.Problems[0].Value.Code.Coding[0].Code != "E11.9" || len(sum.Allergies) != 1 {
		t.Fatalf("summary: %+v", sum)
	}
}

func TestVitalSeries(t *testing.T) {
	e := newEnv(t)
	pid := registered(t, e)
	for i, w := range []float64{60, 61.2, 62.4} {
		at := e.clock.t.Add(time.Duration(i) * 24 * time.Hour)
		e.clock.t = at
		if _, err := records.Save(ctx, e.s, e.actor, records.Observations, "", "", ehr.Observation{PatientID: pid, Vital: "weight", Value: w, Effective: stamp(at)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	pts, err := records.VitalSeries(ctx, e.s, e.actor, pid, "weight", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 3 || pts[0].Value != 60 || pts[2].Value != 62.4 || pts[0].Unit != "kg" {
		t.Fatalf("series = %+v", pts)
	}
	if _, err := records.VitalSeries(ctx, e.s, e.actor, pid, "x-ray", 10); ehr.ErrorCode(err) != ehr.EInvalid {
		t.Fatalf("unknown vital: %v", err)
	}
}

func TestChartRecordRules(t *testing.T) {
	e := newEnv(t)
	pid := registered(t, e)
	// Unknown patient.
	if _, err := records.Save(ctx, e.s, e.actor, records.Conditions, "", "", ehr.Condition{PatientID: "0190a0b0-0000-7000-8000-000000000000",
		Code: ehr.Concept{Text: "x"}, Status: "active"}, ""); ehr.ErrorFields(err)["patientId"] == "" {
		t.Fatalf("unknown patient: %v", err)
	}
	c, err := records.Save(ctx, e.s, e.actor, records.Conditions, "", "", ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "Asthma"}, Status: "active"}, "")
	if err != nil {
		t.Fatal(err)
	}
	up := c.Value
	up.Status = "inactive"
	if _, err := records.Save(ctx, e.s, e.actor, records.Conditions, c.ID, c.VersionID, up, ""); ehr.ErrorFields(err)["reason"] == "" {
		t.Fatalf("update without reason: %v", err)
	}
	if _, err := records.Save(ctx, e.s, e.actor, records.Conditions, c.ID, c.VersionID, up, "controlled"); err != nil {
		t.Fatal(err)
	}
	if _, err := records.Save(ctx, e.s, e.actor, records.Conditions, c.ID, c.VersionID, up, "again"); ehr.ErrorCode(err) != ehr.EConflict {
		t.Fatalf("stale base: %v", err)
	}
	// A record of one kind is not read as another.
	if _, err := records.Get(ctx, e.s, e.actor, records.Allergies, c.ID); ehr.ErrorCode(err) != ehr.ENotFound {
		t.Fatalf("wrong kind: %v", err)
	}
	// Atomic: a failed audit insert leaves no chart row.
	before := count(t, e, "chart")
	if _, err := e.v.W.Exec("CREATE TEMP TRIGGER fail_audit BEFORE INSERT ON main.audit BEGIN SELECT RAISE(ABORT, 'x'); END"); err != nil {
		t.Fatal(err)
	}
	if _, err := records.Save(ctx, e.s, e.actor, records.Conditions, "", "", ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "Gout"}, Status: "active"}, ""); err == nil {
		t.Fatal("saved without its audit event")
	}
	if got := count(t, e, "chart"); got != before {
		t.Fatalf("chart rows %d after a failed write, want %d", got, before)
	}
}
