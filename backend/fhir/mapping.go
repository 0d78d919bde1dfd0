package fhir

import (
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"outpost/backend/ehr"
)

// The elements of FHIR R4 resources that the import reads. Anything else
// in a resource is ignored; an element of the wrong JSON type makes the
// resource malformed (skipped with the decoder's message).

type reference struct {
	Reference string `json:"reference"`
}

type extension struct {
	URL           string `json:"url"`
	ValueString   string `json:"valueString"`
	ValueDateTime string `json:"valueDateTime"`
	ValueBoolean  *bool  `json:"valueBoolean"`
}

type period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type annotation struct {
	Text string `json:"text"`
}

type quantity struct {
	Value  *float64 `json:"value"`
	Unit   string   `json:"unit"`
	System string   `json:"system"`
	Code   string   `json:"code"`
}

func extValue(exts []extension, url string) string {
	for _, e := range exts {
		if e.URL == url {
			if e.ValueString != "" {
				return e.ValueString
			}
			return e.ValueDateTime
		}
	}
	return ""
}

func refString(r *reference) string {
	if r == nil {
		return ""
	}
	return strings.TrimSpace(r.Reference)
}

func firstNote(n []annotation) string {
	if len(n) == 0 {
		return ""
	}
	return n[0].Text
}

// label returns a concept's text, else its first coding's display.
func label(c *ehr.Concept) string {
	if c == nil {
		return ""
	}
	if strings.TrimSpace(c.Text) != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if strings.TrimSpace(cd.Display) != "" {
			return cd.Display
		}
	}
	return ""
}

// code returns the code of c's first coding from system, or of its first
// coding when system is "".
func code(c *ehr.Concept, system string) string {
	if c == nil {
		return ""
	}
	for _, cd := range c.Coding {
		if system == "" || cd.System == system {
			return strings.TrimSpace(cd.Code)
		}
	}
	return ""
}

// concept keeps the codings of c from the code systems Outpost accepts
// for the field (a coding from another system, such as ICD-10-CM or a
// local one, would make the whole record invalid) and keeps the meaning
// as text when codings are dropped.
func concept(c *ehr.Concept, systems ...string) ehr.Concept {
	if c == nil {
		return ehr.Concept{}
	}
	out := ehr.Concept{Text: c.Text}
	for _, cd := range c.Coding {
		if slices.Contains(systems, strings.TrimSpace(cd.System)) {
			out.Coding = append(out.Coding, cd)
		} else if strings.TrimSpace(out.Text) == "" {
			out.Text = cd.Display
		}
	}
	if strings.TrimSpace(out.Text) == "" && len(out.Coding) == 0 {
		out.Text = label(c)
	}
	return out
}

var (
	dateRE        = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}`)
	partialDateRE = regexp.MustCompile(`^[0-9]{4}(-[0-9]{2})?$`)
)

// datePart returns the calendar date of a FHIR date or dateTime as
// written (in its own time zone), or the value unchanged when it is only a
// year or a month (the kind's validation then names the field).
func datePart(s string) string {
	s = strings.TrimSpace(s)
	if m := dateRE.FindString(s); m != "" {
		return m
	}
	return s
}

// partialDate reports whether s is a FHIR date of year or month precision.
func partialDate(s string) bool {
	return partialDateRE.MatchString(strings.TrimSpace(s))
}

// Patient.

type fhirName struct {
	Use    string   `json:"use"`
	Text   string   `json:"text"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
}

type fhirTelecom struct {
	System string `json:"system"`
	Value  string `json:"value"`
	Use    string `json:"use"`
}

type fhirPatient struct {
	Meta *struct {
		Security []ehr.Coding `json:"security"`
	} `json:"meta"`
	Extension  []extension `json:"extension"`
	Identifier []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Name      []fhirName    `json:"name"`
	Telecom   []fhirTelecom `json:"telecom"`
	Gender    string        `json:"gender"`
	BirthDate string        `json:"birthDate"`
	// deceased[x]: a boolean or a dateTime.
	DeceasedBoolean  *bool  `json:"deceasedBoolean"`
	DeceasedDateTime string `json:"deceasedDateTime"`
	Address          []struct {
		Use        string   `json:"use"`
		Text       string   `json:"text"`
		Line       []string `json:"line"`
		City       string   `json:"city"`
		District   string   `json:"district"`
		State      string   `json:"state"`
		PostalCode string   `json:"postalCode"`
		Country    string   `json:"country"`
	} `json:"address"`
	Contact []struct {
		Relationship []ehr.Concept `json:"relationship"`
		Name         *fhirName     `json:"name"`
		Telecom      []fhirTelecom `json:"telecom"`
	} `json:"contact"`
}

func (n fhirName) given() string { return strings.Join(n.Given, " ") }

func (n fhirName) full() string {
	if t := strings.TrimSpace(n.Text); t != "" {
		return t
	}
	return strings.TrimSpace(n.given() + " " + n.Family)
}

func phoneOf(ts []fhirTelecom) string {
	best := ""
	for _, t := range ts {
		if t.System != "phone" || strings.TrimSpace(t.Value) == "" {
			continue
		}
		if t.Use == "mobile" {
			return t.Value
		}
		if best == "" {
			best = t.Value
		}
	}
	return best
}

// patientInput maps a Patient onto the registration form, so that it is
// validated like a typed one. Prefixes and suffixes (Mr., Dr.) have no
// place in Outpost and are dropped; of the identifiers only Outpost's
// national id is kept (a clinic number is given anew; social security,
// driver's licence, passport and record numbers of other systems are
// not kept). It reports whether the chart is restricted.
func patientInput(r fhirPatient, now time.Time) (ehr.PatientInput, bool) {
	in := ehr.PatientInput{Sex: r.Gender}
	if in.Sex == "" {
		in.Sex = "unknown" // FHIR's gender is optional; Outpost's "unknown" says so
	}
	var official *fhirName
	for _, pref := range []string{"official", "usual", ""} {
		for i := range r.Name {
			if r.Name[i].Use == pref && official == nil {
				official = &r.Name[i]
			}
		}
	}
	if official == nil {
		for i := range r.Name {
			if n := r.Name[i]; n.Use != "nickname" && n.Use != "old" && n.Use != "maiden" && n.Use != "anonymous" && official == nil {
				official = &r.Name[i]
			}
		}
	}
	if official != nil {
		in.Family, in.Given = official.Family, official.given()
		if strings.TrimSpace(in.Family+in.Given) == "" {
			in.Given = official.Text
		}
	}
	// Other names (nicknames, former and maiden names) are kept for search.
	var other []string
	for i, n := range r.Name {
		if official != nil && (&r.Name[i] == official || n.full() == official.full()) || n.Use == "anonymous" {
			continue
		}
		if s := n.full(); s != "" && !slices.Contains(other, s) {
			other = append(other, s)
		}
	}
	in.Other = strings.Join(other, " ")
	for _, id := range r.Identifier {
		if id.System == ehr.SystemNationalID {
			in.NationalID = id.Value
		}
	}
	in.Phone = phoneOf(r.Telecom)
	if len(r.Address) > 0 {
		a := r.Address[0]
		for _, x := range r.Address {
			if x.Use == "home" {
				a = x
				break
			}
		}
		in.Village = a.City
		if a.Text != "" {
			in.Address = a.Text
		} else {
			lines := slices.Clone(a.Line)
			var region []string
			for _, p := range []string{a.District, a.State, a.PostalCode, a.Country} {
				if strings.TrimSpace(p) != "" {
					region = append(region, p)
				}
			}
			if len(region) > 0 {
				lines = append(lines, strings.Join(region, " "))
			}
			in.Address = strings.Join(lines, "\n")
		}
	}
	if len(r.Contact) > 0 {
		c := r.Contact[0]
		if len(c.Relationship) > 0 {
			in.KinRelation = label(&c.Relationship[0])
		}
		if c.Name != nil {
			in.KinName = c.Name.full()
		}
		in.KinPhone = phoneOf(c.Telecom)
	}
	estimated := false
	for _, e := range r.Extension {
		if e.URL == ehr.ExtBirthEstimate && e.ValueBoolean != nil && *e.ValueBoolean {
			estimated = true
		}
	}
	birth := strings.TrimSpace(r.BirthDate)
	if estimated || partialDate(birth) {
		// A year (or month) of birth only: Outpost keeps it as an
		// estimated year, entered as the age it gives today.
		if y, err := strconv.Atoi(birth[:min(4, len(birth))]); err == nil && len(birth) >= 4 {
			in.AgeYears = strconv.Itoa(now.Year() - y)
		} else {
			in.BirthDate = birth
		}
	} else {
		in.BirthDate = birth
	}
	in.Deceased = r.DeceasedDateTime != "" || (r.DeceasedBoolean != nil && *r.DeceasedBoolean)
	if d := strings.TrimSpace(r.DeceasedDateTime); len(d) >= 10 {
		if _, err := time.Parse("2006-01-02", d[:10]); err == nil {
			in.DeceasedDate = d[:10] // the day is what Outpost keeps; a partial date keeps only "deceased"
		}
	}
	restricted := false
	if r.Meta != nil {
		for _, c := range r.Meta.Security {
			if c.System == ehr.SystemConfidentiality && c.Code == "R" {
				restricted = true
			}
		}
	}
	return in, restricted
}

// Encounter.

type fhirEncounter struct {
	Extension  []extension   `json:"extension"`
	Status     string        `json:"status"`
	Subject    *reference    `json:"subject"`
	Period     *period       `json:"period"`
	ReasonCode []ehr.Concept `json:"reasonCode"`
	Type       []ehr.Concept `json:"type"`
}

// importSigner signs the finished encounters of a source that does not
// say who signed them.
const importSigner = "import"

var usernameRE = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,63}$`)

// encounter maps an Encounter. A visit still going on (in-progress,
// arrived, triaged, onleave) is open; any other with an end is signed,
// by the signer it names (Outpost's extension) or else by "import", at
// the signing time it names or else at its end; one without an end is
// open. Planned, cancelled and erroneous encounters did not take place
// and are skipped. The complaint is the reason for the visit, or else
// its type ("Prenatal visit").
func encounter(r fhirEncounter) (ehr.Encounter, string) {
	switch r.Status {
	case "planned", "cancelled", "entered-in-error":
		return ehr.Encounter{}, fmt.Sprintf("status %s: not a visit that took place", r.Status)
	}
	e := ehr.Encounter{
		Findings:    extValue(r.Extension, ehr.ExtEncounterFindings),
		Assessment:  extValue(r.Extension, ehr.ExtEncounterAssessment),
		Plan:        extValue(r.Extension, ehr.ExtEncounterPlan),
		AmendReason: extValue(r.Extension, ehr.ExtAmendReason),
	}
	if r.Period != nil {
		e.Start, e.End = r.Period.Start, r.Period.End
	}
	for i := range r.ReasonCode {
		if e.Complaint = label(&r.ReasonCode[i]); e.Complaint != "" {
			break
		}
	}
	if e.Complaint == "" && len(r.Type) > 0 {
		e.Complaint = label(&r.Type[0])
	}
	switch {
	case slices.Contains([]string{"in-progress", "arrived", "triaged", "onleave"}, r.Status) || strings.TrimSpace(e.End) == "":
		e.Status = ehr.EncounterOpen
	default:
		e.Status = ehr.EncounterSigned
		e.SignedBy = strings.ToLower(strings.TrimSpace(extValue(r.Extension, ehr.ExtSignedBy)))
		if !usernameRE.MatchString(e.SignedBy) {
			e.SignedBy = importSigner
		}
		if e.SignedAt = extValue(r.Extension, ehr.ExtSignedAt); e.SignedAt == "" {
			e.SignedAt = e.End
		}
	}
	return e, ""
}

// Observation.

type fhirObservation struct {
	Status            string        `json:"status"`
	Code              ehr.Concept   `json:"code"`
	Subject           *reference    `json:"subject"`
	Encounter         *reference    `json:"encounter"`
	EffectiveDateTime string        `json:"effectiveDateTime"`
	EffectiveInstant  string        `json:"effectiveInstant"`
	EffectivePeriod   *period       `json:"effectivePeriod"`
	ValueQuantity     *quantity     `json:"valueQuantity"`
	Component         []fhirObsPart `json:"component"`
}

type fhirObsPart struct {
	Code          ehr.Concept `json:"code"`
	ValueQuantity *quantity   `json:"valueQuantity"`
}

// Blood pressure panels: their components are the systolic and diastolic
// pressures, stored as two observations.
var bpPanels = map[string]bool{"85354-9": true, "55284-4": true}

// vitalAliases maps LOINC codes of more specific measurements onto the
// vital sign Outpost records (Synthea writes oral temperature).
var vitalAliases = map[string]string{"8331-1": "temperature"}

// vitalOf returns the vital sign a LOINC-coded concept names.
func vitalOf(c ehr.Concept) (ehr.Vital, bool) {
	for _, cd := range c.Coding {
		if cd.System != ehr.SystemLOINC {
			continue
		}
		code := strings.TrimSpace(cd.Code)
		for _, vt := range ehr.Vitals {
			if vt.LOINC == code {
				return vt, true
			}
		}
		if key, ok := vitalAliases[code]; ok {
			return ehr.VitalByKey(key)
		}
	}
	return ehr.Vital{}, false
}

func isBPPanel(c ehr.Concept) bool {
	for _, cd := range c.Coding {
		if cd.System == ehr.SystemLOINC && bpPanels[strings.TrimSpace(cd.Code)] {
			return true
		}
	}
	return false
}

// unitConversions turn common non-metric units into the vital's UCUM
// unit.
var unitConversions = map[[2]string]func(float64) float64{
	{"[degF]", "Cel"}:         func(v float64) float64 { return (v - 32) * 5 / 9 },
	{"[lb_av]", "kg"}:         func(v float64) float64 { return v * 0.45359237 },
	{"g", "kg"}:               func(v float64) float64 { return v / 1000 },
	{"[in_i]", "cm"}:          func(v float64) float64 { return v * 2.54 },
	{"m", "cm"}:               func(v float64) float64 { return v * 100 },
	{"mm", "cm"}:              func(v float64) float64 { return v / 10 },
	{"{beats}/min", "/min"}:   func(v float64) float64 { return v },
	{"{breaths}/min", "/min"}: func(v float64) float64 { return v },
}

// vitalValue returns the value and unit of a quantity for vt: the UCUM
// code (else the unit as written), converted when it is a common other
// unit of the same dimension. The unit check itself is the kind's.
func vitalValue(vt ehr.Vital, q *quantity) (float64, string, bool) {
	if q == nil || q.Value == nil {
		return 0, "", false
	}
	unit := strings.TrimSpace(q.Code)
	if unit == "" || (q.System != "" && q.System != ehr.SystemUCUM) {
		unit = strings.TrimSpace(q.Unit)
	}
	v := *q.Value
	if conv, ok := unitConversions[[2]string{unit, vt.Unit}]; ok {
		v, unit = math.Round(conv(v)*100)/100, vt.Unit
	}
	return v, unit, true
}

// vitalPart is one observation an Observation resource gives: the whole
// resource, or one component of a blood pressure panel.
type vitalPart struct {
	suffix string // "" or "#systolic" / "#diastolic"
	obs    ehr.Observation
	skip   string
}

// observationParts maps an Observation onto Outpost's vital signs.
// Observations of anything else (laboratory results, scores, smoking
// status) are skipped, naming the code.
func observationParts(r fhirObservation) ([]vitalPart, string) {
	switch r.Status {
	case "", "final", "amended", "corrected":
	default:
		return nil, fmt.Sprintf("status %s: not a final result", quote(r.Status))
	}
	effective := r.EffectiveDateTime
	if effective == "" {
		effective = r.EffectiveInstant
	}
	if effective == "" && r.EffectivePeriod != nil {
		effective = r.EffectivePeriod.Start
	}
	if isBPPanel(r.Code) {
		var parts []vitalPart
		for _, c := range r.Component {
			vt, ok := vitalOf(c.Code)
			if !ok || (vt.Key != "systolic" && vt.Key != "diastolic") {
				continue
			}
			p := vitalPart{suffix: "#" + vt.Key}
			v, unit, ok := vitalValue(vt, c.ValueQuantity)
			if !ok {
				p.skip = "no value for " + strings.ToLower(vt.Name)
			}
			p.obs = ehr.Observation{Vital: vt.Key, Value: v, Unit: unit, Effective: effective}
			parts = append(parts, p)
		}
		if len(parts) == 0 {
			return nil, "a blood pressure panel without systolic or diastolic values"
		}
		return parts, ""
	}
	vt, ok := vitalOf(r.Code)
	if !ok {
		what := code(&r.Code, ehr.SystemLOINC)
		if what == "" {
			what = code(&r.Code, "")
		}
		if l := label(&r.Code); l != "" {
			what = strings.TrimSpace(what + " " + quote(l))
		}
		return nil, "not a vital sign Outpost records (" + what + ")"
	}
	v, unit, ok := vitalValue(vt, r.ValueQuantity)
	if !ok {
		return nil, "no quantity value for " + strings.ToLower(vt.Name)
	}
	return []vitalPart{{obs: ehr.Observation{Vital: vt.Key, Value: v, Unit: unit, Effective: effective}}}, ""
}

// Condition.

type fhirCondition struct {
	ClinicalStatus     *ehr.Concept `json:"clinicalStatus"`
	VerificationStatus *ehr.Concept `json:"verificationStatus"`
	Code               *ehr.Concept `json:"code"`
	Subject            *reference   `json:"subject"`
	OnsetDateTime      string       `json:"onsetDateTime"`
	OnsetPeriod        *period      `json:"onsetPeriod"`
	AbatementDateTime  string       `json:"abatementDateTime"`
	Note               []annotation `json:"note"`
}

var conditionStatus = map[string]string{
	"active": "active", "recurrence": "active", "relapse": "active",
	"inactive": "inactive", "remission": "inactive", "resolved": "resolved",
}

// condition maps a Condition: its clinical status onto active, inactive
// (also remission) or resolved (recurrence and relapse are active), its
// onset to the date.
func condition(r fhirCondition) (ehr.Condition, string) {
	switch v := code(r.VerificationStatus, ""); v {
	case "entered-in-error", "refuted":
		return ehr.Condition{}, "verification status " + v
	}
	status := code(r.ClinicalStatus, ehr.SystemConditionClinical)
	if status == "" {
		status = code(r.ClinicalStatus, "")
	}
	c := ehr.Condition{
		Code:   concept(r.Code, ehr.SystemICD10, ehr.SystemSNOMED),
		Status: conditionStatus[status],
		Note:   firstNote(r.Note),
	}
	if c.Status == "" {
		c.Status = status // the kind names the problem
	}
	onset := r.OnsetDateTime
	if onset == "" && r.OnsetPeriod != nil {
		onset = r.OnsetPeriod.Start
	}
	if partialDate(onset) {
		// Outpost keeps an onset as a whole date: keep a year or month
		// of onset in the note rather than lose it.
		c.Note = strings.TrimSpace(c.Note + "\nOnset: " + onset)
	} else {
		c.Onset = datePart(onset)
	}
	return c, ""
}

// Medications.

type fhirDosage struct {
	Extension             []extension   `json:"extension"`
	Text                  string        `json:"text"`
	AdditionalInstruction []ehr.Concept `json:"additionalInstruction"`
	PatientInstruction    string        `json:"patientInstruction"`
	Timing                *struct {
		Code   *ehr.Concept `json:"code"`
		Repeat *struct {
			Frequency  int     `json:"frequency"`
			Period     float64 `json:"period"`
			PeriodUnit string  `json:"periodUnit"`
		} `json:"repeat"`
	} `json:"timing"`
	AsNeededBoolean bool         `json:"asNeededBoolean"`
	Route           *ehr.Concept `json:"route"`
	DoseAndRate     []struct {
		DoseQuantity *quantity `json:"doseQuantity"`
	} `json:"doseAndRate"`
}

type fhirMedication struct {
	Status                    string       `json:"status"`
	Intent                    string       `json:"intent"`
	MedicationCodeableConcept *ehr.Concept `json:"medicationCodeableConcept"`
	MedicationReference       *reference   `json:"medicationReference"`
	Subject                   *reference   `json:"subject"`
	Encounter                 *reference   `json:"encounter"`
	Context                   *reference   `json:"context"`
	AuthoredOn                string       `json:"authoredOn"`
	EffectiveDateTime         string       `json:"effectiveDateTime"`
	EffectivePeriod           *period      `json:"effectivePeriod"`
	DosageInstruction         []fhirDosage `json:"dosageInstruction"`
	Dosage                    []fhirDosage `json:"dosage"`
	Note                      []annotation `json:"note"`
}

// DoseNotStated is the dose of an imported prescription whose source gives
// none (Synthea's often do not): Outpost requires a dose on a
// prescription, and this says plainly that the source had none.
const DoseNotStated = "not stated in the imported record"

var medicationStatus = map[string]string{
	"active": "active", "completed": "completed", "stopped": "stopped", "cancelled": "stopped",
}

var timeUnits = map[string][2]string{
	"s": {"second", "seconds"}, "min": {"minute", "minutes"}, "h": {"hour", "hours"},
	"d": {"day", "days"}, "wk": {"week", "weeks"}, "mo": {"month", "months"}, "a": {"year", "years"},
}

// frequency writes a timing repeat as text: "2 times a day", "every 6 hours".
func frequency(freq int, per float64, unit string) string {
	u, ok := timeUnits[unit]
	if !ok || per <= 0 {
		return ""
	}
	if freq <= 0 {
		freq = 1
	}
	every := "a " + u[0]
	if per != 1 {
		every = "every " + strconv.FormatFloat(per, 'f', -1, 64) + " " + u[1]
	}
	switch {
	case freq == 1 && per == 1:
		return "once " + every
	case freq == 1:
		return every
	default:
		return fmt.Sprintf("%d times %s", freq, every)
	}
}

// medication maps a MedicationRequest (prescribed) or MedicationStatement
// (reported). drug is the medication, resolved by the caller when the
// resource refers to a Medication resource.
func medication(resourceType string, r fhirMedication, drug *ehr.Concept) (ehr.Medication, string) {
	m := ehr.Medication{Note: firstNote(r.Note)}
	var dosage []fhirDosage
	switch resourceType {
	case "MedicationRequest":
		switch r.Intent {
		case "", "order", "original-order", "reflex-order", "filler-order", "instance-order":
		default:
			return m, "intent " + quote(r.Intent) + ": not a prescription"
		}
		m.Kind, m.Start, dosage = ehr.MedicationPrescribed, datePart(r.AuthoredOn), r.DosageInstruction
	default:
		start := r.EffectiveDateTime
		if start == "" && r.EffectivePeriod != nil {
			start = r.EffectivePeriod.Start
		}
		m.Kind, m.Start, dosage = ehr.MedicationReported, datePart(start), r.Dosage
	}
	var ok bool
	if m.Status, ok = medicationStatus[r.Status]; !ok {
		return m, "status " + quote(r.Status) + " has no equivalent in Outpost"
	}
	if drug == nil {
		drug = r.MedicationCodeableConcept
	}
	m.Drug = concept(drug, ehr.SystemRxNorm)
	if len(dosage) > 0 {
		d := dosage[0]
		m.Dose = extValue(d.Extension, ehr.ExtDoseText)
		m.Duration = extValue(d.Extension, ehr.ExtDurationText)
		if m.Dose == "" && len(d.DoseAndRate) > 0 && d.DoseAndRate[0].DoseQuantity != nil && d.DoseAndRate[0].DoseQuantity.Value != nil {
			q := d.DoseAndRate[0].DoseQuantity
			unit := q.Unit
			if unit == "" {
				unit = q.Code
			}
			m.Dose = strings.TrimSpace(strconv.FormatFloat(*q.Value, 'f', -1, 64) + " " + unit)
		}
		m.Route = label(d.Route)
		if d.Timing != nil {
			m.Frequency = label(d.Timing.Code)
			if m.Frequency == "" && d.Timing.Repeat != nil {
				m.Frequency = frequency(d.Timing.Repeat.Frequency, d.Timing.Repeat.Period, d.Timing.Repeat.PeriodUnit)
			}
		}
		if d.AsNeededBoolean {
			m.Frequency = strings.TrimSpace(m.Frequency + " as needed")
		}
		if m.Dose == "" && m.Route == "" && m.Frequency == "" && m.Duration == "" && strings.TrimSpace(d.Text) != "" {
			m.Dose = d.Text // a free-text sig: "1 tablet twice daily"
		}
		if m.Note == "" {
			var notes []string
			for i := range d.AdditionalInstruction {
				if l := label(&d.AdditionalInstruction[i]); l != "" {
					notes = append(notes, l)
				}
			}
			if d.PatientInstruction != "" {
				notes = append(notes, d.PatientInstruction)
			}
			m.Note = strings.Join(notes, "\n")
		}
	}
	if m.Kind == ehr.MedicationPrescribed && strings.TrimSpace(m.Dose) == "" {
		m.Dose = DoseNotStated
	}
	return m, ""
}

// AllergyIntolerance.

type fhirAllergy struct {
	ClinicalStatus     *ehr.Concept `json:"clinicalStatus"`
	VerificationStatus *ehr.Concept `json:"verificationStatus"`
	Code               *ehr.Concept `json:"code"`
	Patient            *reference   `json:"patient"`
	Reaction           []struct {
		Substance     *ehr.Concept  `json:"substance"`
		Manifestation []ehr.Concept `json:"manifestation"`
		Severity      string        `json:"severity"`
	} `json:"reaction"`
}

func allergy(r fhirAllergy) (ehr.Allergy, string) {
	switch v := code(r.VerificationStatus, ""); v {
	case "entered-in-error", "refuted":
		return ehr.Allergy{}, "verification status " + v
	}
	status := code(r.ClinicalStatus, ehr.SystemAllergyClinical)
	if status == "" {
		status = code(r.ClinicalStatus, "")
	}
	if status == "resolved" {
		status = "inactive"
	}
	a := ehr.Allergy{Status: status}
	sub := r.Code
	if sub == nil && len(r.Reaction) > 0 {
		sub = r.Reaction[0].Substance
	}
	a.Substance = concept(sub, ehr.SystemSNOMED, ehr.SystemRxNorm)
	if len(r.Reaction) > 0 {
		re := r.Reaction[0]
		var ms []string
		for i := range re.Manifestation {
			if l := label(&re.Manifestation[i]); l != "" {
				ms = append(ms, l)
			}
		}
		a.Reaction = strings.Join(ms, ", ")
		if a.Reaction != "" {
			a.Severity = re.Severity
		}
	}
	return a, ""
}

// Immunization.

type fhirImmunization struct {
	Status             string       `json:"status"`
	VaccineCode        *ehr.Concept `json:"vaccineCode"`
	Patient            *reference   `json:"patient"`
	OccurrenceDateTime string       `json:"occurrenceDateTime"`
	OccurrenceString   string       `json:"occurrenceString"`
	LotNumber          string       `json:"lotNumber"`
	Site               *ehr.Concept `json:"site"`
	ProtocolApplied    []struct {
		DoseNumberPositiveInt int    `json:"doseNumberPositiveInt"`
		DoseNumberString      string `json:"doseNumberString"`
	} `json:"protocolApplied"`
}

func immunization(r fhirImmunization) (ehr.Immunization, string) {
	if r.Status == "entered-in-error" {
		return ehr.Immunization{}, "status entered-in-error"
	}
	if r.OccurrenceDateTime == "" && r.OccurrenceString != "" {
		return ehr.Immunization{}, "the date is given only as text (" + quote(r.OccurrenceString) + ")"
	}
	im := ehr.Immunization{
		Vaccine: concept(r.VaccineCode, ehr.SystemCVX),
		Date:    datePart(r.OccurrenceDateTime),
		Lot:     r.LotNumber,
		Site:    label(r.Site),
		Status:  r.Status,
	}
	if len(r.ProtocolApplied) > 0 {
		p := r.ProtocolApplied[0]
		im.DoseNumber = p.DoseNumberPositiveInt
		if n, err := strconv.Atoi(strings.TrimSpace(p.DoseNumberString)); err == nil && im.DoseNumber == 0 {
			im.DoseNumber = n
		}
	}
	return im, ""
}

// DocumentReference.

type fhirDocument struct {
	Status      string       `json:"status"`
	Type        *ehr.Concept `json:"type"`
	Description string       `json:"description"`
	Subject     *reference   `json:"subject"`
	Content     []struct {
		Attachment struct {
			ContentType string `json:"contentType"`
			Data        string `json:"data"`
			URL         string `json:"url"`
			Title       string `json:"title"`
		} `json:"attachment"`
	} `json:"content"`
	Context *struct {
		Encounter []reference `json:"encounter"`
	} `json:"context"`
}

// note maps a DocumentReference whose first content is plain text held
// inline: Outpost's notes. Documents held elsewhere (a URL) or in other
// formats (PDF, images) are skipped.
func note(r fhirDocument) (ehr.Note, string) {
	if r.Status != "" && r.Status != "current" {
		return ehr.Note{}, "status " + quote(r.Status) + ": not the current document"
	}
	if len(r.Content) == 0 {
		return ehr.Note{}, "no content"
	}
	a := r.Content[0].Attachment
	if mt, _, _ := strings.Cut(a.ContentType, ";"); strings.TrimSpace(mt) != "text/plain" || a.Data == "" {
		return ehr.Note{}, "only plain text held in the document is imported (content type " + quote(a.ContentType) + ")"
	}
	text, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(a.Data), ""))
	if err != nil {
		return ehr.Note{}, "the text is not valid base64"
	}
	n := ehr.Note{Title: a.Title, Text: string(text)}
	if strings.TrimSpace(n.Title) == "" {
		n.Title = r.Description
	}
	if strings.TrimSpace(n.Title) == "" {
		n.Title = label(r.Type)
	}
	return n, ""
}
