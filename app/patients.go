package app

import (
	"time"

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
	Restricted     bool   `json:"restricted"`
	RestrictedBy   string `json:"restrictedBy"`
	Deceased       bool   `json:"deceased"`
	DeceasedDate   string `json:"deceasedDate"`
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
	Restricted     bool   `json:"restricted"`
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
		Restricted: p.Restricted, RestrictedBy: r.RestrictedBy, Deceased: p.Deceased, DeceasedDate: p.DeceasedDate,
	}
}

// ValidatePatient checks a form without saving it and returns field
// messages (empty when valid). The backend is the one source of the rules.
func (a *App) ValidatePatient(in ehr.PatientInput) (map[string]string, error) {
	if _, err := a.begin("ValidatePatient"); err != nil {
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
	c, err := a.begin("RegisterPatient")
	if err != nil {
		return Patient{}, err
	}
	p, err := in.Patient(a.cfg.Now())
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "RegisterPatient", err)
	}
	rec, err := c.svc.Records.RegisterPatient(c.ctx, c.actor, p)
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "RegisterPatient", err)
	}
	return a.patientView(rec), nil
}

// UpdatePatient stores a new version of a patient.
func (a *App) UpdatePatient(req UpdateRequest) (Patient, error) {
	c, err := a.begin("UpdatePatient")
	if err != nil {
		return Patient{}, err
	}
	p, err := req.Patient.Patient(a.cfg.Now())
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "UpdatePatient", err)
	}
	rec, err := c.svc.Records.UpdatePatient(c.ctx, c.actor, req.ID, req.BaseVersionID, p, req.Reason)
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "UpdatePatient", err)
	}
	return a.patientView(rec), nil
}

// GetPatient returns a patient's current demographics.
func (a *App) GetPatient(id string) (Patient, error) {
	c, err := a.begin("GetPatient")
	if err != nil {
		return Patient{}, err
	}
	rec, err := c.svc.Records.Patient(c.ctx, c.actor, id)
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "GetPatient", err)
	}
	return a.patientView(rec), nil
}

// SearchPatients finds patients by name (prefix, accent- and
// spelling-tolerant), clinic number, national id or birth year.
func (a *App) SearchPatients(query string) ([]PatientHit, error) {
	c, err := a.begin("SearchPatients")
	if err != nil {
		return nil, err
	}
	hits, err := c.svc.Records.SearchPatients(c.ctx, c.actor, query, SearchLimit)
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
			Restricted: h.Restricted,
		})
	}
	return out, nil
}

// RestrictRequest restricts a chart to its responsible clinician, or
// lifts the restriction.
type RestrictRequest struct {
	ID         string `json:"id"`
	Restricted bool   `json:"restricted"`
	Reason     string `json:"reason"`
}

// SetPatientRestricted restricts a chart to the calling clinician, or
// lifts the restriction; either is a new version with its reason.
func (a *App) SetPatientRestricted(req RestrictRequest) (Patient, error) {
	c, err := a.begin("SetPatientRestricted")
	if err != nil {
		return Patient{}, err
	}
	rec, err := c.svc.Records.SetRestricted(c.ctx, c.actor, req.ID, req.Restricted, req.Reason)
	if err != nil {
		return Patient{}, problem(a.cfg.Log, "SetPatientRestricted", err)
	}
	return a.patientView(rec), nil
}

// BreakGlassRequest asks for emergency access to a restricted chart.
type BreakGlassRequest struct {
	PatientID string `json:"patientId"`
	Reason    string `json:"reason"`
}

// BreakGlassGrant says until when the emergency access lasts.
type BreakGlassGrant struct {
	Until string `json:"until"` // RFC 3339
}

// BreakGlass opens a restricted chart in an emergency: time-boxed,
// audited with the reason, and reported to the security officer.
func (a *App) BreakGlass(req BreakGlassRequest) (BreakGlassGrant, error) {
	c, err := a.begin("BreakGlass")
	if err != nil {
		return BreakGlassGrant{}, err
	}
	until, err := c.svc.Records.BreakGlass(c.ctx, c.actor, req.PatientID, req.Reason)
	if err != nil {
		return BreakGlassGrant{}, problem(a.cfg.Log, "BreakGlass", err)
	}
	return BreakGlassGrant{Until: until.Format(time.RFC3339)}, nil
}
