package ehr

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const fhirTestdata = "../../testdata/fhir"

// fhirSchema compiles HL7's FHIR R4 JSON Schema, once per test binary: it
// is 3 MB and takes about a second.
var fhirSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join(fhirTestdata, "fhir.schema.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); ok {
		delete(m, "$schema") // the draft is set below; no metaschema to fetch
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft6)
	const url = "file:///fhir.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

// checkFHIR validates a resource against the schema; the schema's oneOf
// over every resource type picks the one named by resourceType.
func checkFHIR(t testing.TB, body []byte) error {
	t.Helper()
	sch, err := fhirSchema()
	if err != nil {
		t.Fatalf("compile the FHIR schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	return sch.Validate(inst)
}

// Every kind's body, and the patient's, is a valid FHIR R4 resource.
func TestBodiesValidateAgainstFHIRSchema(t *testing.T) {
	for _, k := range chartKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			body, err := k.body()
			if err != nil {
				t.Fatal(err)
			}
			if err := checkFHIR(t, body); err != nil {
				t.Errorf("%s body is not valid FHIR R4:\n%s\n%v", k.name, body, err)
			}
		})
	}
	t.Run("patient", func(t *testing.T) {
		p := Patient{ClinicNo: "K7Q-00001", Family: "Banda", Given: "Chisomo Grace", Other: "Chichi", Sex: "female",
			BirthDate: "1990", BirthEstimated: true, NationalID: "MW-1234/56", Phone: "+265 99 123 4567", Village: "Lowland",
			Address: "Plot 4\nNear the market", KinName: "Ama Banda", KinRelation: "sister", KinPhone: "+265 99 000 0001",
			Restricted: true}
		body, err := PatientBody(chartPatientID, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkFHIR(t, body); err != nil {
			t.Errorf("patient body is not valid FHIR R4:\n%s\n%v", body, err)
		}
	})
}

// The validator is not vacuous: it refuses what FHIR refuses.
func TestFHIRSchemaRefusesBrokenBodies(t *testing.T) {
	body, err := EncounterBody(chartRecord, encounterFixture())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, old, new string }{
		{"unknown element", `"status":`, `"mood":"good","status":`},
		{"number for a code", `"status":"finished"`, `"status":5`},
		{"bad dateTime", `"start":"2026-06-15T08:30:00+02:00"`, `"start":"15/06/2026"`},
		{"empty string", `"valueString":"dr.banda"`, `"valueString":""`},
		{"unknown resource type", `"resourceType":"Encounter"`, `"resourceType":"Visit"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := strings.Replace(string(body), tt.old, tt.new, 1)
			if broken == string(body) {
				t.Fatalf("%q not in the body %s", tt.old, body)
			}
			if checkFHIR(t, []byte(broken)) == nil {
				t.Errorf("the schema accepts %s", broken)
			}
		})
	}
}

// The JSON schema checks names, types and patterns but not FHIR's
// cardinalities: check the elements R4 requires (1..*) are present.
func TestBodiesHaveRequiredElements(t *testing.T) {
	required := map[string][]string{
		"Encounter":           {"status", "class", "class.code"},
		"Observation":         {"status", "code", "category"},
		"Condition":           {"subject", "clinicalStatus", "code"},
		"MedicationRequest":   {"status", "intent", "medicationCodeableConcept", "subject"},
		"MedicationStatement": {"status", "medicationCodeableConcept", "subject"},
		"AllergyIntolerance":  {"patient", "clinicalStatus", "code", "reaction.manifestation"},
		"Immunization":        {"status", "vaccineCode", "patient", "occurrenceDateTime", "protocolApplied.doseNumberPositiveInt"},
		"DocumentReference":   {"status", "content", "content.attachment", "content.attachment.contentType"},
	}
	for _, k := range chartKinds(t) {
		body, err := k.body()
		if err != nil {
			t.Fatal(err)
		}
		var r map[string]any
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		if got := r["resourceType"]; got != k.resource {
			t.Errorf("%s: resourceType %v, want %s", k.name, got, k.resource)
		}
		if got, want := r["id"], chartRecord; got != want {
			t.Errorf("%s: id %v, want %s", k.name, got, want)
		}
		for _, path := range required[k.resource] {
			if !hasPath(r, strings.Split(path, ".")) {
				t.Errorf("%s: no %s in %s", k.name, path, body)
			}
		}
		for _, field := range []string{"subject", "patient"} {
			if s, ok := r[field].(map[string]any); ok && s["reference"] != "Patient/"+chartPatientID {
				t.Errorf("%s: %s is %v", k.name, field, s)
			}
		}
		if !strings.Contains(string(body), `"reference":"Patient/`+chartPatientID+`"`) {
			t.Errorf("%s: no reference to the patient in %s", k.name, body)
		}
	}
}

// hasPath reports whether a non-empty value is at path, looking into the
// first element of arrays.
func hasPath(v any, path []string) bool {
	if a, ok := v.([]any); ok {
		if len(a) == 0 {
			return false
		}
		v = a[0]
	}
	if len(path) == 0 {
		switch v := v.(type) {
		case nil:
			return false
		case string:
			return v != ""
		case map[string]any:
			return len(v) > 0
		}
		return true
	}
	m, ok := v.(map[string]any)
	return ok && hasPath(m[path[0]], path[1:])
}

// sampleResources returns the resources of the Synthea sample Bundles, raw,
// by resourceType.
func sampleResources(t testing.TB) map[string][]json.RawMessage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fhirTestdata, "samples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", fhirTestdata, err)
	}
	out := map[string][]json.RawMessage{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range b.Entry {
			var r struct {
				ResourceType string `json:"resourceType"`
			}
			if err := json.Unmarshal(e.Resource, &r); err != nil {
				t.Fatal(err)
			}
			out[r.ResourceType] = append(out[r.ResourceType], e.Resource)
		}
	}
	return out
}

// The parsers read resources written by another system (Synthea's) without
// failing on what they do not know, and what they read re-serialises into
// valid FHIR.
func TestParseSampleResources(t *testing.T) {
	samples := sampleResources(t)
	type parser struct {
		resource  string
		roundTrip func([]byte) ([]byte, error)
		minParsed int
	}
	parsers := []parser{
		{"Encounter", func(b []byte) ([]byte, error) { return again(ParseEncounterBody(b))(EncounterBody) }, 50},
		{"Observation", func(b []byte) ([]byte, error) { return again(ParseObservationBody(b))(ObservationBody) }, 50},
		{"Condition", func(b []byte) ([]byte, error) { return again(ParseConditionBody(b))(ConditionBody) }, 20},
		{"MedicationRequest", func(b []byte) ([]byte, error) { return again(ParseMedicationBody(b))(MedicationBody) }, 20},
		{"AllergyIntolerance", func(b []byte) ([]byte, error) { return again(ParseAllergyBody(b))(AllergyBody) }, 20},
		{"Immunization", func(b []byte) ([]byte, error) { return again(ParseImmunizationBody(b))(ImmunizationBody) }, 50},
	}
	for _, p := range parsers {
		t.Run(p.resource, func(t *testing.T) {
			parsed := 0
			for i, raw := range samples[p.resource] {
				body, err := p.roundTrip(raw)
				if err != nil {
					continue // e.g. an Observation that is not one of our vitals
				}
				parsed++
				if again, err := p.roundTrip(body); err != nil || !bytes.Equal(again, body) {
					t.Errorf("body not stable (%v):\n%s\n%s", err, body, again)
				}
				if i%10 == 0 { // the schema is slow: check a sample
					if err := checkFHIR(t, body); err != nil {
						t.Errorf("re-serialised %s is not valid FHIR:\n%s\n%v", p.resource, body, err)
					}
				}
			}
			if parsed < p.minParsed {
				t.Errorf("parsed %d of %d %s resources, want at least %d", parsed, len(samples[p.resource]), p.resource, p.minParsed)
			}
		})
	}
}

// again turns a parse result into a function of the matching Body.
func again[T any](x T, err error) func(func(string, T) ([]byte, error)) ([]byte, error) {
	return func(body func(string, T) ([]byte, error)) ([]byte, error) {
		if err != nil {
			return nil, err
		}
		return body(chartRecord, x)
	}
}

// The code-system checks accept every code of the samples from the systems
// they know: a check digit rule that is wrong would refuse real codes.
func TestCodeSystemsAcceptSampleCodes(t *testing.T) {
	seen := map[string]map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			sys, _ := v["system"].(string)
			code, _ := v["code"].(string)
			if _, known := CodeSystems[sys]; known && code != "" {
				if seen[sys] == nil {
					seen[sys] = map[string]bool{}
				}
				seen[sys][code] = true
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, list := range sampleResources(t) {
		for _, raw := range list {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			walk(v)
		}
	}
	for _, sys := range []string{SystemSNOMED, SystemLOINC, SystemCVX, SystemRxNorm} {
		if len(seen[sys]) < 5 {
			t.Errorf("only %d %s codes in the samples", len(seen[sys]), CodeSystems[sys].Name)
		}
		var bad []string
		for code := range seen[sys] {
			if !CodeSystems[sys].Valid(code) {
				bad = append(bad, code)
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			t.Errorf("%s refuses sample codes %v", CodeSystems[sys].Name, bad)
		}
	}
}
