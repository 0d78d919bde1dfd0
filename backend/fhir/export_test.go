package fhir_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"outpost/backend/ehr"
	"outpost/backend/fhir"
	"outpost/backend/records"
)

// importSamples imports every sample Bundle into e.
func importSamples(t testing.TB, e *env) {
	t.Helper()
	for _, f := range samples(t) {
		importBytes(t, e, readFile(t, f))
	}
}

func export(t testing.TB, e *env, ids []string) ([]byte, fhir.Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := fhir.Export(ctx, e.s, e.actor, ids, &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

// The export of an imported patient, with a note and an open encounter
// added here, is a valid FHIR R4 Bundle of type collection whose every
// reference resolves inside it.
func TestExportValidatesAgainstSchema(t *testing.T) {
	e := newEnv(t)
	file, _ := filepath.Glob(filepath.Join(fhirTestdata, "samples", "Tony_Douglas_*.json"))
	rep := importBytes(t, e, readFile(t, file[0]))
	pid := fhir.DeriveID("urn:uuid:79c96478-7878-4703-9e94-b999f2bc3295")
	open, err := records.Save(ctx, e.s, e.actor, records.Encounters, "", "", ehr.Encounter{PatientID: pid, Status: "open",
		Start: "2026-03-01T08:30:00+02:00", Complaint: "Cough", Findings: "Chest clear"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := records.Save(ctx, e.s, e.actor, records.Notes, "", "", ehr.Note{PatientID: pid, EncounterID: open.ID,
		Title: "Referral", Text: "Please see this patient.\nThank you."}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := records.Save(ctx, e.s, e.actor, records.Medications, "", "", ehr.Medication{PatientID: pid, Kind: "reported",
		Drug: ehr.Concept{Text: "Paracetamol"}, Status: "active"}, ""); err != nil {
		t.Fatal(err)
	}

	raw, st := export(t, e, []string{pid})
	if err := checkFHIR(t, raw); err != nil {
		t.Fatalf("the export is not valid FHIR R4: %v", err)
	}
	wantTypes := map[string]int{"Patient": 1, "DocumentReference": 1, "MedicationStatement": 1}
	for _, typ := range []string{"Encounter", "Observation", "Condition", "MedicationRequest", "AllergyIntolerance", "Immunization"} {
		wantTypes[typ] = rep.Types[typ].Imported
	}
	wantTypes["Encounter"]++
	total := 0
	for typ, n := range wantTypes {
		if st.Resources[typ] != n {
			t.Errorf("%s: exported %d, want %d", typ, st.Resources[typ], n)
		}
		total += n
	}
	if st.Patients != 1 || st.Entries != total || len(st.Withheld) != 0 {
		t.Errorf("stats %+v, want %d entries", st, total)
	}

	var b struct {
		ResourceType, Type string
		Entry              []struct {
			FullURL  string         `json:"fullUrl"`
			Resource map[string]any `json:"resource"`
		}
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	if b.ResourceType != "Bundle" || b.Type != "collection" || len(b.Entry) != total {
		t.Fatalf("bundle %s %s with %d entries", b.ResourceType, b.Type, len(b.Entry))
	}
	urls := map[string]bool{}
	for _, en := range b.Entry {
		if en.FullURL != "urn:uuid:"+en.Resource["id"].(string) {
			t.Errorf("fullUrl %s for id %v", en.FullURL, en.Resource["id"])
		}
		urls[en.FullURL] = true
	}
	refs := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["reference"].(string); ok {
				refs++
				if !urls[r] {
					t.Errorf("reference %s resolves to no entry", r)
				}
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
	for _, en := range b.Entry {
		walk(en.Resource)
	}
	if refs < total {
		t.Errorf("only %d references in %d entries", refs, total)
	}
}

// The validator is not vacuous on Bundles either.
func TestSchemaRefusesBrokenBundle(t *testing.T) {
	e := newEnv(t)
	importBytes(t, e, bundle(t, "collection", "urn:uuid:p", testPatient("Tembo")))
	raw, _ := export(t, e, nil)
	for _, broken := range []string{
		strings.Replace(string(raw), `"type":"collection"`, `"type":5`, 1),
		strings.Replace(string(raw), `"fullUrl":`, `"fullURL":`, 1),
	} {
		if broken == string(raw) {
			t.Fatal("nothing replaced")
		}
		if checkFHIR(t, []byte(broken)) == nil {
			t.Errorf("the schema accepts %s", broken)
		}
	}
}

// Export then import into a fresh vault gives the same charts: the same
// number of records of each kind, the same statuses and clinical times,
// the same vital signs and the same patients (but new clinic numbers).
func TestExportImportRoundTrip(t *testing.T) {
	a := newEnv(t)
	importSamples(t, a)
	addNativeRecords(t, a)
	raw, st := export(t, a, nil)
	if st.Patients != 5 {
		t.Fatalf("exported %d patients", st.Patients)
	}

	b := newEnv(t)
	rep := importBytes(t, b, raw)
	if got := rep.Total(); got.Skipped != 0 || got.Present != 0 || got.Imported != st.Entries {
		t.Errorf("import of the export: %+v, want %d imported (%v)", got, st.Entries, rep.Skipped)
	}
	for typ, n := range st.Resources {
		if rep.Types[typ].Imported != n {
			t.Errorf("%s: exported %d, imported %d", typ, n, rep.Types[typ].Imported)
		}
	}
	for _, q := range []string{
		"SELECT count(*) FROM chart WHERE kind = 'encounter'",
		"SELECT count(*) FROM chart WHERE kind = 'observation'",
		"SELECT count(*) FROM chart WHERE kind = 'condition'",
		"SELECT count(*) FROM chart WHERE kind = 'medication'",
		"SELECT count(*) FROM chart WHERE kind = 'allergy'",
		"SELECT count(*) FROM chart WHERE kind = 'immunization'",
		"SELECT count(*) FROM chart WHERE encounter_id != ''",
		"SELECT count(*) FROM patients",
		"SELECT count(*) FROM vitals",
	} {
		if na, nb := a.count(t, q), b.count(t, q); na != nb || na == 0 {
			t.Errorf("%s: %d before, %d after the round trip", q, na, nb)
		}
	}
	for _, q := range []string{
		"SELECT kind || ' ' || status || ' ' || at FROM chart",
		"SELECT vital || ' ' || at || ' ' || value || ' ' || unit FROM vitals",
		"SELECT family || ' ' || given || ' ' || sex || ' ' || birth_date || ' ' || village FROM patients",
	} {
		if ra, rb := rows(t, a, q), rows(t, b, q); !slices.Equal(ra, rb) {
			t.Errorf("%s differs:\n%v\n%v", q, ra, rb)
		}
	}
	// Every clinical record arrives exactly: its body in the copy is its
	// body here with the ids derived from the export's fullUrls.
	uuid := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	before, after := bodies(t, a), bodies(t, b)
	if len(before) != len(after) || len(before) < 390 {
		t.Fatalf("%d records before, %d after", len(before), len(after))
	}
	for id, body := range before {
		want := uuid.ReplaceAllStringFunc(body, func(id string) string { return fhir.DeriveID("urn:uuid:" + id) })
		if got := after[fhir.DeriveID("urn:uuid:"+id)]; got != want {
			t.Errorf("record %s:\n got %s\nwant %s", id, got, want)
		}
	}

	// And once more: the export of the copy imports into it as present.
	raw2, st2 := export(t, b, nil)
	if st2.Entries != st.Entries {
		t.Errorf("second export: %d entries, want %d", st2.Entries, st.Entries)
	}
	if got := importBytes(t, b, raw).Total(); got.Imported != 0 || got.Present != st.Entries {
		t.Errorf("second import into the copy: %+v", got)
	}
	_ = raw2
}

// bodies returns the current body of every clinical record, by id.
func bodies(t testing.TB, e *env) map[string]string {
	t.Helper()
	rs, err := e.v.R.Query("SELECT v.record_id, v.body FROM chart c JOIN versions v ON v.version_id = c.version_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	out := map[string]string{}
	for rs.Next() {
		var id string
		var body []byte
		if err := rs.Scan(&id, &body); err != nil {
			t.Fatal(err)
		}
		out[id] = string(body)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// addNativeRecords registers a patient with records written in Outpost,
// using every field the kinds have.
func addNativeRecords(t testing.TB, e *env) {
	t.Helper()
	p, err := e.s.RegisterPatient(ctx, e.actor, ehr.Patient{Family: "Banda", Given: "Chisomo Grace", Other: "Chichi", Sex: "female",
		BirthDate: "1990", BirthEstimated: true, NationalID: "MW-1234/56", Phone: "+265 99 123 4567", Village: "Lowland",
		Address: "Plot 4\nNear the market", KinName: "Ama Banda", KinRelation: "sister", KinPhone: "+265 99 000 0001"})
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	signed, err := records.Save(ctx, e.s, e.actor, records.Encounters, "", "", ehr.Encounter{PatientID: p.ID, Status: "signed",
		Start: "2026-02-27T08:30:00+02:00", End: "2026-02-27T09:00:00+02:00", Complaint: "Fever and cough for 3 days",
		Findings: "T 38.9, chest crackles right base", Assessment: "Community-acquired pneumonia", Plan: "Amoxicillin; review in 3 days",
		SignedBy: "dr.amina", SignedAt: "2026-02-27T09:05:00+02:00"}, "")
	must(signed, err)
	must(records.Save(ctx, e.s, e.actor, records.Encounters, "", "", ehr.Encounter{PatientID: p.ID, Status: "open",
		Start: "2026-03-01T08:00:00+02:00", Complaint: "Review"}, ""))
	must(records.Save(ctx, e.s, e.actor, records.Observations, "", "", ehr.Observation{PatientID: p.ID, EncounterID: signed.ID,
		Vital: "temperature", Value: 38.9, Unit: "Cel", Effective: "2026-02-27T08:40:00+02:00"}, ""))
	must(records.Save(ctx, e.s, e.actor, records.Observations, "", "", ehr.Observation{PatientID: p.ID, EncounterID: signed.ID,
		Vital: "muac", Value: 23.5, Effective: "2026-02-27T08:41:00+02:00"}, ""))
	must(records.Save(ctx, e.s, e.actor, records.Conditions, "", "", ehr.Condition{PatientID: p.ID,
		Code:   ehr.Concept{Coding: []ehr.Coding{{System: ehr.SystemICD10, Code: "J18.9", Display: "Pneumonia, unspecified"}}},
		Status: "active", Onset: "2026-02-24", Note: "Second episode this year"}, ""))
	must(records.Save(ctx, e.s, e.actor, records.Medications, "", "", ehr.Medication{PatientID: p.ID, EncounterID: signed.ID,
		Kind: "prescribed", Drug: ehr.Concept{Coding: []ehr.Coding{{System: ehr.SystemRxNorm, Code: "308182", Display: "Amoxicillin 250 MG Oral Capsule"}}},
		Dose: "500 mg", Route: "oral", Frequency: "three times a day", Duration: "5 days", Status: "active", Start: "2026-02-27", Note: "With food"}, ""))
	must(records.Save(ctx, e.s, e.actor, records.Medications, "", "", ehr.Medication{PatientID: p.ID, Kind: "reported",
		Drug: ehr.Concept{Text: "Herbal tea"}, Frequency: "daily", Status: "stopped"}, ""))
	must(records.Save(ctx, e.s, e.actor, records.Allergies, "", "", ehr.Allergy{PatientID: p.ID,
		Substance: ehr.Concept{Coding: []ehr.Coding{{System: ehr.SystemRxNorm, Code: "7980", Display: "Penicillin G"}}},
		Reaction:  "hives", Severity: "moderate", Status: "active"}, ""))
	must(records.Save(ctx, e.s, e.actor, records.Immunizations, "", "", ehr.Immunization{PatientID: p.ID,
		Vaccine: ehr.Concept{Coding: []ehr.Coding{{System: ehr.SystemCVX, Code: "08", Display: "Hep B"}}},
		Date:    "2025-06-01", DoseNumber: 2, Lot: "AB123", Site: "left deltoid", Status: "completed"}, ""))
	must(records.Save(ctx, e.s, e.actor, records.Notes, "", "", ehr.Note{PatientID: p.ID, EncounterID: signed.ID,
		Title: "Referral letter", Text: "Dear colleague,\nplease see Ms Banda.\n\n— Dr Amina"}, ""))
}

// rows returns the single text column of a constant query, sorted.
func rows(t testing.TB, e *env, query string) []string {
	t.Helper()
	rs, err := e.v.R.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var s string
		if err := rs.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestExportEdges(t *testing.T) {
	e := newEnv(t)
	raw, st := export(t, e, nil)
	if st.Patients != 0 || st.Entries != 0 || checkFHIR(t, raw) != nil {
		t.Errorf("empty export: %+v %s", st, raw)
	}
	if _, err := fhir.Export(ctx, e.s, e.actor, []string{"not-an-id"}, &bytes.Buffer{}, nil); ehr.ErrorCode(err) != ehr.ENotFound {
		t.Errorf("unknown patient: %v", err)
	}
	importBytes(t, e, bundle(t, "collection", "urn:uuid:a", testPatient("Tembo"), "urn:uuid:b", testPatient("Moyo")))
	var calls [][2]int
	var buf bytes.Buffer
	if _, err := fhir.Export(ctx, e.s, e.actor, nil, &buf, func(done, total int) { calls = append(calls, [2]int{done, total}) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, [][2]int{{1, 2}, {2, 2}}) {
		t.Errorf("progress %v", calls)
	}
}
