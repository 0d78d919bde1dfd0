package ehr

import (
	"bytes"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateClinicalGolden = flag.Bool("update-clinical-golden", false, "rewrite testdata/clinical/*.json from the fixtures")

// Parse(Body(x)) == x for a validated value of every kind, and the body is
// canonical: written again from what was parsed, it is the same bytes.
func TestClinicalBodyRoundTrip(t *testing.T) {
	for _, k := range chartKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			body, err := k.body()
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.parse(body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, k.value) {
				t.Errorf("round trip:\n got %#v\nwant %#v", got, k.value)
			}
			canon, err := CanonicalizeJSON(body)
			if err != nil || !bytes.Equal(canon, body) {
				t.Errorf("body is not canonical JSON (%v):\n%s", err, body)
			}
			if bytes.Contains(body, []byte(`\u003c`)) || bytes.Contains(body, []byte(`\u0026`)) {
				t.Errorf("canonical JSON escapes HTML: %s", body)
			}
			again, err := k.body()
			if err != nil || !bytes.Equal(again, body) {
				t.Errorf("body not stable (%v):\n%s\n%s", err, body, again)
			}
		})
	}
}

// Round trips of the values at the edges: empty optional fields, longest
// texts, every enum.
func TestClinicalBodyRoundTripVariants(t *testing.T) {
	long := strings.Repeat("é", 4000)
	encounters := []Encounter{
		{PatientID: chartPatientID, Status: EncounterOpen, Start: "2026-06-15T08:30:00Z"},
		{PatientID: chartPatientID, Status: EncounterSigned, Start: "2026-06-15T05:30:00-03:30", End: "2026-06-15T05:30:00-03:30",
			Complaint: long, Findings: long, Assessment: long, Plan: long, SignedBy: "ab", SignedAt: "2026-06-15T09:59:30Z", AmendReason: "Typo"},
	}
	for _, e := range encounters {
		if err := e.Validate(chartNow); err != nil {
			t.Fatal(err)
		}
		body, _ := EncounterBody(chartRecord, e)
		if got, err := ParseEncounterBody(body); err != nil || got != e {
			t.Errorf("encounter round trip: %v\n got %#v\nwant %#v", err, got, e)
		}
	}
	for _, vt := range Vitals {
		o := Observation{PatientID: chartPatientID, Vital: vt.Key, Value: vt.Min + (vt.Max-vt.Min)/3, Effective: "2026-06-15T08:35:00Z"}
		if err := o.Validate(chartNow); err != nil {
			t.Fatal(err)
		}
		body, _ := ObservationBody(chartRecord, o)
		if got, err := ParseObservationBody(body); err != nil || got != o {
			t.Errorf("observation round trip: %v\n got %#v\nwant %#v", err, got, o)
		}
	}
	for _, status := range []string{"active", "resolved", "inactive"} {
		c := Condition{PatientID: chartPatientID, Code: Concept{Text: "Malaria"}, Status: status}
		if err := c.Validate(chartNow); err != nil {
			t.Fatal(err)
		}
		body, _ := ConditionBody(chartRecord, c)
		if got, err := ParseConditionBody(body); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("condition round trip: %v\n got %#v\nwant %#v", err, got, c)
		}
	}
	for _, kind := range []string{MedicationPrescribed, MedicationReported} {
		for _, status := range []string{"active", "stopped", "completed"} {
			m := Medication{PatientID: chartPatientID, Kind: kind, Drug: Concept{Text: "Metformin 500 mg"}, Dose: "1 tablet", Status: status}
			if err := m.Validate(chartNow); err != nil {
				t.Fatal(err)
			}
			body, _ := MedicationBody(chartRecord, m)
			if got, err := ParseMedicationBody(body); err != nil || !reflect.DeepEqual(got, m) {
				t.Errorf("medication round trip: %v\n got %#v\nwant %#v", err, got, m)
			}
		}
	}
	for _, a := range []Allergy{
		{PatientID: chartPatientID, Substance: Concept{Text: "Groundnuts"}, Status: "inactive"},
		{PatientID: chartPatientID, Substance: Concept{Text: "Sulfa"}, Reaction: "Rash", Status: "active"},
		{PatientID: chartPatientID, Substance: Concept{Text: "Latex"}, Reaction: "Wheeze", Severity: "severe", Status: "active"},
	} {
		if err := a.Validate(chartNow); err != nil {
			t.Fatal(err)
		}
		body, _ := AllergyBody(chartRecord, a)
		if got, err := ParseAllergyBody(body); err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("allergy round trip: %v\n got %#v\nwant %#v", err, got, a)
		}
	}
	im := Immunization{PatientID: chartPatientID, Vaccine: Concept{Text: "BCG"}, Date: "1890-01-01", Status: "not-done"}
	if err := im.Validate(chartNow); err != nil {
		t.Fatal(err)
	}
	body, _ := ImmunizationBody(chartRecord, im)
	if got, err := ParseImmunizationBody(body); err != nil || !reflect.DeepEqual(got, im) {
		t.Errorf("immunization round trip: %v\n got %#v\nwant %#v", err, got, im)
	}
	n := Note{PatientID: chartPatientID, Title: "Ω", Text: strings.Repeat("Line\n\n", 3000) + "end"}
	if err := n.Validate(chartNow); err != nil {
		t.Fatal(err)
	}
	body, _ = NoteBody(chartRecord, n)
	if got, err := ParseNoteBody(body); err != nil || got != n {
		t.Errorf("note round trip: %v", err)
	}
}

// The bodies are what is stored, hashed and exported: a change to their
// form must be deliberate. Run with -update-clinical-golden to accept one.
func TestClinicalBodiesGolden(t *testing.T) {
	for _, k := range chartKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			body, err := k.body()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "clinical", k.name+".json")
			if *updateClinicalGolden {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(body, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update-clinical-golden to create it)", err)
			}
			if got := string(body) + "\n"; got != string(want) {
				t.Errorf("%s body changed:\n got %s\nwant %s", k.name, got, want)
			}
		})
	}
}

// How the free-text parts of an encounter and a prescription sit in FHIR.
func TestClinicalBodyMapping(t *testing.T) {
	e := encounterFixture()
	body, err := EncounterBody(chartRecord, e)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"status":"finished"`,
		`"class":{"code":"AMB","display":"ambulatory","system":"http://terminology.hl7.org/CodeSystem/v3-ActCode"}`,
		`"reasonCode":[{"text":"Cough for 3 days\nFever at night"}]`,
		`{"url":"urn:outpost:fhir:encounter-assessment","valueString":"Community-acquired pneumonia, mild."}`,
		`{"url":"urn:outpost:fhir:signed-at","valueDateTime":"2026-06-15T09:00:00+02:00"}`,
		`"period":{"end":"2026-06-15T08:50:00+02:00","start":"2026-06-15T08:30:00+02:00"}`,
		`"subject":{"reference":"Patient/` + chartPatientID + `"}`,
	} {
		if !strings.Contains(string(body), strings.ReplaceAll(want, "\n", `\n`)) {
			t.Errorf("encounter body lacks %s:\n%s", want, body)
		}
	}
	body, err = MedicationBody(chartRecord, prescriptionFixture())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"resourceType":"MedicationRequest"`, `"intent":"order"`, `"authoredOn":"2026-06-15"`,
		`"encounter":{"reference":"Encounter/` + chartEncounterID + `"}`,
		`"text":"500 mg, oral, three times daily, 5 days"`, `"route":{"text":"oral"}`,
		`"timing":{"code":{"text":"three times daily"}}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("prescription body lacks %s:\n%s", want, body)
		}
	}
	body, err = MedicationBody(chartRecord, reportedFixture())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"resourceType":"MedicationStatement"`) || strings.Contains(string(body), "intent") {
		t.Errorf("reported medication body: %s", body)
	}
	n := noteFixture()
	body, err = NoteBody(chartRecord, n)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"data":"` + base64.StdEncoding.EncodeToString([]byte(n.Text)) + `"`; !strings.Contains(string(body), want) {
		t.Errorf("note body lacks %s:\n%s", want, body)
	}
}

// Bodies of values that are not of their kind are refused rather than
// written wrong; parsers refuse other resources.
func TestClinicalBodyErrors(t *testing.T) {
	if _, err := EncounterBody(chartRecord, Encounter{Status: "finished"}); err == nil {
		t.Error("encounter with a FHIR status written")
	}
	if _, err := ObservationBody(chartRecord, Observation{Vital: "glucose"}); err == nil {
		t.Error("observation of an unknown vital written")
	}
	if _, err := ObservationBody(chartRecord, Observation{Vital: "pulse", Value: nan()}); err == nil {
		t.Error("observation of NaN written")
	}
	if _, err := MedicationBody(chartRecord, Medication{Kind: "given"}); err == nil {
		t.Error("medication of an unknown kind written")
	}
	patient, _ := PatientBody(chartPatientID, Patient{Family: "Banda", Sex: "female"})
	parsers := map[string]func([]byte) error{
		"encounter":    func(b []byte) error { _, err := ParseEncounterBody(b); return err },
		"observation":  func(b []byte) error { _, err := ParseObservationBody(b); return err },
		"condition":    func(b []byte) error { _, err := ParseConditionBody(b); return err },
		"medication":   func(b []byte) error { _, err := ParseMedicationBody(b); return err },
		"allergy":      func(b []byte) error { _, err := ParseAllergyBody(b); return err },
		"immunization": func(b []byte) error { _, err := ParseImmunizationBody(b); return err },
		"note":         func(b []byte) error { _, err := ParseNoteBody(b); return err },
	}
	for name, parse := range parsers {
		for _, raw := range []string{string(patient), `[1,2`, `{}`, `null`} {
			if parse([]byte(raw)) == nil {
				t.Errorf("%s parser accepts %s", name, raw)
			}
		}
	}
	for _, raw := range []string{
		`{"resourceType":"Encounter","status":"planned","class":{"code":"AMB"}}`,
		`{"resourceType":"Encounter","status":"finished","subject":{"reference":"Group/1"}}`,
		`{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]}}`,
		`{"resourceType":"Observation","code":{"coding":[{"system":"http://example.org","code":"8480-6"}]}}`,
		`{"resourceType":"Condition","subject":{"reference":"Practitioner/1"}}`,
		`{"resourceType":"DocumentReference","content":[]}`,
		`{"resourceType":"DocumentReference","content":[{"attachment":{"contentType":"application/pdf","data":"AAAA"}}]}`,
		`{"resourceType":"DocumentReference","content":[{"attachment":{"contentType":"text/plain","data":"not base64!"}}]}`,
		`{"resourceType":"DocumentReference","content":[{"attachment":{"contentType":"text/plain","data":"/w=="}}]}`,
	} {
		var err error
		switch {
		case strings.Contains(raw, `"Encounter"`):
			_, err = ParseEncounterBody([]byte(raw))
		case strings.Contains(raw, `"Observation"`):
			_, err = ParseObservationBody([]byte(raw))
		case strings.Contains(raw, `"Condition"`):
			_, err = ParseConditionBody([]byte(raw))
		default:
			_, err = ParseNoteBody([]byte(raw))
		}
		if err == nil {
			t.Errorf("parsed %s", raw)
		}
	}
	// A reference inside a Bundle (urn:uuid:) is read as the id.
	o, err := ParseObservationBody([]byte(`{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},` +
		`"subject":{"reference":"urn:uuid:` + chartPatientID + `"},"valueQuantity":{"value":72,"code":"/min"}}`))
	if err != nil || o.PatientID != chartPatientID || o.Vital != "pulse" || o.Value != 72 {
		t.Errorf("got %+v, %v", o, err)
	}
}
