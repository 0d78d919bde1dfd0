package app

import (
	"encoding/base64"
	"reflect"
	"testing"
	"time"

	"outpost/backend/auth"
	"outpost/backend/ehr"
)

func TestChartThroughTheBoundMethods(t *testing.T) {
	e := newClinic(t)
	doc, _ := e.user("dr.visit", auth.RoleClinician)
	clerk, _ := e.user("clerk.visit", auth.RoleClerk)
	p := e.patient(doc)
	now := e.clock.t.Format(time.RFC3339)

	visit, err := doc.SaveEncounter(SaveRequest[ehr.Encounter]{Value: ehr.Encounter{PatientID: p.ID, Status: "open", Start: now, Complaint: "fever"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := doc.SaveObservation(SaveRequest[ehr.Observation]{Value: ehr.Observation{PatientID: p.ID, EncounterID: visit.ID, Vital: "temperature", Value: 60, Effective: now}}); problemOf(t, err).Fields["value"] == "" {
		t.Fatalf("implausible temperature: %v", err)
	}
	if _, err := doc.SaveObservation(SaveRequest[ehr.Observation]{Value: ehr.Observation{PatientID: p.ID, EncounterID: visit.ID, Vital: "temperature", Value: 38.6, Effective: now}}); err != nil {
		t.Fatal(err)
	}
	if _, err := doc.SaveAllergy(SaveRequest[ehr.Allergy]{Value: ehr.Allergy{PatientID: p.ID, Substance: ehr.Concept{Text: "Sulfamethoxazole"}, Reaction: "hives", Severity: "severe", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	rx := MedicationRequest{SaveRequest: SaveRequest[ehr.Medication]{Value: ehr.Medication{PatientID: p.ID, EncounterID: visit.ID, Kind: "prescribed",
		Drug: ehr.Concept{Text: "Sulfamethoxazole / trimethoprim 400/80 mg"}, Dose: "2 tablets", Frequency: "twice daily", Status: "active", Start: e.clock.t.Format("2006-01-02")}}}
	res, err := doc.SaveMedication(rx)
	if err != nil || res.Saved != nil || len(res.Warnings) != 1 {
		t.Fatalf("prescription against an allergy: %+v %v", res, err)
	}
	rx.Override, rx.Reason = true, "no alternative available; observed"
	if res, err = doc.SaveMedication(rx); err != nil || res.Saved == nil {
		t.Fatalf("override: %+v %v", res, err)
	}
	signed, err := doc.SignEncounter(SignRequest{ID: visit.ID, BaseVersionID: visit.VersionID})
	if err != nil || signed.Value.Status != "signed" {
		t.Fatalf("sign: %+v %v", signed, err)
	}
	sum, err := doc.ChartSummary(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Allergies) != 1 || len(sum.Medications) != 1 || len(sum.Visits) != 1 || len(sum.Vitals) != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	vv, err := doc.VisitRecords(visit.ID)
	if err != nil || len(vv.Vitals) != 1 || len(vv.Medications) != 1 || vv.Visit.Value.Status != "signed" || vv.Notes == nil {
		t.Fatalf("visit records = %+v %v", vv, err)
	}
	pts, err := doc.VitalSeries(SeriesRequest{PatientID: p.ID, Vital: "temperature"})
	if err != nil || len(pts) != 1 || pts[0].Value != 38.6 {
		t.Fatalf("series = %+v %v", pts, err)
	}
	// Clerks register patients but see no clinical records.
	if _, err := clerk.ChartSummary(p.ID); code(t, err) != ehr.EForbidden {
		t.Fatalf("clerk chart: %v", err)
	}
	if _, err := clerk.VisitRecords(visit.ID); code(t, err) != ehr.EForbidden {
		t.Fatalf("clerk visit: %v", err)
	}
}

func TestRecordDeletionNeedsTwoPeople(t *testing.T) {
	e := newClinic(t)
	a, _ := e.user("dr.one", auth.RoleClinician)
	b, _ := e.user("nurse.two", auth.RoleNurse)
	p := e.patient(a)
	req, err := a.RequestRecordDeletion(RecordAction{ID: p.ID, Reason: "duplicate registration"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ApproveRecordDeletion(req.ID); code(t, err) != ehr.EForbidden {
		t.Fatalf("self-approval: %v", err)
	}
	list, err := b.ListRecordDeletions()
	if err != nil || len(list) != 1 || list[0].RequestedBy != "dr.one" {
		t.Fatalf("pending = %+v %v", list, err)
	}
	if got, want := list[0].Label, "Patient: MOYO, Tendai ("+p.ClinicNo+")"; got != want {
		t.Errorf("label = %q, want %q", got, want)
	}
	if err := b.ApproveRecordDeletion(req.ID); err != nil {
		t.Fatal(err)
	}
	deleted, err := a.ListDeletedRecords()
	if err != nil || len(deleted) != 1 || deleted[0].RecordID != p.ID || deleted[0].ApprovedBy != "nurse.two" {
		t.Fatalf("deleted = %+v %v", deleted, err)
	}
	if hits, _ := a.SearchPatients("moyo"); len(hits) != 0 {
		t.Fatalf("deleted patient found: %+v", hits)
	}
	if err := b.RestoreRecord(RecordAction{ID: p.ID, Reason: "was not a duplicate"}); err != nil {
		t.Fatal(err)
	}
	if hits, _ := a.SearchPatients("moyo"); len(hits) != 1 {
		t.Fatalf("restored patient not found: %+v", hits)
	}
	if deleted, err := a.ListDeletedRecords(); err != nil || len(deleted) != 0 {
		t.Fatalf("after restore: %+v %v", deleted, err)
	}
	// A clinical record: the request says what it is and whose.
	c, err := a.SaveCondition(SaveRequest[ehr.Condition]{Value: ehr.Condition{PatientID: p.ID, Code: ehr.Concept{Text: "Asthma"}, Status: "active"}})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := a.RequestRecordDeletion(RecordAction{ID: c.ID, Reason: "entered on the wrong chart"})
	if err != nil || cr.Label != "Problem: Asthma" || cr.Patient != "MOYO, Tendai ("+p.ClinicNo+")" || cr.Kind != "condition" {
		t.Fatalf("condition request: %+v %v", cr, err)
	}
}

func TestDocumentsThroughTheBoundMethods(t *testing.T) {
	e := newClinic(t)
	doc, _ := e.user("dr.doc", auth.RoleClinician)
	p := e.patient(doc)
	pdf := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 referral"))
	it, err := doc.AddDocument(DocumentUpload{PatientID: p.ID, Title: "Referral", Data: pdf})
	if err != nil {
		t.Fatal(err)
	}
	if it.Value.ContentType != ehr.TypePDF {
		t.Errorf("type = %s", it.Value.ContentType)
	}
	html := base64.StdEncoding.EncodeToString([]byte("<html><script>alert(1)</script></html>"))
	if _, err := doc.AddDocument(DocumentUpload{PatientID: p.ID, Title: "letter.pdf", Data: html}); problemOf(t, err).Fields["file"] == "" {
		t.Fatalf("html accepted: %v", err)
	}
	got, err := doc.GetDocument(it.ID)
	if err != nil || got.Data != pdf {
		t.Fatalf("get: %v", err)
	}
	list, err := doc.ListDocuments(p.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %d %v", len(list), err)
	}
}

// S29 for clinical records: every version with who, when, why and a
// readable diff.
func TestRecordHistory(t *testing.T) {
	e := newClinic(t)
	doc, _ := e.user("dr.hist", auth.RoleClinician)
	p := e.patient(doc)
	c, err := doc.SaveCondition(SaveRequest[ehr.Condition]{Value: ehr.Condition{PatientID: p.ID, Code: ehr.Concept{Text: "Asthma"}, Status: "active"}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.t = e.clock.t.Add(time.Minute)
	up := c.Value
	up.Status, up.Note = "inactive", "no attacks for a year"
	if _, err := doc.SaveCondition(SaveRequest[ehr.Condition]{ID: c.ID, BaseVersionID: c.VersionID, Reason: "controlled", Value: up}); err != nil {
		t.Fatal(err)
	}
	hist, err := doc.RecordHistory(c.ID)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %+v %v", hist, err)
	}
	want := []Change{{Field: "note", Label: "Note", New: "no attacks for a year"}, {Field: "status", Label: "Status", Old: "active", New: "inactive"}}
	if got := hist[0].Changes; !reflect.DeepEqual(got, want) || hist[0].Reason != "controlled" || hist[0].Author != "dr.hist" {
		t.Errorf("newest version: %+v", hist[0])
	}
}
