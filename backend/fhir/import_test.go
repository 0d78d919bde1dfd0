package fhir_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"outpost/backend/ehr"
	"outpost/backend/fhir"
	"outpost/backend/records"
)

// resourceCounts counts a Bundle's entries by resourceType.
func resourceCounts(t testing.TB, raw []byte) map[string]int {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range b.Entry {
		n[e.Resource.ResourceType]++
	}
	return n
}

func importBytes(t testing.TB, e *env, raw []byte) fhir.Report {
	t.Helper()
	rep, err := fhir.Import(ctx, e.s, e.actor, bytes.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// Vital sign records each sample gives: its vital sign Observations, a
// blood pressure panel counting twice (systolic and diastolic).
var sampleVitals = map[string]int{"Karena": 25, "Norma": 63, "Tony": 26, "Versie": 41}

// The four Synthea Bundles import: one patient each, every encounter,
// condition, prescription, allergy and immunization, and the vital signs
// among the observations; everything else is skipped with its reason. A
// second import of the same file creates nothing.
func TestImportSamples(t *testing.T) {
	for _, file := range samples(t) {
		name, _, _ := strings.Cut(filepath.Base(file), "_")
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			raw := readFile(t, file)
			in := resourceCounts(t, raw)
			var progress []int
			rep, err := fhir.Import(ctx, e.s, e.actor, bytes.NewReader(raw), func(done, total int) {
				if total != rep0Entries(in) {
					t.Fatalf("progress total %d, want %d", total, rep0Entries(in))
				}
				progress = append(progress, done)
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Entries != rep0Entries(in) || len(progress) != rep.Entries || progress[len(progress)-1] != rep.Entries {
				t.Errorf("entries %d, progress calls %d (last %v), want %d", rep.Entries, len(progress), progress[len(progress)-1:], rep0Entries(in))
			}
			want := map[string]int{"Patient": 1, "Observation": sampleVitals[name]}
			for _, typ := range []string{"Encounter", "Condition", "MedicationRequest", "AllergyIntolerance", "Immunization"} {
				want[typ] = in[typ]
			}
			for typ, n := range want {
				if got := rep.Types[typ]; got.Imported != n || got.Present != 0 {
					t.Errorf("%s: %+v, want %d imported", typ, got, n)
				}
			}
			if want["Encounter"] < 10 || want["Condition"] < 5 || sampleVitals[name] < 20 {
				t.Errorf("a thin sample: %v", want)
			}
			for _, s := range rep.Skipped {
				if s.Reason != fhir.NotModelled && !(s.Type == "Observation" && strings.HasPrefix(s.Reason, "not a vital sign")) {
					t.Errorf("unexpected skip: %+v", s)
				}
				if s.Reason == fhir.NotModelled && want[s.Type] > 0 {
					t.Errorf("%s counted as not modelled", s.Type)
				}
			}
			for _, typ := range []string{"Claim", "ExplanationOfBenefit", "Procedure", "CarePlan", "Organization", "Practitioner"} {
				if got := rep.Types[typ]; got.Skipped != in[typ] || got.Imported != 0 {
					t.Errorf("%s: %+v, want %d skipped", typ, got, in[typ])
				}
			}
			total := rep.Total()
			if got := e.count(t, "SELECT count(*) FROM versions"); got != total.Imported {
				t.Errorf("%d versions stored, report says %d imported", got, total.Imported)
			}

			again := importBytes(t, e, raw)
			t2 := again.Total()
			if t2.Imported != 0 || t2.Present != total.Imported || t2.Skipped != total.Skipped {
				t.Errorf("second import: %+v, want 0 imported, %d present, %d skipped", t2, total.Imported, total.Skipped)
			}
			if got := e.count(t, "SELECT count(*) FROM versions"); got != total.Imported {
				t.Errorf("second import: %d versions, want %d", got, total.Imported)
			}
		})
	}
}

func rep0Entries(in map[string]int) int {
	n := 0
	for _, c := range in {
		n += c
	}
	return n
}

// The Synthea specifics, read from Tony Douglas's Bundle: names with
// prefixes, a finished encounter signed by "import" at its end, the blood
// pressure panel split in two, dates of onset and vaccination, and a
// prescription without a dose.
func TestImportSyntheaDetails(t *testing.T) {
	e := newEnv(t)
	file, _ := filepath.Glob(filepath.Join(fhirTestdata, "samples", "Tony_Douglas_*.json"))
	importBytes(t, e, readFile(t, file[0]))

	pid := fhir.DeriveID("urn:uuid:79c96478-7878-4703-9e94-b999f2bc3295")
	p, err := e.s.Patient(ctx, e.actor, pid)
	if err != nil {
		t.Fatal(err)
	}
	want := ehr.Patient{ClinicNo: "K7Q-00001", Family: "Douglas", Given: "Tony", Sex: "male", BirthDate: "1972-04-18",
		Phone: "555-707-6353", Village: "Medford", Address: "589 Bergstrom Byway\nMassachusetts 02145 US"}
	if p.Patient != want {
		t.Errorf("patient\n got %+v\nwant %+v", p.Patient, want)
	}

	enc, err := records.Get(ctx, e.s, e.actor, records.Encounters, fhir.DeriveID("urn:uuid:11a735e7-4d73-4c64-95d9-26b3befba66d"))
	if err != nil {
		t.Fatal(err)
	}
	if v := enc.Value; v.Status != ehr.EncounterSigned || v.SignedBy != "import" || v.SignedAt != v.End ||
		v.Start != "1973-04-17T19:47:23Z" || v.End != "1973-04-17T20:02:23Z" || v.PatientID != pid || v.Complaint != "Encounter for problem" {
		t.Errorf("encounter %+v", v)
	}

	const bp = "urn:uuid:f46dd913-f896-4ee1-bb3d-764bf22cd6fa"
	encID := fhir.DeriveID("urn:uuid:d6740bbd-c9d3-40c1-81f8-9b79a873af53")
	for key, value := range map[string]float64{"systolic": 178.0564216419244, "diastolic": 101.41539564838737} {
		o, err := records.Get(ctx, e.s, e.actor, records.Observations, fhir.DeriveID(bp+"#"+key))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if v := o.Value; v.Vital != key || v.Value != value || v.Unit != "mm[Hg]" || v.EncounterID != encID || v.Effective != "2012-07-17T19:47:23Z" {
			t.Errorf("%s: %+v", key, v)
		}
	}
	if ok, _ := e.s.Exists(ctx, fhir.DeriveID(bp)); ok {
		t.Error("the panel itself was stored")
	}

	c, err := records.Get(ctx, e.s, e.actor, records.Conditions, fhir.DeriveID("urn:uuid:e4f7aec5-7d48-49f9-856f-f3b398329da3"))
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Value; v.Status != "active" || v.Onset != "1977-04-24" || len(v.Code.Coding) != 1 || v.Code.Coding[0].Code != "232353008" {
		t.Errorf("condition %+v", v)
	}

	im, err := records.Get(ctx, e.s, e.actor, records.Immunizations, fhir.DeriveID("urn:uuid:60c2d3d0-54fa-4fda-9d5b-343c8432ab66"))
	if err != nil {
		t.Fatal(err)
	}
	if v := im.Value; v.Date != "2011-12-13" || v.Status != "completed" || v.Vaccine.Coding[0].Code != "140" {
		t.Errorf("immunization %+v", v)
	}

	m, err := records.Get(ctx, e.s, e.actor, records.Medications, fhir.DeriveID("urn:uuid:8b3306ab-cbd0-4503-ae12-2a5ea96d94f6"))
	if err != nil {
		t.Fatal(err)
	}
	if v := m.Value; v.Kind != ehr.MedicationPrescribed || v.Dose != fhir.DoseNotStated || v.Frequency != "as needed" ||
		v.Start != "1977-05-08" || v.Drug.Coding[0].System != ehr.SystemRxNorm || v.Drug.Coding[0].Code != "1049630" {
		t.Errorf("medication %+v", v)
	}
}

// bundle builds a Bundle of the given type from entries (fullUrl,
// resource) pairs.
func bundle(t testing.TB, typ string, entries ...any) []byte {
	t.Helper()
	var list []map[string]any
	for i := 0; i+1 < len(entries); i += 2 {
		e := map[string]any{"resource": entries[i+1]}
		if url := entries[i].(string); url != "" {
			e["fullUrl"] = url
		}
		list = append(list, e)
	}
	b, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": typ, "entry": list})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type obj = map[string]any

func ref(s string) obj { return obj{"reference": s} }

func coded(system, code, display string) obj {
	return obj{"coding": []obj{{"system": system, "code": code, "display": display}}}
}

func vital(subject, encounter, loinc string, value float64, unit string) obj {
	o := obj{"resourceType": "Observation", "status": "final", "code": coded(ehr.SystemLOINC, loinc, ""),
		"subject": ref(subject), "effectiveDateTime": "2025-05-01T10:00:00+02:00",
		"valueQuantity": obj{"value": value, "unit": unit, "system": ehr.SystemUCUM, "code": unit}}
	if encounter != "" {
		o["encounter"] = ref(encounter)
	}
	return o
}

func testPatient(family string) obj {
	return obj{"resourceType": "Patient", "name": []obj{{"use": "official", "family": family, "given": []string{"Ama", "Grace"}, "prefix": []string{"Mrs."}}},
		"gender": "female", "birthDate": "1990-02-03"}
}

// A Bundle with bad resources: each is skipped with its reason, the rest
// is imported.
func TestImportSkipsBadResources(t *testing.T) {
	e := newEnv(t)
	const p1, p2, enc, open = "urn:uuid:p-1", "urn:uuid:p-2", "urn:uuid:e-1", "urn:uuid:e-2"
	raw := bundle(t, "transaction",
		// Entries come in any order: a reference may precede its target.
		"urn:uuid:o-1", vital(p1, enc, "8867-4", 900, "/min"),
		"urn:uuid:o-2", vital(p1, enc, "29463-7", 70.5, "kg"),
		"urn:uuid:o-3", vital(p1, "", "29463-7", 154, "[lb_av]"),
		"urn:uuid:o-4", obj{"resourceType": "Observation", "status": 5},
		p1, testPatient("Osei"),
		p2, testPatient("R2D2"),
		enc, obj{"resourceType": "Encounter", "status": "finished", "class": obj{"code": "AMB"}, "subject": ref(p1),
			"period":     obj{"start": "2025-05-01T09:00:00+02:00", "end": "2025-05-01T09:30:00+02:00"},
			"reasonCode": []obj{{"text": "Fever for three days"}}},
		open, obj{"resourceType": "Encounter", "status": "in-progress", "class": obj{"code": "AMB"}, "subject": ref(p1),
			"period": obj{"start": "2026-03-01T08:00:00Z"}},
		"urn:uuid:c-1", obj{"resourceType": "Condition", "subject": ref(p1), "code": coded(ehr.SystemSNOMED, "123", "Nonsense"),
			"clinicalStatus": coded(ehr.SystemConditionClinical, "active", "")},
		"urn:uuid:c-2", obj{"resourceType": "Condition", "subject": ref(p2), "code": obj{"text": "Malaria"},
			"clinicalStatus": coded(ehr.SystemConditionClinical, "active", "")},
		"urn:uuid:c-3", obj{"resourceType": "Condition", "subject": ref("Patient/nowhere"), "code": obj{"text": "Malaria"},
			"clinicalStatus": coded(ehr.SystemConditionClinical, "active", "")},
		"urn:uuid:c-4", obj{"resourceType": "Condition", "subject": ref(p1), "code": coded("http://hl7.org/fhir/sid/icd-10-cm", "B54", "Malaria, unspecified"),
			"clinicalStatus": coded(ehr.SystemConditionClinical, "remission", ""), "onsetDateTime": "2019"},
		"urn:uuid:i-1", obj{"resourceType": "Immunization", "status": "completed", "patient": ref(p1),
			"vaccineCode": coded(ehr.SystemCVX, "08", "Hep B"), "occurrenceDateTime": "2024-01-05T10:00:00Z",
			"protocolApplied": []obj{{"doseNumberPositiveInt": 2}}},
		"urn:uuid:x-1", obj{"resourceType": "Claim", "id": "x-1"},
		"urn:uuid:x-2", obj{"resourceType": "Claim\x1b[2J", "id": "x-2\x1b]0;owned\a"},
		"", obj{"resourceType": "Condition", "subject": ref(p1), "code": obj{"text": "No id"}},
	)
	rep := importBytes(t, e, raw)
	type want struct {
		imported, skipped int
	}
	for typ, w := range map[string]want{
		"Patient": {1, 1}, "Encounter": {2, 0}, "Observation": {2, 2}, "Condition": {1, 4},
		"Immunization": {1, 0}, "Claim": {0, 1},
	} {
		if got := rep.Types[typ]; got.Imported != w.imported || got.Skipped != w.skipped {
			t.Errorf("%s: %+v, want %+v", typ, got, w)
		}
	}
	reasons := map[string]string{}
	for _, s := range rep.Skipped {
		reasons[s.ID] = s.Reason
	}
	for id, want := range map[string]string{
		"urn:uuid:o-1": "value: Enter a plausible value",
		"urn:uuid:o-4": "malformed Observation: status should be a JSON string",
		"urn:uuid:p-2": "family: Use letters",
		"urn:uuid:c-1": `code: "123" is not a valid SNOMED CT code`,
		"urn:uuid:c-2": "its patient (urn:uuid:p-2) was not imported",
		"urn:uuid:c-3": "its patient (Patient/nowhere) is not in the Bundle and not stored here",
		"":             "no fullUrl and no id",
		"x-1":          fhir.NotModelled,
		"x-2 ]0;owned": "not a FHIR resource type name",
	} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("skip of %q: %q, want %q", id, reasons[id], want)
		}
	}

	for _, s := range rep.Skipped {
		if strings.ContainsFunc(s.Type+s.ID+s.Reason, func(r rune) bool { return r < 0x20 }) {
			t.Errorf("control characters in %q", s)
		}
	}

	pid := fhir.DeriveID(p1)
	p, err := e.s.Patient(ctx, e.actor, pid)
	if err != nil || p.Patient.Family != "Osei" || p.Patient.Given != "Ama Grace" {
		t.Fatalf("patient %+v %v", p.Patient, err)
	}
	obs, err := records.List(ctx, e.s, e.actor, records.Observations, pid, 10)
	if err != nil || len(obs) != 2 {
		t.Fatalf("observations %v %v", obs, err)
	}
	for _, o := range obs {
		if o.Value.Vital != "weight" || (o.Value.Value != 70.5 && o.Value.Value != 69.85) || o.Value.Unit != "kg" {
			t.Errorf("observation %+v", o.Value)
		}
		if (o.ID == fhir.DeriveID("urn:uuid:o-2")) != (o.Value.EncounterID == fhir.DeriveID(enc)) {
			t.Errorf("observation %s linked to %q", o.ID, o.Value.EncounterID)
		}
	}
	encs, err := records.List(ctx, e.s, e.actor, records.Encounters, pid, 10)
	if err != nil || len(encs) != 2 {
		t.Fatalf("encounters %v %v", encs, err)
	}
	for _, en := range encs {
		switch en.ID {
		case fhir.DeriveID(enc):
			if en.Value.Status != "signed" || en.Value.SignedBy != "import" || en.Value.Complaint != "Fever for three days" {
				t.Errorf("finished encounter %+v", en.Value)
			}
		case fhir.DeriveID(open):
			if en.Value.Status != "open" || en.Value.End != "" || en.Value.SignedBy != "" {
				t.Errorf("open encounter %+v", en.Value)
			}
		}
	}
	conds, err := records.List(ctx, e.s, e.actor, records.Conditions, pid, 10)
	if err != nil || len(conds) != 1 {
		t.Fatalf("conditions %v %v", conds, err)
	}
	// An ICD-10-CM code is not Outpost's ICD-10: kept as text; a year of
	// onset goes to the note.
	if c := conds[0].Value; c.Status != "inactive" || c.Code.Text != "Malaria, unspecified" || len(c.Code.Coding) != 0 || c.Onset != "" || c.Note != "Onset: 2019" {
		t.Errorf("condition %+v", c)
	}
}

// Input that is not a Bundle is refused as a whole, with an error that
// says what it is, and nothing is written.
func TestImportRefusesNonBundles(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, input string
		err         error
		msg         string
	}{
		{"empty", "  \n", fhir.ErrNotBundle, "empty"},
		{"truncated", `{"resourceType":"Bundle","type":"collection","entry":[`, fhir.ErrMalformed, "line 1"},
		{"not JSON", "resourceType: Bundle", fhir.ErrMalformed, "invalid character"},
		{"bad JSON on line 3", "{\n\"resourceType\": \"Bundle\",\n\"type\": collection\n}", fhir.ErrMalformed, "line 3"},
		{"array", `[{"resourceType":"Patient"}]`, fhir.ErrNotBundle, "JSON array"},
		{"string", `"Bundle"`, fhir.ErrNotBundle, "JSON string"},
		{"no resourceType", `{"type":"collection","entry":[]}`, fhir.ErrNotBundle, "no resourceType"},
		{"a Patient", `{"resourceType":"Patient","id":"x"}`, fhir.ErrNotBundle, "FHIR Patient resource"},
		{"a history", `{"resourceType":"Bundle","type":"history","entry":[]}`, fhir.ErrNotBundle, `type "history"`},
		{"no type", `{"resourceType":"Bundle","entry":[]}`, fhir.ErrNotBundle, `type ""`},
		{"entry not a list", `{"resourceType":"Bundle","type":"batch","entry":{"a":1}}`, fhir.ErrMalformed, "not a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fhir.Import(ctx, e.s, e.actor, strings.NewReader(tt.input), nil)
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want %v with %q", err, tt.err, tt.msg)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		defer fhir.SetMaxImportBytes(1000)()
		big := bundle(t, "collection", "urn:uuid:p", testPatient(strings.Repeat("a", 1000)))
		_, err := fhir.Import(ctx, e.s, e.actor, bytes.NewReader(big), nil)
		if !errors.Is(err, fhir.ErrTooLarge) || !strings.Contains(err.Error(), "1000 bytes") {
			t.Fatalf("error %v", err)
		}
	})
	if n := e.count(t, "SELECT count(*) FROM versions"); n != 0 {
		t.Errorf("%d versions written", n)
	}
	// An empty Bundle is a Bundle: nothing to do.
	rep, err := fhir.Import(ctx, e.s, e.actor, strings.NewReader(`{"resourceType":"Bundle","type":"collection"}`), nil)
	if err != nil || rep.Entries != 0 || rep.Total() != (fhir.Count{}) {
		t.Errorf("empty Bundle: %+v %v", rep, err)
	}
}

// References outside the Bundle resolve to a patient an earlier import
// made from the same reference, or to a patient of this vault by id.
func TestImportResolvesStoredPatients(t *testing.T) {
	e := newEnv(t)
	importBytes(t, e, bundle(t, "collection", "urn:uuid:first", testPatient("Mensah")))
	local, err := e.s.RegisterPatient(ctx, e.actor, ehr.Patient{Family: "Banda", Given: "Kofi", Sex: "male", BirthDate: "1980-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	cond := func(subject string) obj {
		return obj{"resourceType": "Condition", "subject": ref(subject), "code": obj{"text": "Hypertension"},
			"clinicalStatus": coded(ehr.SystemConditionClinical, "active", "")}
	}
	rep := importBytes(t, e, bundle(t, "batch",
		"urn:uuid:c-earlier", cond("urn:uuid:first"),
		"urn:uuid:c-local", cond("Patient/"+local.ID),
		"urn:uuid:c-local-urn", cond("urn:uuid:"+local.ID),
	))
	if got := rep.Types["Condition"]; got.Imported != 3 {
		t.Fatalf("conditions %+v: %v", got, rep.Skipped)
	}
	for pid, n := range map[string]int{fhir.DeriveID("urn:uuid:first"): 1, local.ID: 2} {
		got, err := records.List(ctx, e.s, e.actor, records.Conditions, pid, 10)
		if err != nil || len(got) != n {
			t.Errorf("patient %s: %d conditions, want %d (%v)", pid, len(got), n, err)
		}
	}
}

// A chart restricted in the source stays restricted, to the importing
// clinician; others' exports leave it out.
func TestImportKeepsRestriction(t *testing.T) {
	e := newEnv(t)
	p := testPatient("Phiri")
	p["meta"] = obj{"security": []obj{{"system": ehr.SystemConfidentiality, "code": "R"}}}
	importBytes(t, e, bundle(t, "collection", "urn:uuid:r", p))
	id := fhir.DeriveID("urn:uuid:r")
	rec, err := e.s.Patient(ctx, e.actor, id)
	if err != nil || !rec.Patient.Restricted || rec.RestrictedBy != e.actor.Username {
		t.Fatalf("restricted patient %+v %v", rec, err)
	}
	other := records.Actor{UserID: "u2", Username: "dr.other", Roles: []string{"clinician"}, Session: "s2"}
	var buf bytes.Buffer
	st, err := fhir.Export(ctx, e.s, other, nil, &buf, nil)
	if err != nil || st.Patients != 0 || len(st.Withheld) != 1 || st.Withheld[0] != id {
		t.Fatalf("export by another clinician: %+v %v", st, err)
	}
}

func TestDeriveID(t *testing.T) {
	a, b := fhir.DeriveID("urn:uuid:x"), fhir.DeriveID("urn:uuid:y")
	if a == b || a != fhir.DeriveID("urn:uuid:x") || !ehr.ValidID(a) {
		t.Fatalf("ids %s %s", a, b)
	}
	if a[14] != '8' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("%s is not a version 8, RFC 9562 variant UUID", a)
	}
	// Pinned: a change of the derivation would duplicate every record on
	// the next import of a file imported before.
	if got, want := fhir.DeriveID("urn:uuid:79c96478-7878-4703-9e94-b999f2bc3295"), "abc9ff03-1645-85a7-8f54-9d6fa6bfd708"; got != want {
		t.Errorf("derivation changed: %s, was %s", got, want)
	}
}

// deceased[x] is kept: a date of death as the day, a boolean or a partial
// date as "deceased"; the export writes it back.
func TestImportDeceased(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		key, field string
		value      any
		want       ehr.Patient
	}{
		{"urn:uuid:d1", "deceasedDateTime", "2021-03-04T10:20:00+02:00", ehr.Patient{Deceased: true, DeceasedDate: "2021-03-04"}},
		{"urn:uuid:d2", "deceasedBoolean", true, ehr.Patient{Deceased: true}},
		{"urn:uuid:d3", "deceasedDateTime", "2021", ehr.Patient{Deceased: true}},
		{"urn:uuid:d4", "deceasedBoolean", false, ehr.Patient{}},
	}
	for _, tt := range tests {
		p := testPatient("Phiri")
		p[tt.field] = tt.value
		importBytes(t, e, bundle(t, "collection", tt.key, p))
		rec, err := e.s.Patient(ctx, e.actor, fhir.DeriveID(tt.key))
		if err != nil {
			t.Fatal(err)
		}
		if got := (ehr.Patient{Deceased: rec.Patient.Deceased, DeceasedDate: rec.Patient.DeceasedDate}); got != tt.want {
			t.Errorf("%s %v: got %+v, want %+v", tt.field, tt.value, got, tt.want)
		}
	}
	var buf bytes.Buffer
	if _, err := fhir.Export(ctx, e.s, e.actor, []string{fhir.DeriveID("urn:uuid:d1")}, &buf, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"deceasedDateTime":"2021-03-04"`) {
		t.Errorf("export lost the date of death: %s", buf.String())
	}
}
