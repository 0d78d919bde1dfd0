package records_test

import (
	"testing"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// A past visit shows everything recorded at it, not only what is latest on
// the chart: its vital signs, its prescriptions (stopped ones too) and its
// notes; another visit's records and deleted ones are left out.
func TestVisitRecords(t *testing.T) {
	e := newEnv(t)
	pid := registered(t, e)
	visit := func() string {
		t.Helper()
		v, err := records.Save(ctx, e.s, e.actor, records.Encounters, "", "", ehr.Encounter{PatientID: pid, Status: "open", Start: stamp(e.clock.t)}, "")
		if err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	first, second := visit(), visit()
	temp := func(enc string, value float64) string {
		t.Helper()
		e.clock.t = e.clock.t.Add(time.Minute)
		o, err := records.Save(ctx, e.s, e.actor, records.Observations, "", "", ehr.Observation{PatientID: pid, EncounterID: enc, Vital: "temperature", Value: value, Effective: stamp(e.clock.t)}, "")
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	temp(first, 38.5)
	temp(first, 37.9)
	temp(second, 36.8)
	med, err := records.Save(ctx, e.s, e.actor, records.Medications, "", "", ehr.Medication{PatientID: pid, EncounterID: first, Kind: "prescribed",
		Drug: ehr.Concept{Text: "Amoxicillin 500 mg"}, Dose: "1 capsule", Status: "active"}, "")
	if err != nil {
		t.Fatal(err)
	}
	stopped := med.Value
	stopped.Status = "stopped"
	if _, err := records.Save(ctx, e.s, e.actor, records.Medications, med.ID, med.VersionID, stopped, "rash"); err != nil {
		t.Fatal(err)
	}
	if _, err := records.Save(ctx, e.s, e.actor, records.Notes, "", "", ehr.Note{PatientID: pid, EncounterID: first, Title: "Counselling", Text: "Discussed fluids."}, ""); err != nil {
		t.Fatal(err)
	}

	got, err := records.VisitRecords(ctx, e.s, e.actor, first)
	if err != nil {
		t.Fatal(err)
	}
	var temps []float64
	for _, o := range got.Vitals {
		temps = append(temps, o.Value.Value)
	}
	if want := []float64{38.5, 37.9}; len(temps) != 2 || temps[0] != want[0] || temps[1] != want[1] {
		t.Errorf("vitals = %v, want %v", temps, want)
	}
	if len(got.Medications) != 1 || got.Medications[0].Value.Status != "stopped" {
		t.Errorf("medications = %+v", got.Medications)
	}
	if len(got.Notes) != 1 || got.Notes[0].Value.Title != "Counselling" {
		t.Errorf("notes = %+v", got.Notes)
	}
	if got.Encounter.ID != first {
		t.Errorf("encounter = %s", got.Encounter.ID)
	}
	if _, err := records.VisitRecords(ctx, e.s, e.actor, med.ID); ehr.ErrorCode(err) != ehr.ENotFound {
		t.Errorf("a medication id as a visit: %v", err)
	}
	if _, err := records.VisitRecords(ctx, e.s, e.actor, "nonsense"); ehr.ErrorCode(err) != ehr.ENotFound {
		t.Errorf("bad id: %v", err)
	}
}

// The history of a clinical record is the patient's chart: a restricted
// chart's records are refused to others, and the read names the patient.
func TestRecordHistoryFollowsThePatientsRestriction(t *testing.T) {
	e := newEnv(t)
	pid := registered(t, e)
	c, err := records.Save(ctx, e.s, e.actor, records.Conditions, "", "", ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "HIV infection"}, Status: "active"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SetRestricted(ctx, e.actor, pid, true, "staff member"); err != nil {
		t.Fatal(err)
	}
	other := records.Actor{UserID: "u2", Username: "dr.other", Roles: []string{"clinician"}, Session: "s2"}
	if _, err := e.s.History(ctx, other, c.ID); ehr.ErrorCode(err) != ehr.ERestricted {
		t.Fatalf("another clinician read the history of a restricted chart's record: %v", err)
	}
	if _, err := e.s.History(ctx, e.actor, c.ID); err != nil {
		t.Fatal(err)
	}
	var patient string
	if err := e.v.R.QueryRow("SELECT patient_id FROM audit WHERE action = 'record.history' ORDER BY seq DESC LIMIT 1").Scan(&patient); err != nil || patient != pid {
		t.Fatalf("the history read names %q, want the patient %s (%v)", patient, pid, err)
	}
}
