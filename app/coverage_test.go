package app

import (
	"encoding/base64"
	"testing"

	"outpost/backend/auth"
	"outpost/backend/ehr"
)

// S30, issue 5 point 2: every read and write of patient data, every
// sign-in, lock and failure, every role or setting change, every export
// and import leaves an audit event naming the action, and the patient
// where there is one.
func TestEveryAccessIsAudited(t *testing.T) {
	e := newClinic(t)
	doc, docPassword := e.user("dr.cover", auth.RoleClinician)
	p := e.patient(doc)
	c, err := doc.SaveCondition(SaveRequest[ehr.Condition]{Value: ehr.Condition{PatientID: p.ID, Code: ehr.Concept{Text: "Asthma"}, Status: "active"}})
	if err != nil {
		t.Fatal(err)
	}
	visit, err := doc.SaveEncounter(SaveRequest[ehr.Encounter]{Value: ehr.Encounter{PatientID: p.ID, Status: "open", Start: e.clock.t.Format("2006-01-02T15:04:05Z07:00")}})
	if err != nil {
		t.Fatal(err)
	}
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	d, err := doc.AddDocument(DocumentUpload{PatientID: p.ID, Title: "Scan", Data: png})
	if err != nil {
		t.Fatal(err)
	}
	users := mustUsers(t, e.admin)
	var docID string
	for _, u := range users {
		if u.Username == "dr.cover" {
			docID = u.ID
		}
	}
	bundle := base64.StdEncoding.EncodeToString([]byte(`{"resourceType":"Bundle","type":"collection","entry":[]}`))

	tests := []struct {
		name    string
		call    func() error
		patient bool // the event must name the patient
	}{
		{"read a patient", func() error { _, err := doc.GetPatient(p.ID); return err }, true},
		{"search", func() error { _, err := doc.SearchPatients("moyo"); return err }, false},
		{"patient history", func() error { _, err := doc.PatientHistory(p.ID); return err }, true},
		{"chart summary", func() error { _, err := doc.ChartSummary(p.ID); return err }, true},
		{"vital series", func() error { _, err := doc.VitalSeries(SeriesRequest{PatientID: p.ID, Vital: "pulse"}); return err }, true},
		{"visit records", func() error { _, err := doc.VisitRecords(visit.ID); return err }, true},
		{"record history", func() error { _, err := doc.RecordHistory(c.ID); return err }, true},
		{"documents", func() error { _, err := doc.ListDocuments(p.ID); return err }, true},
		{"a document", func() error { _, err := doc.GetDocument(d.ID); return err }, true},
		{"write a record", func() error {
			_, err := doc.SaveAllergy(SaveRequest[ehr.Allergy]{Value: ehr.Allergy{PatientID: p.ID, Substance: ehr.Concept{Text: "Latex"}, Status: "active"}})
			return err
		}, true},
		{"print", func() error { _, err := doc.SaveSummaryPDF(p.ID); return err }, true},
		{"export", func() error { _, err := doc.ExportFHIR(p.ID); return err }, true},
		{"import", func() error {
			j, err := doc.StartFHIRImport(FHIRUpload{Name: "empty.json", Data: bundle})
			if err == nil {
				waitImport(t, doc, j.ID)
			}
			return err
		}, false},
		{"lock", func() error { return doc.LockSession() }, false},
		{"unlock", func() error { return doc.UnlockSession(docPassword) }, false},
		{"refused for lack of permission", func() error { _, err := doc.ListUsers(); return nil2(err) }, false},
		{"failed sign-in", func() error {
			_, err := e.window("x").Login(LoginRequest{Username: "dr.cover", Password: "wrong password here", NoticeAccepted: true})
			return nil2(err)
		}, false},
		{"role change", func() error {
			_, err := e.admin.SetUserRoles(RolesRequest{ID: docID, Roles: []string{auth.RoleClinician, auth.RoleNurse}})
			return err
		}, false},
		{"setting change", func() error {
			s, err := e.admin.GetSettings()
			if err == nil {
				s.IdleMinutes = 14
				_, err = e.admin.SaveSettings(s)
			}
			return err
		}, false},
	}
	for _, tt := range tests {
		before := lastSeq(t, e)
		if err := tt.call(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var n, withPatient int
		if err := e.admin.svc.Vault.R.QueryRow("SELECT count(*), count(CASE WHEN patient_id = ? THEN 1 END) FROM audit WHERE seq > ?", p.ID, before).
			Scan(&n, &withPatient); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("%s: no audit event", tt.name)
		} else if tt.patient && withPatient == 0 {
			t.Errorf("%s: no audit event names the patient", tt.name)
		}
	}
}

// nil2 turns an expected refusal into success for the table above.
func nil2(err error) error {
	if err == nil {
		return errNotRefused
	}
	return nil
}

var errNotRefused = &Problem{Code: "TEST", Message: "expected a refusal"}

func lastSeq(t *testing.T, e *clinicEnv) int64 {
	t.Helper()
	var seq int64
	if err := e.admin.svc.Vault.R.QueryRow("SELECT coalesce(max(seq), 0) FROM audit").Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}
