package app

import (
	"context"
	"time"

	"outpost/backend/auth"
	"outpost/backend/ehr"
	"outpost/backend/records"
)

// Patient is a patient as the UI shows it.
type Patient struct {
	ID             string `json:"id"`
	VersionID      string `json:"versionId"`
	ClinicNo       string `json:"clinicNo"`
	Family         string `json:"family"`
	Given          string `json:"given"`
	Other          string `json:"other"`
	Sex            string `json:"sex"`
	BirthDate      string `json:"birthDate"`
	BirthEstimated bool   `json:"birthEstimated"`
	Age            string `json:"age"`
	NationalID     string `json:"nationalId"`
	Phone          string `json:"phone"`
	Village        string `json:"village"`
	Address        string `json:"address"`
	KinName        string `json:"kinName"`
	KinRelation    string `json:"kinRelation"`
	KinPhone       string `json:"kinPhone"`
	UpdatedAt      string `json:"updatedAt"`
	UpdatedBy      string `json:"updatedBy"`
}

// PatientHit is one search result.
type PatientHit struct {
	ID             string `json:"id"`
	ClinicNo       string `json:"clinicNo"`
	Family         string `json:"family"`
	Given          string `json:"given"`
	Other          string `json:"other"`
	Sex            string `json:"sex"`
	BirthDate      string `json:"birthDate"`
	BirthEstimated bool   `json:"birthEstimated"`
	Age            string `json:"age"`
	Village        string `json:"village"`
	Match          string `json:"match"`
}

// UpdateRequest is an edit of a patient: base is the version the user
// opened.
type UpdateRequest struct {
	ID            string           `json:"id"`
	BaseVersionID string           `json:"baseVersionId"`
	Patient       ehr.PatientInput `json:"patient"`
	Reason        string           `json:"reason"`
}

// SearchLimit is the most hits a search returns.
const SearchLimit = 50

func (a *App) patientView(r records.PatientRecord) Patient {
	p := r.Patient
	return Patient{
		ID: r.ID, VersionID: r.VersionID, ClinicNo: p.ClinicNo, Family: p.Family, Given: p.Given, Other: p.Other,
		Sex: p.Sex, BirthDate: p.BirthDate, BirthEstimated: p.BirthEstimated, Age: p.Age(a.cfg.Now()),
		NationalID: p.NationalID, Phone: p.Phone, Village: p.Village, Address: p.Address,
		KinName: p.KinName, KinRelation: p.KinRelation, KinPhone: p.KinPhone,
		UpdatedAt: r.HLC.Time().Format(time.RFC3339), UpdatedBy: r.Author,
	}
}

// begin authorizes a call and returns what it needs, without holding the
// lock while the call runs.
func (a *App) begin(method, perm string) (records.Actor, *records.Store, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	act, err := a.authorize(method, perm)
	if err != nil {
		return records.Actor{}, nil, err
	}
	return act, a.svc.Records, nil
}

// ValidatePatient checks a form without saving it and returns field
// messages (empty when valid). The backend is the one source of the rules.
func (a *App) ValidatePatient(in ehr.PatientInput) (map[string]string, error) {
	if _, _, err := a.begin("ValidatePatient", auth.PermPatientWrite); err != nil {
		return nil, err
	}
	_, err := in.Patient(a.cfg.Now())
	fields := ehr.ErrorFields(err)
	if fields == nil {
		fields = map[string]string{}
	}
	return fields, nil
}

// RegisterPatient validates and stores a new patient.
func (a *App) RegisterPatient(in ehr.PatientInput) (Patient, error) {
	act, store, err := a.begin("RegisterPatient", auth.PermPatientWrite)
	if err != nil {
		return Patient{}, err
	}
	p, err := in.Patient(a.cfg.Now())
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "RegisterPatient", err)
	}
	rec, err := store.RegisterPatient(context.Background(), act, p)
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "RegisterPatient", err)
	}
	return a.patientView(rec), nil
}

// UpdatePatient stores a new version of a patient.
func (a *App) UpdatePatient(req UpdateRequest) (Patient, error) {
	act, store, err := a.begin("UpdatePatient", auth.PermPatientWrite)
	if err != nil {
		return Patient{}, err
	}
	p, err := req.Patient.Patient(a.cfg.Now())
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "UpdatePatient", err)
	}
	rec, err := store.UpdatePatient(context.Background(), act, req.ID, req.BaseVersionID, p, req.Reason)
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "UpdatePatient", err)
	}
	return a.patientView(rec), nil
}

// GetPatient returns a patient's current demographics.
func (a *App) GetPatient(id string) (Patient, error) {
	act, store, err := a.begin("GetPatient", auth.PermPatientRead)
	if err != nil {
		return Patient{}, err
	}
	rec, err := store.Patient(context.Background(), act, id)
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "GetPatient", err)
	}
	return a.patientView(rec), nil
}

// SearchPatients finds patients by name (prefix, accent- and
// spelling-tolerant), clinic number, national id or birth year.
func (a *App) SearchPatients(query string) ([]PatientHit, error) {
	act, store, err := a.begin("SearchPatients", auth.PermPatientRead)
	if err != nil {
		return nil, err
	}
	hits, err := store.SearchPatients(context.Background(), act, query, SearchLimit)
	if err != nil {
		return nil, problem(a.cfg.Log, "SearchPatients", err)
	}
	now := a.cfg.Now()
	out := make([]PatientHit, 0, len(hits))
	for _, h := range hits {
		p := ehr.Patient{BirthDate: h.BirthDate, BirthEstimated: h.BirthEstimated}
		out = append(out, PatientHit{
			ID: h.ID, ClinicNo: h.ClinicNo, Family: h.Family, Given: h.Given, Other: h.Other, Sex: h.Sex,
			BirthDate: h.BirthDate, BirthEstimated: h.BirthEstimated, Age: p.Age(now), Village: h.Village, Match: h.Match,
		})
	}
	return out, nil
}
