package ehr

// The clinical record kinds of a chart. Each kind is a struct whose JSON
// names are the keys of its field messages; Validate(now) normalises it in
// place (trimmed, white space folded) and returns an EInvalid *Error with
// field messages when something is wrong, leaving it unchanged. XBody
// writes the canonical FHIR R4 resource for a validated value and
// ParseXBody reads it back: Parse(Body(x)) equals x.
//
// How the kinds map onto FHIR R4 (extensions are Outpost's own, named
// urn:outpost:fhir:…, with string or dateTime values):
//
//	Encounter     Encounter: status in-progress (open) | finished (signed);
//	              class AMB; period start/end; the complaint as
//	              reasonCode[0].text; findings, assessment and plan, who
//	              signed, when, and why a version was amended as
//	              extensions (R4's Encounter has no element for notes).
//	Observation   Observation, category vital-signs, code LOINC with the
//	              vital's name as text, valueQuantity in UCUM, encounter.
//	Condition     Condition, category problem-list-item, clinicalStatus
//	              (condition-clinical), code, onsetDateTime, note[0].text.
//	Medication    MedicationRequest (prescribed, intent order, authoredOn
//	              = start) or MedicationStatement (reported,
//	              effectiveDateTime = start); medicationCodeableConcept;
//	              one Dosage: text (a summary), route.text,
//	              timing.code.text (frequency), dose and duration as
//	              extensions; encounter (context for a statement); note.
//	Allergy       AllergyIntolerance: clinicalStatus
//	              (allergyintolerance-clinical), code, reaction[0] with the
//	              reaction as manifestation[0].text and its severity.
//	Immunization  Immunization: status, vaccineCode, occurrenceDateTime,
//	              lotNumber, site.text, protocolApplied[0].doseNumber.
//	Note          DocumentReference, status current: one attachment of
//	              text/plain; charset=utf-8, base64, with the title;
//	              context.encounter.
//
// Every body refers to its patient as Patient/<id> (subject, or patient
// where FHIR names it so) and to an encounter as Encounter/<id>. Parsers
// also take urn:uuid:<id>, the form references take inside a Bundle.

import (
	"fmt"
	"strings"
	"time"
)

// Outpost's FHIR extensions for the clinical kinds.
const (
	ExtEncounterFindings   = "urn:outpost:fhir:encounter-findings"
	ExtEncounterAssessment = "urn:outpost:fhir:encounter-assessment"
	ExtEncounterPlan       = "urn:outpost:fhir:encounter-plan"
	ExtSignedBy            = "urn:outpost:fhir:signed-by"
	ExtSignedAt            = "urn:outpost:fhir:signed-at"
	ExtAmendReason         = "urn:outpost:fhir:amend-reason"
	ExtDoseText            = "urn:outpost:fhir:dose-text"
	ExtDurationText        = "urn:outpost:fhir:duration-text"
)

// HL7 code systems the bodies use.
const (
	SystemActCode           = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	SystemObservationCat    = "http://terminology.hl7.org/CodeSystem/observation-category"
	SystemConditionClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	SystemConditionCategory = "http://terminology.hl7.org/CodeSystem/condition-category"
	SystemAllergyClinical   = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
	SystemUCUM              = "http://unitsofmeasure.org"
)

// Limits of the clinical kinds' fields, in characters.
const (
	maxClinicalLongText    = 4000  // an encounter's complaint, findings, assessment, plan
	maxClinicalNote        = 1000  // a note on a condition or medication
	maxClinicalShortText   = 100   // dose, route, frequency, duration
	maxClinicalTitle       = 200   // a note's title
	maxClinicalNoteText    = 20000 // a note's text
	maxClinicalAmendReason = 300
	maxClinicalReaction    = 200
	maxClinicalLot         = 40
	maxClinicalSite        = 60
	maxClinicalDoseNumber  = 20
	maxClinicalUsername    = 64
)

// Dates and times of clinical records are refused before this year, and
// more than futureTolerance after the moment of entry.
const (
	earliestClinicalYear = 1890
	futureTolerance      = time.Minute
)

// FHIR building blocks shared by the clinical bodies.

type chartRef struct {
	Reference string `json:"reference,omitempty"`
}

type chartExt struct {
	URL           string `json:"url"`
	ValueString   string `json:"valueString,omitempty"`
	ValueDateTime string `json:"valueDateTime,omitempty"`
}

type chartPeriod struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

type chartAnnotation struct {
	Text string `json:"text"`
}

// chartStatus is a CodeableConcept holding one coding, for the statuses
// FHIR codes that way.
type chartStatus struct {
	Coding []Coding `json:"coding"`
}

func statusConcept(system, code string) *chartStatus {
	if code == "" {
		return nil
	}
	return &chartStatus{Coding: []Coding{{System: system, Code: code}}}
}

// statusCode returns the code of s's first coding from system.
func statusCode(s *chartStatus, system string) string {
	if s == nil {
		return ""
	}
	for _, c := range s.Coding {
		if c.System == system {
			return c.Code
		}
	}
	return ""
}

func chartReference(kind, id string) *chartRef {
	if id == "" {
		return nil
	}
	return &chartRef{Reference: kind + "/" + id}
}

// refID reads the id out of a reference to a kind: "Kind/<id>" or
// "urn:uuid:<id>". No reference gives "".
func refID(r *chartRef, kind string) (string, error) {
	if r == nil || r.Reference == "" {
		return "", nil
	}
	if id, ok := strings.CutPrefix(r.Reference, kind+"/"); ok {
		return id, nil
	}
	if id, ok := strings.CutPrefix(r.Reference, "urn:uuid:"); ok {
		return id, nil
	}
	return "", fmt.Errorf("reference %q is not to a %s", clipText(r.Reference, 80), kind)
}

func conceptPtr(c Concept) *Concept {
	if c.IsZero() {
		return nil
	}
	return &c
}

func conceptOf(c *Concept) Concept {
	if c == nil {
		return Concept{}
	}
	return *c
}

func chartNotes(text string) []chartAnnotation {
	if text == "" {
		return nil
	}
	return []chartAnnotation{{Text: text}}
}

func chartNoteText(n []chartAnnotation) string {
	if len(n) == 0 {
		return ""
	}
	return n[0].Text
}

// extString appends a string extension unless value is empty.
func extString(exts []chartExt, url, value string) []chartExt {
	if value == "" {
		return exts
	}
	return append(exts, chartExt{URL: url, ValueString: value})
}

// extValue returns the value of the first extension with url.
func extValue(exts []chartExt, url string) string {
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

// checkResourceType refuses a body of another resource type.
func checkResourceType(what, got, want string) error {
	if got != want {
		return fmt.Errorf("parse %s body: resourceType %q, want %q", what, clipText(got, 40), want)
	}
	return nil
}

// Field helpers for Validate.

// idField validates a required or optional reference to a record.
func idField(v Invalid, field, s string, required bool, what string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "" && required:
		v.Add(field, fmt.Sprintf("Choose the %s.", what))
	case s != "" && !ValidID(s):
		v.Add(field, fmt.Sprintf("This is not a valid %s id.", what))
	default:
		return s
	}
	return ""
}

// enumField validates a choice among allowed, named in the message.
func enumField(v Invalid, field, s string, allowed ...string) string {
	s = strings.TrimSpace(s)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	v.Add(field, "Choose "+orList(allowed)+".")
	return ""
}

func orList(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// requiredText is textField that also refuses an empty value.
func requiredText(v Invalid, field, s string, max int, multiline bool, msg string) string {
	s = textField(v, field, s, max, multiline)
	if s == "" {
		v.Add(field, msg)
	}
	return s
}

// timeField validates a moment in RFC 3339 form (2026-06-15T10:30:00+02:00)
// and returns it re-formatted, keeping its offset. The time may not be
// before 1890 nor more than a minute after now.
func timeField(v Invalid, field, s string, now time.Time, required bool) (string, time.Time) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			v.Add(field, "Enter the date and time.")
		}
		return "", time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		v.Add(field, "Enter a real date and time such as 2026-06-15T10:30:00+02:00.")
		return "", time.Time{}
	}
	if _, off := t.Zone(); off > 14*3600 || off < -14*3600 {
		v.Add(field, "The time zone offset must be between -14:00 and +14:00.")
		return "", time.Time{}
	}
	switch {
	case t.Year() < earliestClinicalYear:
		v.Add(field, fmt.Sprintf("The time is before %d.", earliestClinicalYear))
	case t.After(now.Add(futureTolerance)):
		v.Add(field, "The time is in the future.")
	default:
		return t.Format(time.RFC3339Nano), t
	}
	return "", time.Time{}
}

// dateField validates a calendar date as YYYY-MM-DD, not before 1890 and
// not after today (a minute's grace at midnight), in now's time zone.
func dateField(v Invalid, field, s string, now time.Time, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			v.Add(field, "Enter the date.")
		}
		return ""
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		v.Add(field, "Enter the date as YYYY-MM-DD, a real calendar date.")
		return ""
	}
	soon := now.Add(futureTolerance)
	today := time.Date(soon.Year(), soon.Month(), soon.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case t.Year() < earliestClinicalYear:
		v.Add(field, fmt.Sprintf("The date is before %d.", earliestClinicalYear))
	case t.After(today):
		v.Add(field, "The date is in the future.")
	default:
		return s
	}
	return ""
}

// usernameField validates the username of a signer: 2 to 64 of a–z, 0–9,
// '.', '_' and '-', starting with a letter (auth's rule, restated here
// because ehr imports nothing of ours).
func usernameField(v Invalid, field, s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	ok := len(s) >= 2 && len(s) <= maxClinicalUsername && s[0] >= 'a' && s[0] <= 'z'
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			ok = false
		}
	}
	if !ok {
		v.Add(field, "Give the username of the person who signed.")
		return ""
	}
	return s
}
