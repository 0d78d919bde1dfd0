package ehr

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// fuzzParser checks a parser never panics, and that whatever it reads is
// written back as a body that parses again to the same body.
func fuzzParser[T any](f *testing.F, resource string, parse func([]byte) (T, error), body func(string, T) ([]byte, error)) {
	for _, k := range chartKinds(f) {
		if b, err := k.body(); err == nil && (k.resource == resource || resource == "Medication" && strings.HasPrefix(k.resource, "Medication")) {
			f.Add(b)
		}
	}
	// A resource as another system writes it (after Synthea's). The
	// samples themselves go through TestParseSampleResources: decoding
	// them here, in every fuzz worker, instrumented, stalls fuzzing.
	f.Add([]byte(`{"resourceType":"` + resource + `","id":"x","meta":{"tag":[{"code":"t"}]},"status":"finished",` +
		`"class":{"code":"AMB"},"code":{"coding":[{"system":"http://loinc.org","code":"8302-2","display":"Body Height"}]},` +
		`"subject":{"reference":"urn:uuid:8a6f7e61"},"patient":{"reference":"Patient/1"},"encounter":{"reference":"urn:uuid:5b60"},` +
		`"valueQuantity":{"value":54.99353685144303,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"},` +
		`"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"resolved"}]},` +
		`"dosageInstruction":[{"sequence":1,"asNeededBoolean":true}],"occurrenceDateTime":"2018-05-23T00:46:35+00:00",` +
		`"content":[{"attachment":{"contentType":"text/plain","data":"aGVsbG8="}}]}`))
	f.Add([]byte(`{"resourceType":"` + resource + `"}`))
	f.Add([]byte(`{"resourceType":"Patient"}`))
	f.Add([]byte(`{"resourceType":"` + resource + `","subject":{"reference":"urn:uuid:x"},"extension":[{"url":1}]}`))
	f.Add([]byte(`[1,2`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		x, err := parse(raw)
		if err != nil {
			return
		}
		b1, err := body(chartRecord, x)
		if err != nil {
			t.Fatalf("parsed %q as %#v, which does not re-serialise: %v", raw, x, err)
		}
		y, err := parse(b1)
		if err != nil {
			t.Fatalf("own body %s does not parse: %v", b1, err)
		}
		b2, err := body(chartRecord, y)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("body not stable (%v):\n%s\n%s", err, b1, b2)
		}
	})
}

func FuzzParseEncounterBody(f *testing.F) {
	fuzzParser(f, "Encounter", ParseEncounterBody, EncounterBody)
}

func FuzzParseObservationBody(f *testing.F) {
	fuzzParser(f, "Observation", ParseObservationBody, ObservationBody)
}

func FuzzParseConditionBody(f *testing.F) {
	fuzzParser(f, "Condition", ParseConditionBody, ConditionBody)
}

func FuzzParseMedicationBody(f *testing.F) {
	fuzzParser(f, "Medication", ParseMedicationBody, MedicationBody)
}

func FuzzParseAllergyBody(f *testing.F) {
	fuzzParser(f, "AllergyIntolerance", ParseAllergyBody, AllergyBody)
}

func FuzzParseImmunizationBody(f *testing.F) {
	fuzzParser(f, "Immunization", ParseImmunizationBody, ImmunizationBody)
}

func FuzzParseNoteBody(f *testing.F) {
	fuzzParser(f, "DocumentReference", ParseNoteBody, NoteBody)
}

// Whatever Validate accepts is clean text and round-trips exactly.
func FuzzEncounterValidate(f *testing.F) {
	e := encounterFixture()
	f.Add(e.Status, e.Start, e.End, e.Complaint, e.Plan, e.SignedBy, e.SignedAt)
	f.Add("open", "2026-06-15T08:30:00Z", "", "a\x00b", "\u202e", "", "")
	f.Add("signed", "2026-06-15T08:30:00+14:00", "2026-06-15T08:30:00-14:00", " x ", "\n\n", "DR.B", "2026-06-15T10:00:59Z")
	f.Fuzz(func(t *testing.T, status, start, end, complaint, plan, signedBy, signedAt string) {
		e := Encounter{PatientID: chartPatientID, Status: status, Start: start, End: end, Complaint: complaint, Plan: plan,
			SignedBy: signedBy, SignedAt: signedAt}
		if err := e.Validate(chartNow); err != nil {
			if ErrorCode(err) != EInvalid || len(ErrorFields(err)) == 0 {
				t.Fatalf("error without fields: %v", err)
			}
			return
		}
		for _, s := range []string{e.Complaint, e.Plan} {
			if strings.IndexFunc(s, func(r rune) bool { return r != '\n' && unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0 {
				t.Fatalf("accepted control characters: %q", s)
			}
		}
		again := e
		if err := again.Validate(chartNow); err != nil || again != e {
			t.Fatalf("validating twice: %v\n%#v\n%#v", err, again, e)
		}
		body, err := EncounterBody(chartRecord, e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseEncounterBody(body)
		if err != nil || back != e {
			t.Fatalf("round trip: %v\n%#v\n%#v", err, back, e)
		}
	})
}

// Concepts: whatever a condition accepts has known codes and round-trips.
func FuzzConditionValidate(f *testing.F) {
	f.Add(SystemICD10, "J18.9", "Pneumonia", "", "active", "2026-01-01")
	f.Add(SystemSNOMED, "38341003", "", "Hypertension", "inactive", "")
	f.Add("http://example.org", "1", "x", "y", "resolved", "2026-13-01")
	f.Fuzz(func(t *testing.T, system, code, display, text, status, onset string) {
		c := Condition{PatientID: chartPatientID, Status: status, Onset: onset, Code: Concept{Text: text}}
		if system != "" || code != "" || display != "" {
			c.Code.Coding = []Coding{{System: system, Code: code, Display: display}}
		}
		if err := c.Validate(chartNow); err != nil {
			return
		}
		for _, cd := range c.Code.Coding {
			if cs, ok := CodeSystems[cd.System]; !ok || !cs.Valid(cd.Code) || cd.System == SystemLOINC {
				t.Fatalf("accepted coding %+v", cd)
			}
		}
		body, err := ConditionBody(chartRecord, c)
		if err != nil {
			t.Fatal(err)
		}
		var tree any
		if err := json.Unmarshal(body, &tree); err != nil {
			t.Fatal(err)
		}
		back, err := ParseConditionBody(body)
		if err != nil || !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip: %v\n%#v\n%#v", err, back, c)
		}
	})
}
