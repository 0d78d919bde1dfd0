package ehr

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Medication kinds.
const (
	MedicationPrescribed = "prescribed" // ordered here: FHIR MedicationRequest
	MedicationReported   = "reported"   // taken, as the patient says: FHIR MedicationStatement
)

// Medication is a drug prescribed at the clinic or reported by the patient.
// Dose, route, frequency and duration are free text as written on a
// prescription ("1 tablet", "oral", "twice daily", "5 days").
type Medication struct {
	PatientID   string  `json:"patientId"`
	EncounterID string  `json:"encounterId"`
	Kind        string  `json:"kind"` // prescribed | reported
	Drug        Concept `json:"drug"`
	Dose        string  `json:"dose"` // required when prescribed
	Route       string  `json:"route"`
	Frequency   string  `json:"frequency"`
	Duration    string  `json:"duration"`
	Status      string  `json:"status"` // active | stopped | completed
	Start       string  `json:"start"`  // YYYY-MM-DD, optional
	Note        string  `json:"note"`
}

// Validate normalises m and checks it.
func (m *Medication) Validate(now time.Time) error {
	v := Invalid{}
	x := Medication{
		PatientID:   idField(v, "patientId", m.PatientID, true, "patient"),
		EncounterID: idField(v, "encounterId", m.EncounterID, false, "encounter"),
		Kind:        enumField(v, "kind", m.Kind, MedicationPrescribed, MedicationReported),
		Drug:        conceptField(v, "drug", m.Drug, true, SystemRxNorm),
		Dose:        textField(v, "dose", m.Dose, maxClinicalShortText, false),
		Route:       textField(v, "route", m.Route, maxClinicalShortText, false),
		Frequency:   textField(v, "frequency", m.Frequency, maxClinicalShortText, false),
		Duration:    textField(v, "duration", m.Duration, maxClinicalShortText, false),
		Status:      enumField(v, "status", m.Status, "active", "stopped", "completed"),
		Start:       dateField(v, "start", m.Start, now, false),
		Note:        textField(v, "note", m.Note, maxClinicalNote, true),
	}
	if x.Kind == MedicationPrescribed && x.Dose == "" {
		v.Add("dose", "Enter the dose of a prescription.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	*m = x
	return nil
}

// chartMedication holds both MedicationRequest and MedicationStatement:
// the elements either lacks stay empty and are left out.
type chartMedication struct {
	ResourceType      string            `json:"resourceType"`
	ID                string            `json:"id,omitempty"`
	Status            string            `json:"status,omitempty"`
	Intent            string            `json:"intent,omitempty"`                    // request
	Medication        *Concept          `json:"medicationCodeableConcept,omitempty"` // both
	Subject           *chartRef         `json:"subject,omitempty"`
	Encounter         *chartRef         `json:"encounter,omitempty"`         // request
	Context           *chartRef         `json:"context,omitempty"`           // statement
	AuthoredOn        string            `json:"authoredOn,omitempty"`        // request
	Effective         string            `json:"effectiveDateTime,omitempty"` // statement
	DosageInstruction []chartDosage     `json:"dosageInstruction,omitempty"` // request
	Dosage            []chartDosage     `json:"dosage,omitempty"`            // statement
	Note              []chartAnnotation `json:"note,omitempty"`
}

type chartDosage struct {
	Extension []chartExt   `json:"extension,omitempty"`
	Text      string       `json:"text,omitempty"`
	Timing    *chartTiming `json:"timing,omitempty"`
	Route     *Concept     `json:"route,omitempty"`
}

type chartTiming struct {
	Code *Concept `json:"code,omitempty"`
}

// dosage returns m's dosage, or nil when it has none. Its text joins the
// four parts, for systems that show only Dosage.text.
func (m Medication) dosage() []chartDosage {
	var parts []string
	for _, p := range []string{m.Dose, m.Route, m.Frequency, m.Duration} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	d := chartDosage{Text: strings.Join(parts, ", "), Route: conceptPtr(Concept{Text: m.Route})}
	d.Extension = extString(d.Extension, ExtDoseText, m.Dose)
	d.Extension = extString(d.Extension, ExtDurationText, m.Duration)
	if m.Frequency != "" {
		d.Timing = &chartTiming{Code: &Concept{Text: m.Frequency}}
	}
	return []chartDosage{d}
}

// MedicationBody returns the canonical FHIR R4 JSON for m: a
// MedicationRequest when prescribed, a MedicationStatement when reported.
func MedicationBody(id string, m Medication) ([]byte, error) {
	r := chartMedication{
		ID:         id,
		Status:     m.Status,
		Medication: conceptPtr(m.Drug),
		Subject:    chartReference("Patient", m.PatientID),
		Note:       chartNotes(m.Note),
	}
	switch m.Kind {
	case MedicationPrescribed:
		r.ResourceType = "MedicationRequest"
		r.Intent = "order"
		r.Encounter = chartReference("Encounter", m.EncounterID)
		r.AuthoredOn = m.Start
		r.DosageInstruction = m.dosage()
	case MedicationReported:
		r.ResourceType = "MedicationStatement"
		r.Context = chartReference("Encounter", m.EncounterID)
		r.Effective = m.Start
		r.Dosage = m.dosage()
	default:
		return nil, fmt.Errorf("medication body: kind %q", m.Kind)
	}
	return Canonical(r)
}

// ParseMedicationBody reads a body written by MedicationBody.
func ParseMedicationBody(body []byte) (Medication, error) {
	var r chartMedication
	if err := json.Unmarshal(body, &r); err != nil {
		return Medication{}, fmt.Errorf("parse medication body: %w", err)
	}
	m := Medication{Drug: conceptOf(r.Medication), Status: r.Status, Note: chartNoteText(r.Note)}
	encounter, dosage := r.Encounter, r.DosageInstruction
	switch r.ResourceType {
	case "MedicationRequest":
		m.Kind, m.Start = MedicationPrescribed, r.AuthoredOn
	case "MedicationStatement":
		m.Kind, m.Start = MedicationReported, r.Effective
		encounter, dosage = r.Context, r.Dosage
	default:
		return Medication{}, fmt.Errorf("parse medication body: resourceType %q", clipText(r.ResourceType, 40))
	}
	if len(dosage) > 0 {
		d := dosage[0]
		m.Dose = extValue(d.Extension, ExtDoseText)
		m.Duration = extValue(d.Extension, ExtDurationText)
		m.Route = conceptOf(d.Route).Text
		if d.Timing != nil {
			m.Frequency = conceptOf(d.Timing.Code).Text
		}
	}
	var err error
	if m.PatientID, err = refID(r.Subject, "Patient"); err != nil {
		return Medication{}, fmt.Errorf("parse medication body: subject: %w", err)
	}
	if m.EncounterID, err = refID(encounter, "Encounter"); err != nil {
		return Medication{}, fmt.Errorf("parse medication body: encounter: %w", err)
	}
	return m, nil
}
