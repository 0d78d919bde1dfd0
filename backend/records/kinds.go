package records

import (
	"strings"
	"time"

	"outpost/backend/ehr"
)

// The clinical record kinds.
var (
	Encounters = Kind[ehr.Encounter]{
		Name:     ehr.KindEncounter,
		Validate: func(e *ehr.Encounter, now time.Time) error { return e.Validate(now) },
		Body:     ehr.EncounterBody,
		Parse:    ehr.ParseEncounterBody,
		Patient:  func(e ehr.Encounter) string { return e.PatientID },
		Facts:    func(e ehr.Encounter) Facts { return Facts{Status: e.Status, At: sortTime(e.Start)} },
		Guard:    guardEncounter,
	}
	Observations = Kind[ehr.Observation]{
		Name:     ehr.KindObservation,
		Validate: func(o *ehr.Observation, now time.Time) error { return o.Validate(now) },
		Body:     ehr.ObservationBody,
		Parse:    ehr.ParseObservationBody,
		Patient:  func(o ehr.Observation) string { return o.PatientID },
		Facts: func(o ehr.Observation) Facts {
			return Facts{Status: "final", At: sortTime(o.Effective), EncounterID: o.EncounterID, Vital: o.Vital, Value: o.Value, Unit: o.Unit}
		},
	}
	Conditions = Kind[ehr.Condition]{
		Name:     ehr.KindCondition,
		Validate: func(c *ehr.Condition, now time.Time) error { return c.Validate(now) },
		Body:     ehr.ConditionBody,
		Parse:    ehr.ParseConditionBody,
		Patient:  func(c ehr.Condition) string { return c.PatientID },
		Facts:    func(c ehr.Condition) Facts { return Facts{Status: c.Status, At: c.Onset} },
	}
	Medications = Kind[ehr.Medication]{
		Name:     ehr.KindMedication,
		Validate: func(m *ehr.Medication, now time.Time) error { return m.Validate(now) },
		Body:     ehr.MedicationBody,
		Parse:    ehr.ParseMedicationBody,
		Patient:  func(m ehr.Medication) string { return m.PatientID },
		Facts:    func(m ehr.Medication) Facts { return Facts{Status: m.Status, At: m.Start, EncounterID: m.EncounterID} },
	}
	Allergies = Kind[ehr.Allergy]{
		Name:     ehr.KindAllergy,
		Validate: func(al *ehr.Allergy, now time.Time) error { return al.Validate(now) },
		Body:     ehr.AllergyBody,
		Parse:    ehr.ParseAllergyBody,
		Patient:  func(al ehr.Allergy) string { return al.PatientID },
		Facts:    func(al ehr.Allergy) Facts { return Facts{Status: al.Status} },
	}
	Immunizations = Kind[ehr.Immunization]{
		Name:     ehr.KindImmunization,
		Validate: func(im *ehr.Immunization, now time.Time) error { return im.Validate(now) },
		Body:     ehr.ImmunizationBody,
		Parse:    ehr.ParseImmunizationBody,
		Patient:  func(im ehr.Immunization) string { return im.PatientID },
		Facts:    func(im ehr.Immunization) Facts { return Facts{Status: im.Status, At: im.Date} },
	}
	Notes = Kind[ehr.Note]{
		Name:     ehr.KindNote,
		Validate: func(n *ehr.Note, now time.Time) error { return n.Validate(now) },
		Body:     ehr.NoteBody,
		Parse:    ehr.ParseNoteBody,
		Patient:  func(n ehr.Note) string { return n.PatientID },
		Facts:    func(n ehr.Note) Facts { return Facts{Status: "current", EncounterID: n.EncounterID} },
	}
)

// guardEncounter keeps a signed visit signed: once closed it changes only
// by an amendment, which must say why (the reason is kept in the version
// and in the encounter's AmendReason). Signing is the move from open to
// signed; it cannot be undone.
func guardEncounter(old *ehr.Encounter, e *ehr.Encounter, reason string) error {
	if old == nil || old.Status != "signed" {
		return nil
	}
	if e.Status != "signed" {
		return ehr.Errorf(ehr.EConflict, "A signed visit cannot be reopened; amend it instead.")
	}
	if len([]rune(strings.TrimSpace(reason))) < 5 || reason == "recorded" {
		return &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{"reason": "Say why the signed visit is amended (at least 5 characters)."}}
	}
	e.SignedBy, e.SignedAt, e.AmendReason = old.SignedBy, old.SignedAt, reason
	return nil
}

// sortTime writes an RFC 3339 time in UTC with a fixed width, so the
// chart's time column sorts as text; dates (YYYY-MM-DD) stay as they are
// and sort before the times of their day.
func sortTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}
