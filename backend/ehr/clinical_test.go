package ehr

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// chartCase is one row of a kind's validation table: an edit of the valid
// fixture, and the field that must then have a message ("" when the edit
// keeps the value valid). want, when set, must be in that message.
type chartCase[T any] struct {
	name  string
	edit  func(*T)
	field string
	want  string
}

// runChartCases validates each edited fixture. A refused value keeps its
// fields as they were, so a form can show them again.
func runChartCases[T any](t *testing.T, fixture func() T, validate func(*T, time.Time) error, cases []chartCase[T]) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			x := fixture()
			tt.edit(&x)
			before := fmt.Sprintf("%#v", x) // a snapshot, slices included
			err := validate(&x, chartNow)
			fields := ErrorFields(err)
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.field == "":
				return
			case fields[tt.field] == "":
				t.Fatalf("got %v, want a message for %s", err, tt.field)
			case ErrorCode(err) != EInvalid:
				t.Fatalf("code %s, want %s", ErrorCode(err), EInvalid)
			case !strings.Contains(fields[tt.field], tt.want):
				t.Errorf("message %q, want it to say %q", fields[tt.field], tt.want)
			}
			if after := fmt.Sprintf("%#v", x); after != before {
				t.Errorf("a refused value was changed:\n got %s\nwant %s", after, before)
			}
		})
	}
}

var (
	ctrl     = "a\x07b"
	bidi     = "abc\u202edef"
	badUTF8  = "a\xffb"
	tomorrow = "2026-06-16"
)

func TestEncounterValidation(t *testing.T) {
	runChartCases(t, encounterFixture, (*Encounter).Validate, []chartCase[Encounter]{
		{"valid", func(e *Encounter) {}, "", ""},
		{"open, no end, no signature", func(e *Encounter) { e.Status, e.End, e.SignedBy, e.SignedAt = EncounterOpen, "", "", "" }, "", ""},
		{"empty notes", func(e *Encounter) { e.Complaint, e.Findings, e.Assessment, e.Plan = "", "", "", "" }, "", ""},
		{"amended", func(e *Encounter) { e.AmendReason = "Wrong dose in the plan" }, "", ""},
		{"markup is text", func(e *Encounter) { e.Plan = `<img src=x onerror="alert(1)">` }, "", ""},
		{"fractional seconds", func(e *Encounter) { e.Start = "2026-06-15T08:30:00.123+02:00" }, "", ""},
		{"a few seconds ahead", func(e *Encounter) {
			e.Status, e.SignedBy, e.SignedAt = EncounterOpen, "", ""
			e.End = chartNow.Add(30 * time.Second).Format(time.RFC3339)
		}, "", ""},
		{"no patient", func(e *Encounter) { e.PatientID = "" }, "patientId", "Choose the patient"},
		{"bad patient id", func(e *Encounter) { e.PatientID = "patient-1" }, "patientId", "not a valid"},
		{"no status", func(e *Encounter) { e.Status = "" }, "status", "open or signed"},
		{"FHIR status", func(e *Encounter) { e.Status = "finished" }, "status", "open or signed"},
		{"no start", func(e *Encounter) { e.Start = "" }, "start", ""},
		{"date only start", func(e *Encounter) { e.Start = "2026-06-15" }, "start", ""},
		{"no zone", func(e *Encounter) { e.Start = "2026-06-15T08:30:00" }, "start", ""},
		{"impossible time", func(e *Encounter) { e.Start = "2026-06-15T25:30:00Z" }, "start", ""},
		{"impossible date", func(e *Encounter) { e.Start = "2026-02-30T08:30:00Z" }, "start", ""},
		{"offset beyond 14h", func(e *Encounter) { e.Start = "2026-06-15T08:30:00+15:00" }, "start", "between -14:00 and +14:00"},
		{"future start", func(e *Encounter) { e.Start = "2026-06-15T10:02:00Z" }, "start", "future"},
		{"before 1890", func(e *Encounter) { e.Start = "1889-12-31T23:00:00Z" }, "start", "1890"},
		{"end before start", func(e *Encounter) { e.End = "2026-06-15T08:00:00+02:00" }, "end", "before the start"},
		{"future end", func(e *Encounter) { e.End = "2026-06-16T08:00:00+02:00" }, "end", "future"},
		{"signed without end", func(e *Encounter) { e.End = "" }, "end", ""},
		{"signed without signer", func(e *Encounter) { e.SignedBy = "" }, "signedBy", ""},
		{"signer not a username", func(e *Encounter) { e.SignedBy = "Dr Banda" }, "signedBy", ""},
		{"signed without time", func(e *Encounter) { e.SignedAt = "" }, "signedAt", ""},
		{"signed before start", func(e *Encounter) { e.SignedAt = "2026-06-15T08:00:00+02:00" }, "signedAt", ""},
		{"signed in the future", func(e *Encounter) { e.SignedAt = "2026-06-15T11:00:00Z" }, "signedAt", "future"},
		{"open with a signer", func(e *Encounter) { e.Status, e.SignedAt = EncounterOpen, "" }, "signedBy", ""},
		{"open with a signing time", func(e *Encounter) { e.Status, e.SignedBy = EncounterOpen, "" }, "signedAt", ""},
		{"complaint too long", func(e *Encounter) { e.Complaint = strings.Repeat("x", 4001) }, "complaint", "4000"},
		{"findings control character", func(e *Encounter) { e.Findings = ctrl }, "findings", "control"},
		{"assessment bidi override", func(e *Encounter) { e.Assessment = bidi }, "assessment", ""},
		{"plan invalid utf-8", func(e *Encounter) { e.Plan = badUTF8 }, "plan", ""},
		{"plan carriage return", func(e *Encounter) { e.Plan = "a\r\nb" }, "plan", ""},
		{"amend reason too long", func(e *Encounter) { e.AmendReason = strings.Repeat("x", 301) }, "amendReason", "300"},
		{"amend reason newline", func(e *Encounter) { e.AmendReason = "a\nb" }, "amendReason", ""},
	})
}

func TestObservationValidation(t *testing.T) {
	cases := []chartCase[Observation]{
		{"valid", func(o *Observation) {}, "", ""},
		{"no encounter", func(o *Observation) { o.EncounterID = "" }, "", ""},
		{"unit left to the table", func(o *Observation) { o.Unit = "" }, "", ""},
		{"unit as its symbol", func(o *Observation) { o.Unit = "°C" }, "", ""},
		{"no patient", func(o *Observation) { o.PatientID = "" }, "patientId", ""},
		{"bad encounter id", func(o *Observation) { o.EncounterID = "0190A0B0" }, "encounterId", ""},
		{"unknown vital", func(o *Observation) { o.Vital = "glucose" }, "vital", ""},
		{"LOINC code for a vital", func(o *Observation) { o.Vital = "8310-5" }, "vital", ""},
		{"wrong unit", func(o *Observation) { o.Unit = "[degF]" }, "unit", "°C"},
		{"no time", func(o *Observation) { o.Effective = "" }, "effective", ""},
		{"future time", func(o *Observation) { o.Effective = "2026-06-15T12:00:00Z" }, "effective", "future"},
		{"not a number", func(o *Observation) { o.Value = nan() }, "value", ""},
	}
	// Each vital's bounds are accepted and a step beyond is refused, with a
	// message that names the range and the unit.
	for _, vt := range Vitals {
		vt := vt
		step := (vt.Max - vt.Min) / 100
		set := func(value float64) func(*Observation) {
			return func(o *Observation) { o.Vital, o.Value, o.Unit = vt.Key, value, vt.Unit }
		}
		rng := formatNumber(vt.Min) + " to " + formatNumber(vt.Max) + " " + vt.Symbol
		cases = append(cases,
			chartCase[Observation]{vt.Key + " minimum", set(vt.Min), "", ""},
			chartCase[Observation]{vt.Key + " maximum", set(vt.Max), "", ""},
			chartCase[Observation]{vt.Key + " too low", set(vt.Min - step), "value", rng},
			chartCase[Observation]{vt.Key + " too high", set(vt.Max + step), "value", rng},
		)
	}
	runChartCases(t, observationFixture, (*Observation).Validate, cases)
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestVitalsTable(t *testing.T) {
	keys := map[string]bool{}
	for _, vt := range Vitals {
		if !validLOINC(vt.LOINC) {
			t.Errorf("%s: %s is not a valid LOINC code", vt.Key, vt.LOINC)
		}
		if keys[vt.Key] || vt.Min >= vt.Max || vt.Name == "" || vt.Unit == "" || vt.Symbol == "" {
			t.Errorf("bad row %+v", vt)
		}
		keys[vt.Key] = true
		if got, ok := VitalByKey(vt.Key); !ok || got != vt {
			t.Errorf("VitalByKey(%s) = %+v, %v", vt.Key, got, ok)
		}
	}
	if got, want := len(Vitals), 10; got != want {
		t.Errorf("%d vitals, want %d", got, want)
	}
}

func TestBMI(t *testing.T) {
	tests := []struct{ kg, cm, want float64 }{
		{70, 175, 22.9},
		{3.4, 50, 13.6},
		{120, 160, 46.9},
		{70, 0, 0},
		{0, 175, 0},
		{-70, 175, 0},
		{nan(), 175, 0},
	}
	for _, tt := range tests {
		if got := BMI(tt.kg, tt.cm); got != tt.want {
			t.Errorf("BMI(%v, %v) = %v, want %v", tt.kg, tt.cm, got, tt.want)
		}
	}
}

func TestConditionValidation(t *testing.T) {
	runChartCases(t, conditionFixture, (*Condition).Validate, []chartCase[Condition]{
		{"valid", func(c *Condition) {}, "", ""},
		{"free text only", func(c *Condition) { c.Code = Concept{Text: "Chest pain, cause unknown"} }, "", ""},
		{"code only", func(c *Condition) { c.Code = Concept{Coding: []Coding{{System: SystemICD10, Code: "A09"}}} }, "", ""},
		{"no onset, no note", func(c *Condition) { c.Onset, c.Note = "", "" }, "", ""},
		{"onset today", func(c *Condition) { c.Onset = "2026-06-15" }, "", ""},
		{"no patient", func(c *Condition) { c.PatientID = "" }, "patientId", ""},
		{"no code", func(c *Condition) { c.Code = Concept{} }, "code", "Enter a name"},
		{"blank text", func(c *Condition) { c.Code = Concept{Text: "   "} }, "code", ""},
		{"bad ICD-10 code", func(c *Condition) { c.Code.Coding[0].Code = "J18-9" }, "code", "not a valid ICD-10 code"},
		{"lower-case ICD-10 code", func(c *Condition) { c.Code.Coding[0].Code = "j18.9" }, "code", "ICD-10"},
		{"SNOMED typo", func(c *Condition) { c.Code.Coding[1].Code = "233604008" }, "code", "not a valid SNOMED CT code"},
		{"SNOMED too short", func(c *Condition) { c.Code.Coding[1].Code = "12345" }, "code", "SNOMED CT"},
		{"no code system", func(c *Condition) { c.Code.Coding[0].System = "" }, "code", "code system"},
		{"no code in a coding", func(c *Condition) { c.Code.Coding[0].Code = "" }, "code", "Enter the ICD-10 code"},
		{"unknown code system", func(c *Condition) { c.Code.Coding[0].System = "http://example.org/codes" }, "code",
			`"http://example.org/codes" is not known here; use ICD-10, SNOMED CT or free text`},
		{"ICD-10-CM system", func(c *Condition) { c.Code.Coding[0].System = "http://hl7.org/fhir/sid/icd-10-cm" }, "code", "not known"},
		{"code system of another kind", func(c *Condition) {
			c.Code.Coding[0] = Coding{System: SystemLOINC, Code: "8480-6"}
		}, "code", "LOINC codes do not fit here"},
		{"same code twice", func(c *Condition) { c.Code.Coding[1] = c.Code.Coding[0] }, "code", "twice"},
		{"too many codings", func(c *Condition) {
			for _, code := range []string{"A09", "B50.9", "I10", "E11.9"} {
				c.Code.Coding = append(c.Code.Coding, Coding{System: SystemICD10, Code: code})
			}
		}, "code", "at most 5"},
		{"display too long", func(c *Condition) { c.Code.Coding[0].Display = strings.Repeat("x", 201) }, "code", "200"},
		{"display control character", func(c *Condition) { c.Code.Coding[0].Display = ctrl }, "code", "control"},
		{"text too long", func(c *Condition) { c.Code.Text = strings.Repeat("x", 201) }, "code", "200"},
		{"text newline", func(c *Condition) { c.Code.Text = "a\nb" }, "code", ""},
		{"no status", func(c *Condition) { c.Status = "" }, "status", "active, resolved or inactive"},
		{"wrong status", func(c *Condition) { c.Status = "remission" }, "status", ""},
		{"status case", func(c *Condition) { c.Status = "Active" }, "status", ""},
		{"onset future", func(c *Condition) { c.Onset = tomorrow }, "onset", "future"},
		{"onset with a time", func(c *Condition) { c.Onset = "2026-06-12T10:00:00Z" }, "onset", "YYYY-MM-DD"},
		{"onset impossible", func(c *Condition) { c.Onset = "2026-02-29" }, "onset", ""},
		{"onset before 1890", func(c *Condition) { c.Onset = "1889-12-31" }, "onset", "1890"},
		{"note too long", func(c *Condition) { c.Note = strings.Repeat("x", 1001) }, "note", "1000"},
		{"note control character", func(c *Condition) { c.Note = ctrl }, "note", ""},
	})
}

func TestMedicationValidation(t *testing.T) {
	runChartCases(t, prescriptionFixture, (*Medication).Validate, []chartCase[Medication]{
		{"valid", func(m *Medication) {}, "", ""},
		{"reported", func(m *Medication) { m.Kind = MedicationReported }, "", ""},
		{"reported without dose", func(m *Medication) { m.Kind, m.Dose = MedicationReported, "" }, "", ""},
		{"free-text drug", func(m *Medication) { m.Drug = Concept{Text: "Coartem"} }, "", ""},
		{"only the dose", func(m *Medication) { m.Route, m.Frequency, m.Duration, m.Start, m.EncounterID = "", "", "", "", "" }, "", ""},
		{"no patient", func(m *Medication) { m.PatientID = "x" }, "patientId", ""},
		{"bad encounter", func(m *Medication) { m.EncounterID = "x" }, "encounterId", ""},
		{"no kind", func(m *Medication) { m.Kind = "" }, "kind", "prescribed or reported"},
		{"FHIR kind", func(m *Medication) { m.Kind = "MedicationRequest" }, "kind", ""},
		{"no drug", func(m *Medication) { m.Drug = Concept{} }, "drug", ""},
		{"SNOMED drug", func(m *Medication) { m.Drug.Coding[0] = Coding{System: SystemSNOMED, Code: "27658006"} }, "drug", "use RxNorm or free text"},
		{"bad RxNorm code", func(m *Medication) { m.Drug.Coding[0].Code = "RX723" }, "drug", "RxNorm"},
		{"prescription without dose", func(m *Medication) { m.Dose = "  " }, "dose", ""},
		{"dose too long", func(m *Medication) { m.Dose = strings.Repeat("x", 101) }, "dose", "100"},
		{"route newline", func(m *Medication) { m.Route = "by\nmouth" }, "route", ""},
		{"frequency too long", func(m *Medication) { m.Frequency = strings.Repeat("x", 101) }, "frequency", ""},
		{"duration control", func(m *Medication) { m.Duration = ctrl }, "duration", ""},
		{"no status", func(m *Medication) { m.Status = "" }, "status", "active, stopped or completed"},
		{"wrong status", func(m *Medication) { m.Status = "on-hold" }, "status", ""},
		{"future start", func(m *Medication) { m.Start = tomorrow }, "start", "future"},
		{"bad start", func(m *Medication) { m.Start = "15/06/2026" }, "start", ""},
		{"note too long", func(m *Medication) { m.Note = strings.Repeat("x", 1001) }, "note", ""},
	})
}

func TestAllergyValidation(t *testing.T) {
	runChartCases(t, allergyFixture, (*Allergy).Validate, []chartCase[Allergy]{
		{"valid", func(a *Allergy) {}, "", ""},
		{"inactive", func(a *Allergy) { a.Status = "inactive" }, "", ""},
		{"no reaction or severity", func(a *Allergy) { a.Reaction, a.Severity = "", "" }, "", ""},
		{"reaction without severity", func(a *Allergy) { a.Severity = "" }, "", ""},
		{"RxNorm substance", func(a *Allergy) { a.Substance = Concept{Coding: []Coding{{System: SystemRxNorm, Code: "7980"}}} }, "", ""},
		{"free-text substance", func(a *Allergy) { a.Substance = Concept{Text: "Groundnuts"} }, "", ""},
		{"no patient", func(a *Allergy) { a.PatientID = "" }, "patientId", ""},
		{"no substance", func(a *Allergy) { a.Substance = Concept{} }, "substance", ""},
		{"ICD-10 substance", func(a *Allergy) { a.Substance.Coding[0] = Coding{System: SystemICD10, Code: "Z88.0"} }, "substance", "SNOMED CT, RxNorm or free text"},
		{"unknown system", func(a *Allergy) { a.Substance.Coding[0].System = "urn:oid:1.2.3" }, "substance", "not known"},
		{"reaction too long", func(a *Allergy) { a.Reaction = strings.Repeat("x", 201) }, "reaction", "200"},
		{"reaction control", func(a *Allergy) { a.Reaction = ctrl }, "reaction", ""},
		{"severity without reaction", func(a *Allergy) { a.Reaction = "" }, "reaction", "severity"},
		{"wrong severity", func(a *Allergy) { a.Severity = "fatal" }, "severity", "mild, moderate or severe"},
		{"blank severity", func(a *Allergy) { a.Severity = " " }, "", ""},
		{"no status", func(a *Allergy) { a.Status = "" }, "status", "active or inactive"},
		{"resolved", func(a *Allergy) { a.Status = "resolved" }, "status", ""},
	})
}

func TestImmunizationValidation(t *testing.T) {
	runChartCases(t, immunizationFixture, (*Immunization).Validate, []chartCase[Immunization]{
		{"valid", func(im *Immunization) {}, "", ""},
		{"not done", func(im *Immunization) { im.Status = "not-done" }, "", ""},
		{"no dose number, lot or site", func(im *Immunization) { im.DoseNumber, im.Lot, im.Site = 0, "", "" }, "", ""},
		{"dose 20", func(im *Immunization) { im.DoseNumber = 20 }, "", ""},
		{"free-text vaccine", func(im *Immunization) { im.Vaccine = Concept{Text: "BCG"} }, "", ""},
		{"no patient", func(im *Immunization) { im.PatientID = "" }, "patientId", ""},
		{"no vaccine", func(im *Immunization) { im.Vaccine = Concept{} }, "vaccine", ""},
		{"CVX too long", func(im *Immunization) { im.Vaccine.Coding[0].Code = "1234" }, "vaccine", "not a valid CVX code"},
		{"SNOMED vaccine", func(im *Immunization) { im.Vaccine.Coding[0] = Coding{System: SystemSNOMED, Code: "38341003"} }, "vaccine", "use CVX or free text"},
		{"no date", func(im *Immunization) { im.Date = "" }, "date", "Enter the date"},
		{"future date", func(im *Immunization) { im.Date = tomorrow }, "date", "future"},
		{"bad date", func(im *Immunization) { im.Date = "2026-6-1" }, "date", ""},
		{"dose 0 is unknown, negative refused", func(im *Immunization) { im.DoseNumber = -1 }, "doseNumber", "1 to 20"},
		{"dose 21", func(im *Immunization) { im.DoseNumber = 21 }, "doseNumber", ""},
		{"lot too long", func(im *Immunization) { im.Lot = strings.Repeat("x", 41) }, "lot", "40"},
		{"site too long", func(im *Immunization) { im.Site = strings.Repeat("x", 61) }, "site", "60"},
		{"site control", func(im *Immunization) { im.Site = bidi }, "site", ""},
		{"wrong status", func(im *Immunization) { im.Status = "given" }, "status", "completed or not-done"},
	})
}

func TestNoteValidation(t *testing.T) {
	runChartCases(t, noteFixture, (*Note).Validate, []chartCase[Note]{
		{"valid", func(n *Note) {}, "", ""},
		{"no encounter", func(n *Note) { n.EncounterID = "" }, "", ""},
		{"longest text", func(n *Note) { n.Text = strings.Repeat("x", 20000) }, "", ""},
		{"no patient", func(n *Note) { n.PatientID = "" }, "patientId", ""},
		{"bad encounter", func(n *Note) { n.EncounterID = "Encounter/1" }, "encounterId", ""},
		{"no title", func(n *Note) { n.Title = " " }, "title", "title"},
		{"title too long", func(n *Note) { n.Title = strings.Repeat("x", 201) }, "title", "200"},
		{"title newline", func(n *Note) { n.Title = "a\nb" }, "title", ""},
		{"no text", func(n *Note) { n.Text = "\n\n" }, "text", "Write"},
		{"text too long", func(n *Note) { n.Text = strings.Repeat("x", 20001) }, "text", "20000"},
		{"text control", func(n *Note) { n.Text = "a\x00b" }, "text", ""},
		{"text invalid utf-8", func(n *Note) { n.Text = badUTF8 }, "text", ""},
	})
}

// Validate trims, folds white space and lower-cases ids and usernames.
func TestClinicalNormalises(t *testing.T) {
	e := encounterFixture()
	e.PatientID = " " + strings.ToUpper(chartPatientID) + " "
	e.Status = " signed "
	e.Start = " 2026-06-15T08:30:00.500+02:00 "
	e.Complaint = "  Cough   for\t3 days  \n   fever  "
	e.SignedBy = " Dr.Banda "
	if err := e.Validate(chartNow); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{e.PatientID, chartPatientID},
		{e.Status, EncounterSigned},
		{e.Start, "2026-06-15T08:30:00.5+02:00"},
		{e.Complaint, "Cough for 3 days\nfever"},
		{e.SignedBy, "dr.banda"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}

	o := observationFixture()
	o.Vital, o.Unit = " weight ", " kg "
	o.Value = 3.4
	if err := o.Validate(chartNow); err != nil {
		t.Fatal(err)
	}
	if o.Vital != "weight" || o.Unit != "kg" {
		t.Errorf("observation %+v", o)
	}

	c := conditionFixture()
	c.Code = Concept{Coding: []Coding{{System: " " + SystemICD10 + " ", Code: " A09 ", Display: "  Diarrhoea   and gastroenteritis "}}, Text: " "}
	if err := c.Validate(chartNow); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Code, (Concept{Coding: []Coding{{System: SystemICD10, Code: "A09", Display: "Diarrhoea and gastroenteritis"}}}); !reflect.DeepEqual(got, want) {
		t.Errorf("concept %+v, want %+v", got, want)
	}
	if got, want := c.Code.Label(), "Diarrhoea and gastroenteritis"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
}

// Dates are judged in the time zone of the moment of entry: just after
// midnight in Nairobi, today there is still yesterday in UTC.
func TestDatesUseTheLocalDay(t *testing.T) {
	nairobi := time.FixedZone("EAT", 3*3600)
	at := time.Date(2026, 6, 16, 0, 30, 0, 0, nairobi) // 2026-06-15 21:30 UTC
	c := conditionFixture()
	c.Onset = "2026-06-16"
	if err := c.Validate(at); err != nil {
		t.Errorf("today refused: %v", err)
	}
	c.Onset = "2026-06-17"
	if err := c.Validate(at); ErrorFields(err)["onset"] == "" {
		t.Errorf("tomorrow accepted: %v", err)
	}
}

func TestCodeSystems(t *testing.T) {
	tests := []struct {
		system, code string
		want         bool
	}{
		{SystemICD10, "A09", true},
		{SystemICD10, "J18.9", true},
		{SystemICD10, "U07.1", true},
		{SystemICD10, "S72.001A", true},
		{SystemICD10, "J18", true},
		{SystemICD10, "J18.", false},
		{SystemICD10, "j18.9", false},
		{SystemICD10, "J189", false},
		{SystemICD10, "18.9", false},
		{SystemICD10, "J18.9 ", false},
		{SystemSNOMED, "38341003", true},  // hypertensive disorder
		{SystemSNOMED, "91936005", true},  // allergy to penicillin
		{SystemSNOMED, "764146007", true}, // penicillin (substance)
		{SystemSNOMED, "38341004", false}, // a typo: the check digit is wrong
		{SystemSNOMED, "83341003", false}, // two digits swapped
		{SystemSNOMED, "038341003", false},
		{SystemSNOMED, "12345", false},
		{SystemSNOMED, "1234567890123456789", false},
		{SystemSNOMED, "3834100a", false},
		{SystemLOINC, "8480-6", true},
		{SystemLOINC, "59408-5", true},
		{SystemLOINC, "8480-5", false},
		{SystemLOINC, "8480", false},
		{SystemLOINC, "12345678-9", false},
		{SystemCVX, "03", true},
		{SystemCVX, "208", true},
		{SystemCVX, "1234", false},
		{SystemCVX, "", false},
		{SystemRxNorm, "723", true},
		{SystemRxNorm, "1049630", true},
		{SystemRxNorm, "0723", false},
		{SystemRxNorm, "723a", false},
	}
	for _, tt := range tests {
		cs, ok := CodeSystems[tt.system]
		if !ok {
			t.Fatalf("no code system %s", tt.system)
		}
		if got := cs.Valid(tt.code); got != tt.want {
			t.Errorf("%s %q valid = %v, want %v", cs.Name, tt.code, got, tt.want)
		}
	}
	for uri, cs := range CodeSystems {
		if cs.URI != uri || cs.Name == "" || cs.Valid == nil {
			t.Errorf("registry entry %s: %+v", uri, cs)
		}
	}
}
