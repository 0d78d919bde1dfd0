package ehr

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Condition is a problem on the patient's problem list: a diagnosis coded
// in ICD-10 or SNOMED CT, or named in free text.
type Condition struct {
	PatientID string  `json:"patientId"`
	Code      Concept `json:"code"`
	Status    string  `json:"status"` // active | resolved | inactive
	Onset     string  `json:"onset"`  // YYYY-MM-DD, optional
	Note      string  `json:"note"`
}

// Validate normalises c and checks it.
func (c *Condition) Validate(now time.Time) error {
	v := Invalid{}
	x := Condition{
		PatientID: idField(v, "patientId", c.PatientID, true, "patient"),
		Code:      conceptField(v, "code", c.Code, true, SystemICD10, SystemSNOMED),
		Status:    enumField(v, "status", c.Status, "active", "resolved", "inactive"),
		Onset:     dateField(v, "onset", c.Onset, now, false),
		Note:      textField(v, "note", c.Note, maxClinicalNote, true),
	}
	if err := v.Err(); err != nil {
		return err
	}
	*c = x
	return nil
}

type chartCondition struct {
	ResourceType   string            `json:"resourceType"`
	ID             string            `json:"id,omitempty"`
	ClinicalStatus *chartStatus      `json:"clinicalStatus,omitempty"`
	Category       []chartStatus     `json:"category,omitempty"`
	Code           *Concept          `json:"code,omitempty"`
	Subject        *chartRef         `json:"subject,omitempty"`
	Onset          string            `json:"onsetDateTime,omitempty"`
	Note           []chartAnnotation `json:"note,omitempty"`
}

// ConditionBody returns the canonical FHIR R4 Condition JSON for c.
func ConditionBody(id string, c Condition) ([]byte, error) {
	r := chartCondition{
		ResourceType:   "Condition",
		ID:             id,
		ClinicalStatus: statusConcept(SystemConditionClinical, c.Status),
		Category:       []chartStatus{*statusConcept(SystemConditionCategory, "problem-list-item")},
		Code:           conceptPtr(c.Code),
		Subject:        chartReference("Patient", c.PatientID),
		Onset:          c.Onset,
		Note:           chartNotes(c.Note),
	}
	return Canonical(r)
}

// ParseConditionBody reads a body written by ConditionBody.
func ParseConditionBody(body []byte) (Condition, error) {
	var r chartCondition
	if err := json.Unmarshal(body, &r); err != nil {
		return Condition{}, fmt.Errorf("parse condition body: %w", err)
	}
	if err := checkResourceType("condition", r.ResourceType, "Condition"); err != nil {
		return Condition{}, err
	}
	c := Condition{
		Code:   conceptOf(r.Code),
		Status: statusCode(r.ClinicalStatus, SystemConditionClinical),
		Onset:  r.Onset,
		Note:   chartNoteText(r.Note),
	}
	var err error
	if c.PatientID, err = refID(r.Subject, "Patient"); err != nil {
		return Condition{}, fmt.Errorf("parse condition body: subject: %w", err)
	}
	return c, nil
}

// Allergy is an allergy or intolerance to a substance: a drug (RxNorm), any
// substance (SNOMED CT), or free text.
type Allergy struct {
	PatientID string  `json:"patientId"`
	Substance Concept `json:"substance"`
	Reaction  string  `json:"reaction"` // what happens, e.g. "hives"
	Severity  string  `json:"severity"` // mild | moderate | severe, of the reaction; optional
	Status    string  `json:"status"`   // active | inactive
}

// Validate normalises a and checks it. A severity needs the reaction it
// describes (FHIR's reaction requires a manifestation).
func (a *Allergy) Validate(now time.Time) error {
	v := Invalid{}
	x := Allergy{
		PatientID: idField(v, "patientId", a.PatientID, true, "patient"),
		Substance: conceptField(v, "substance", a.Substance, true, SystemSNOMED, SystemRxNorm),
		Reaction:  textField(v, "reaction", a.Reaction, maxClinicalReaction, false),
		Status:    enumField(v, "status", a.Status, "active", "inactive"),
	}
	if strings.TrimSpace(a.Severity) != "" {
		x.Severity = enumField(v, "severity", a.Severity, "mild", "moderate", "severe")
	}
	if x.Severity != "" && x.Reaction == "" {
		v.Add("reaction", "Describe the reaction whose severity is given.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	*a = x
	return nil
}

type chartAllergy struct {
	ResourceType   string          `json:"resourceType"`
	ID             string          `json:"id,omitempty"`
	ClinicalStatus *chartStatus    `json:"clinicalStatus,omitempty"`
	Code           *Concept        `json:"code,omitempty"`
	Patient        *chartRef       `json:"patient,omitempty"`
	Reaction       []chartReaction `json:"reaction,omitempty"`
}

type chartReaction struct {
	Manifestation []Concept `json:"manifestation"`
	Severity      string    `json:"severity,omitempty"`
}

// AllergyBody returns the canonical FHIR R4 AllergyIntolerance JSON for a.
func AllergyBody(id string, a Allergy) ([]byte, error) {
	r := chartAllergy{
		ResourceType:   "AllergyIntolerance",
		ID:             id,
		ClinicalStatus: statusConcept(SystemAllergyClinical, a.Status),
		Code:           conceptPtr(a.Substance),
		Patient:        chartReference("Patient", a.PatientID),
	}
	if a.Reaction != "" || a.Severity != "" {
		re := chartReaction{Manifestation: []Concept{}, Severity: a.Severity}
		if a.Reaction != "" {
			re.Manifestation = []Concept{{Text: a.Reaction}}
		}
		r.Reaction = []chartReaction{re}
	}
	return Canonical(r)
}

// ParseAllergyBody reads a body written by AllergyBody.
func ParseAllergyBody(body []byte) (Allergy, error) {
	var r chartAllergy
	if err := json.Unmarshal(body, &r); err != nil {
		return Allergy{}, fmt.Errorf("parse allergy body: %w", err)
	}
	if err := checkResourceType("allergy", r.ResourceType, "AllergyIntolerance"); err != nil {
		return Allergy{}, err
	}
	a := Allergy{
		Substance: conceptOf(r.Code),
		Status:    statusCode(r.ClinicalStatus, SystemAllergyClinical),
	}
	if len(r.Reaction) > 0 {
		a.Severity = r.Reaction[0].Severity
		if m := r.Reaction[0].Manifestation; len(m) > 0 {
			a.Reaction = m[0].Text
		}
	}
	var err error
	if a.PatientID, err = refID(r.Patient, "Patient"); err != nil {
		return Allergy{}, fmt.Errorf("parse allergy body: patient: %w", err)
	}
	return a, nil
}

// Immunization is a vaccine dose given (or recorded as not given).
type Immunization struct {
	PatientID  string  `json:"patientId"`
	Vaccine    Concept `json:"vaccine"`
	Date       string  `json:"date"`       // YYYY-MM-DD
	DoseNumber int     `json:"doseNumber"` // 1–20; 0 when not known
	Lot        string  `json:"lot"`
	Site       string  `json:"site"`
	Status     string  `json:"status"` // completed | not-done
}

// Validate normalises im and checks it.
func (im *Immunization) Validate(now time.Time) error {
	v := Invalid{}
	x := Immunization{
		PatientID:  idField(v, "patientId", im.PatientID, true, "patient"),
		Vaccine:    conceptField(v, "vaccine", im.Vaccine, true, SystemCVX),
		Date:       dateField(v, "date", im.Date, now, true),
		DoseNumber: im.DoseNumber,
		Lot:        textField(v, "lot", im.Lot, maxClinicalLot, false),
		Site:       textField(v, "site", im.Site, maxClinicalSite, false),
		Status:     enumField(v, "status", im.Status, "completed", "not-done"),
	}
	if x.DoseNumber < 0 || x.DoseNumber > maxClinicalDoseNumber {
		v.Add("doseNumber", fmt.Sprintf("Give the dose number from 1 to %d, or leave it empty.", maxClinicalDoseNumber))
	}
	if err := v.Err(); err != nil {
		return err
	}
	*im = x
	return nil
}

type chartImmunization struct {
	ResourceType    string          `json:"resourceType"`
	ID              string          `json:"id,omitempty"`
	Status          string          `json:"status,omitempty"`
	VaccineCode     *Concept        `json:"vaccineCode,omitempty"`
	Patient         *chartRef       `json:"patient,omitempty"`
	Occurrence      string          `json:"occurrenceDateTime,omitempty"`
	LotNumber       string          `json:"lotNumber,omitempty"`
	Site            *Concept        `json:"site,omitempty"`
	ProtocolApplied []chartProtocol `json:"protocolApplied,omitempty"`
}

type chartProtocol struct {
	DoseNumber int `json:"doseNumberPositiveInt,omitempty"`
}

// ImmunizationBody returns the canonical FHIR R4 Immunization JSON for im.
func ImmunizationBody(id string, im Immunization) ([]byte, error) {
	r := chartImmunization{
		ResourceType: "Immunization",
		ID:           id,
		Status:       im.Status,
		VaccineCode:  conceptPtr(im.Vaccine),
		Patient:      chartReference("Patient", im.PatientID),
		Occurrence:   im.Date,
		LotNumber:    im.Lot,
		Site:         conceptPtr(Concept{Text: im.Site}),
	}
	if im.DoseNumber != 0 {
		r.ProtocolApplied = []chartProtocol{{DoseNumber: im.DoseNumber}}
	}
	return Canonical(r)
}

// ParseImmunizationBody reads a body written by ImmunizationBody.
func ParseImmunizationBody(body []byte) (Immunization, error) {
	var r chartImmunization
	if err := json.Unmarshal(body, &r); err != nil {
		return Immunization{}, fmt.Errorf("parse immunization body: %w", err)
	}
	if err := checkResourceType("immunization", r.ResourceType, "Immunization"); err != nil {
		return Immunization{}, err
	}
	im := Immunization{
		Vaccine: conceptOf(r.VaccineCode),
		Date:    r.Occurrence,
		Lot:     r.LotNumber,
		Site:    conceptOf(r.Site).Text,
		Status:  r.Status,
	}
	if len(r.ProtocolApplied) > 0 {
		im.DoseNumber = r.ProtocolApplied[0].DoseNumber
	}
	var err error
	if im.PatientID, err = refID(r.Patient, "Patient"); err != nil {
		return Immunization{}, fmt.Errorf("parse immunization body: patient: %w", err)
	}
	return im, nil
}
