package ehr

import (
	"testing"
	"time"
)

// The moment of entry for the clinical tests, and the ids they use.
var chartNow = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

const (
	chartPatientID   = "0190a0b0-0000-7000-8000-000000000001"
	chartEncounterID = "0190a0b0-0000-7000-8000-000000000002"
	chartRecord      = "0190a0b0-0000-7000-8000-0000000000ff" // the id of the record a body describes
)

func encounterFixture() Encounter {
	return Encounter{
		PatientID:  chartPatientID,
		Status:     EncounterSigned,
		Start:      "2026-06-15T08:30:00+02:00",
		End:        "2026-06-15T08:50:00+02:00",
		Complaint:  "Cough for 3 days\nFever at night",
		Findings:   "T 38.4 °C, crackles right base.\nNo chest indrawing.",
		Assessment: "Community-acquired pneumonia, mild.",
		Plan:       "Amoxicillin 500 mg three times daily for 5 days.\nReview in 3 days, sooner if worse.",
		SignedBy:   "dr.banda",
		SignedAt:   "2026-06-15T09:00:00+02:00",
	}
}

func observationFixture() Observation {
	return Observation{PatientID: chartPatientID, EncounterID: chartEncounterID, Vital: "temperature", Value: 38.4, Unit: "Cel",
		Effective: "2026-06-15T08:35:00+02:00"}
}

func conditionFixture() Condition {
	return Condition{
		PatientID: chartPatientID,
		Code: Concept{Coding: []Coding{
			{System: SystemICD10, Code: "J18.9", Display: "Pneumonia, unspecified"},
			{System: SystemSNOMED, Code: "233604007", Display: "Pneumonia"},
		}, Text: "Pneumonia"},
		Status: "active",
		Onset:  "2026-06-12",
		Note:   "Right lower lobe.\nNo previous episodes.",
	}
}

func prescriptionFixture() Medication {
	return Medication{
		PatientID: chartPatientID, EncounterID: chartEncounterID, Kind: MedicationPrescribed,
		Drug: Concept{Coding: []Coding{{System: SystemRxNorm, Code: "723", Display: "amoxicillin"}}, Text: "Amoxicillin 500 mg capsule"},
		Dose: "500 mg", Route: "oral", Frequency: "three times daily", Duration: "5 days",
		Status: "active", Start: "2026-06-15", Note: "Take with water.",
	}
}

func reportedFixture() Medication {
	return Medication{PatientID: chartPatientID, Kind: MedicationReported, Drug: Concept{Text: "Paracetamol"},
		Dose: "1 g", Frequency: "when needed", Status: "active"}
}

func allergyFixture() Allergy {
	return Allergy{
		PatientID: chartPatientID,
		Substance: Concept{Coding: []Coding{{System: SystemSNOMED, Code: "764146007", Display: "Penicillin"}}, Text: "Penicillin"},
		Reaction:  "Hives", Severity: "moderate", Status: "active",
	}
}

func immunizationFixture() Immunization {
	return Immunization{
		PatientID: chartPatientID,
		Vaccine:   Concept{Coding: []Coding{{System: SystemCVX, Code: "03", Display: "MMR"}}, Text: "Measles, mumps and rubella"},
		Date:      "2026-06-01", DoseNumber: 1, Lot: "AB-1234", Site: "left upper arm", Status: "completed",
	}
}

func noteFixture() Note {
	return Note{PatientID: chartPatientID, EncounterID: chartEncounterID, Title: "Referral to the district hospital",
		Text: "Dear colleague,\n\nPlease see this patient with <pneumonia> & a \"rash\".\n\n— Dr Banda"}
}

// chartKind describes one kind for the tests that go over all of them.
type chartKind struct {
	name     string
	resource string // FHIR resourceType of the body
	body     func() ([]byte, error)
	parse    func([]byte) (any, error)
	value    any
}

// chartKinds returns a validated value of every kind with its body and
// parser, each round trip compared as any.
func chartKinds(t testing.TB) []chartKind {
	t.Helper()
	e, o, c, rx, med, a, im, n := encounterFixture(), observationFixture(), conditionFixture(), prescriptionFixture(),
		reportedFixture(), allergyFixture(), immunizationFixture(), noteFixture()
	for _, v := range []interface{ Validate(time.Time) error }{&e, &o, &c, &rx, &med, &a, &im, &n} {
		if err := v.Validate(chartNow); err != nil {
			t.Fatalf("fixture %T: %v", v, err)
		}
	}
	return []chartKind{
		{"encounter", "Encounter", func() ([]byte, error) { return EncounterBody(chartRecord, e) },
			func(b []byte) (any, error) { return ParseEncounterBody(b) }, e},
		{"observation", "Observation", func() ([]byte, error) { return ObservationBody(chartRecord, o) },
			func(b []byte) (any, error) { return ParseObservationBody(b) }, o},
		{"condition", "Condition", func() ([]byte, error) { return ConditionBody(chartRecord, c) },
			func(b []byte) (any, error) { return ParseConditionBody(b) }, c},
		{"prescription", "MedicationRequest", func() ([]byte, error) { return MedicationBody(chartRecord, rx) },
			func(b []byte) (any, error) { return ParseMedicationBody(b) }, rx},
		{"reported-medication", "MedicationStatement", func() ([]byte, error) { return MedicationBody(chartRecord, med) },
			func(b []byte) (any, error) { return ParseMedicationBody(b) }, med},
		{"allergy", "AllergyIntolerance", func() ([]byte, error) { return AllergyBody(chartRecord, a) },
			func(b []byte) (any, error) { return ParseAllergyBody(b) }, a},
		{"immunization", "Immunization", func() ([]byte, error) { return ImmunizationBody(chartRecord, im) },
			func(b []byte) (any, error) { return ParseImmunizationBody(b) }, im},
		{"note", "DocumentReference", func() ([]byte, error) { return NoteBody(chartRecord, n) },
			func(b []byte) (any, error) { return ParseNoteBody(b) }, n},
	}
}
