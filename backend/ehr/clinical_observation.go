package ehr

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Vital is a vital sign Outpost records, with the range of values that
// are plausible for a living patient; values outside it are refused as
// typing errors.
type Vital struct {
	Key    string  // Observation.Vital
	Name   string  // shown to users and written as the FHIR code's text
	LOINC  string  // the FHIR code
	Unit   string  // UCUM code
	Symbol string  // the unit as shown to users
	Min    float64 // plausible range, inclusive, in Unit
	Max    float64
}

// Vitals lists the vital signs in the order a form shows them.
var Vitals = []Vital{
	{Key: "systolic", Name: "Systolic blood pressure", LOINC: "8480-6", Unit: "mm[Hg]", Symbol: "mmHg", Min: 50, Max: 260},
	{Key: "diastolic", Name: "Diastolic blood pressure", LOINC: "8462-4", Unit: "mm[Hg]", Symbol: "mmHg", Min: 30, Max: 160},
	{Key: "pulse", Name: "Heart rate", LOINC: "8867-4", Unit: "/min", Symbol: "/min", Min: 20, Max: 250},
	{Key: "temperature", Name: "Body temperature", LOINC: "8310-5", Unit: "Cel", Symbol: "°C", Min: 30, Max: 45},
	{Key: "respiratory-rate", Name: "Respiratory rate", LOINC: "9279-1", Unit: "/min", Symbol: "/min", Min: 4, Max: 80},
	{Key: "spo2", Name: "Oxygen saturation (SpO2)", LOINC: "59408-5", Unit: "%", Symbol: "%", Min: 50, Max: 100},
	{Key: "weight", Name: "Body weight", LOINC: "29463-7", Unit: "kg", Symbol: "kg", Min: 0.3, Max: 350},
	{Key: "height", Name: "Body height", LOINC: "8302-2", Unit: "cm", Symbol: "cm", Min: 25, Max: 250},
	{Key: "bmi", Name: "Body mass index", LOINC: "39156-5", Unit: "kg/m2", Symbol: "kg/m²", Min: 8, Max: 90},
	// MUAC screens children for acute malnutrition; the range suits them,
	// and adults are accepted too.
	{Key: "muac", Name: "Mid-upper arm circumference", LOINC: "56072-2", Unit: "cm", Symbol: "cm", Min: 5, Max: 50},
}

// VitalByKey returns the vital sign with key.
func VitalByKey(key string) (Vital, bool) {
	for _, vt := range Vitals {
		if vt.Key == key {
			return vt, true
		}
	}
	return Vital{}, false
}

func vitalByLOINC(code string) (Vital, bool) {
	for _, vt := range Vitals {
		if vt.LOINC == code {
			return vt, true
		}
	}
	return Vital{}, false
}

// BMI returns the body mass index for a weight in kilograms and a height
// in centimetres, rounded to one decimal; 0 when either is not positive.
func BMI(weightKg, heightCm float64) float64 {
	if !(weightKg > 0) || !(heightCm > 0) || math.IsInf(weightKg, 0) || math.IsInf(heightCm, 0) {
		return 0
	}
	m := heightCm / 100
	return math.Round(weightKg/(m*m)*10) / 10
}

// Observation is one vital sign measured at one moment.
type Observation struct {
	PatientID   string  `json:"patientId"`
	EncounterID string  `json:"encounterId"`
	Vital       string  `json:"vital"` // a Vitals key
	Value       float64 `json:"value"`
	Unit        string  `json:"unit"`      // UCUM; the vital's unit, filled in when empty
	Effective   string  `json:"effective"` // RFC 3339
}

// Validate normalises o and checks it: a known vital sign, its own unit (or
// the unit's symbol, stored as the UCUM code), and a plausible value.
func (o *Observation) Validate(now time.Time) error {
	v := Invalid{}
	x := Observation{
		PatientID:   idField(v, "patientId", o.PatientID, true, "patient"),
		EncounterID: idField(v, "encounterId", o.EncounterID, false, "encounter"),
		Vital:       strings.TrimSpace(o.Vital),
		Value:       o.Value,
	}
	x.Effective, _ = timeField(v, "effective", o.Effective, now, true)
	vt, ok := VitalByKey(x.Vital)
	if !ok {
		v.Add("vital", "Choose a vital sign.")
	} else {
		switch unit := strings.TrimSpace(o.Unit); unit {
		case "", vt.Unit, vt.Symbol:
			x.Unit = vt.Unit
		default:
			v.Add("unit", fmt.Sprintf("Give %s in %s.", strings.ToLower(vt.Name[:1])+vt.Name[1:], vt.Symbol))
		}
		if math.IsNaN(x.Value) || x.Value < vt.Min || x.Value > vt.Max {
			v.Add("value", fmt.Sprintf("Enter a plausible value, from %s to %s %s.",
				formatNumber(vt.Min), formatNumber(vt.Max), vt.Symbol))
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	*o = x
	return nil
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

type chartObservation struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id,omitempty"`
	Status       string         `json:"status"`
	Category     []Concept      `json:"category"`
	Code         Concept        `json:"code"`
	Subject      *chartRef      `json:"subject,omitempty"`
	Encounter    *chartRef      `json:"encounter,omitempty"`
	Effective    string         `json:"effectiveDateTime,omitempty"`
	Value        *chartQuantity `json:"valueQuantity,omitempty"`
}

type chartQuantity struct {
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	System string  `json:"system,omitempty"`
	Code   string  `json:"code,omitempty"`
}

// ObservationBody returns the canonical FHIR R4 Observation JSON for o.
func ObservationBody(id string, o Observation) ([]byte, error) {
	vt, ok := VitalByKey(o.Vital)
	if !ok {
		return nil, fmt.Errorf("observation body: vital %q", o.Vital)
	}
	if math.IsNaN(o.Value) || math.IsInf(o.Value, 0) {
		return nil, fmt.Errorf("observation body: value %v", o.Value)
	}
	unit := o.Unit
	if unit == vt.Unit {
		unit = vt.Symbol
	}
	r := chartObservation{
		ResourceType: "Observation",
		ID:           id,
		Status:       "final",
		Category: []Concept{{
			Coding: []Coding{{System: SystemObservationCat, Code: "vital-signs", Display: "Vital Signs"}},
			Text:   "Vital Signs",
		}},
		Code:      Concept{Coding: []Coding{{System: SystemLOINC, Code: vt.LOINC}}, Text: vt.Name},
		Subject:   chartReference("Patient", o.PatientID),
		Encounter: chartReference("Encounter", o.EncounterID),
		Effective: o.Effective,
		Value:     &chartQuantity{Value: o.Value, Unit: unit, System: SystemUCUM, Code: o.Unit},
	}
	return Canonical(r)
}

// ParseObservationBody reads a body written by ObservationBody: a vital
// sign Observation whose code is the LOINC code of one of Vitals.
func ParseObservationBody(body []byte) (Observation, error) {
	var r chartObservation
	if err := json.Unmarshal(body, &r); err != nil {
		return Observation{}, fmt.Errorf("parse observation body: %w", err)
	}
	if err := checkResourceType("observation", r.ResourceType, "Observation"); err != nil {
		return Observation{}, err
	}
	o := Observation{Effective: r.Effective}
	for _, c := range r.Code.Coding {
		if vt, ok := vitalByLOINC(c.Code); ok && c.System == SystemLOINC {
			o.Vital = vt.Key
			break
		}
	}
	if o.Vital == "" {
		return Observation{}, fmt.Errorf("parse observation body: not a known vital sign")
	}
	if r.Value != nil {
		o.Value, o.Unit = r.Value.Value, r.Value.Code
	}
	var err error
	if o.PatientID, err = refID(r.Subject, "Patient"); err != nil {
		return Observation{}, fmt.Errorf("parse observation body: subject: %w", err)
	}
	if o.EncounterID, err = refID(r.Encounter, "Encounter"); err != nil {
		return Observation{}, fmt.Errorf("parse observation body: encounter: %w", err)
	}
	return o, nil
}
