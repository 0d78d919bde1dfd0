package ehr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sex values, as FHIR's administrative gender.
var sexes = map[string]bool{"female": true, "male": true, "other": true, "unknown": true}

// Patient is the demographic record of one person.
type Patient struct {
	ClinicNo       string `json:"clinicNo"`
	Family         string `json:"family"`
	Given          string `json:"given"`
	Other          string `json:"other"` // other names: aliases, former names
	Sex            string `json:"sex"`
	BirthDate      string `json:"birthDate"` // YYYY-MM-DD, or YYYY when estimated
	BirthEstimated bool   `json:"birthEstimated"`
	NationalID     string `json:"nationalId"`
	Phone          string `json:"phone"`
	Village        string `json:"village"`
	Address        string `json:"address"`
	KinName        string `json:"kinName"`
	KinRelation    string `json:"kinRelation"`
	KinPhone       string `json:"kinPhone"`
	Restricted     bool   `json:"restricted"` // chart open only to its responsible clinician, or by emergency access
	Deceased       bool   `json:"deceased,omitempty"`
	DeceasedDate   string `json:"deceasedDate,omitempty"` // YYYY-MM-DD when known
}

// PatientInput is a patient as typed in a form. AgeYears stands in for an
// unknown birth date, as is common in rural registers.
type PatientInput struct {
	Family      string `json:"family"`
	Given       string `json:"given"`
	Other       string `json:"other"`
	Sex         string `json:"sex"`
	BirthDate   string `json:"birthDate"`
	AgeYears    string `json:"ageYears"`
	NationalID  string `json:"nationalId"`
	Phone       string `json:"phone"`
	Village     string `json:"village"`
	Address     string `json:"address"`
	KinName     string `json:"kinName"`
	KinRelation string `json:"kinRelation"`
	KinPhone    string `json:"kinPhone"`
	// Deceased marks the death of the patient; DeceasedDate, when known,
	// is YYYY-MM-DD.
	Deceased     bool   `json:"deceased"`
	DeceasedDate string `json:"deceasedDate"`
}

// Field limits, in characters.
const (
	maxName     = 100
	maxOther    = 200
	maxNational = 32
	maxPlace    = 100
	maxAddress  = 300
	maxRelation = 50
	maxAge      = 130
)

// Patient validates in and returns the patient it describes. now is the
// moment of entry: it turns an estimated age into a birth year and bounds
// birth dates. On failure the error is an EInvalid *Error whose Fields are
// keyed by PatientInput's JSON names.
func (in PatientInput) Patient(now time.Time) (Patient, error) {
	v := Invalid{}
	p := Patient{
		Family:      nameField(v, "family", in.Family, maxName),
		Given:       nameField(v, "given", in.Given, maxName),
		Other:       nameField(v, "other", in.Other, maxOther),
		Sex:         strings.TrimSpace(in.Sex),
		NationalID:  nationalID(v, "nationalId", in.NationalID),
		Phone:       phone(v, "phone", in.Phone),
		Village:     textField(v, "village", in.Village, maxPlace, false),
		Address:     textField(v, "address", in.Address, maxAddress, true),
		KinName:     nameField(v, "kinName", in.KinName, maxName),
		KinRelation: textField(v, "kinRelation", in.KinRelation, maxRelation, false),
		KinPhone:    phone(v, "kinPhone", in.KinPhone),
	}
	if p.Family == "" && p.Given == "" && v["family"] == "" && v["given"] == "" {
		v.Add("family", "Enter a family name or a given name.")
	}
	if !sexes[p.Sex] {
		v.Add("sex", "Choose female, male, other or unknown.")
	}
	birth := strings.TrimSpace(in.BirthDate)
	age := strings.TrimSpace(in.AgeYears)
	switch {
	case birth != "" && age != "":
		v.Add("ageYears", "Give either a birth date or an estimated age, not both.")
	case birth != "":
		if msg := checkBirthDate(birth, now); msg != "" {
			v.Add("birthDate", msg)
		} else {
			p.BirthDate = birth
		}
	case age != "":
		n, err := strconv.Atoi(age)
		if err != nil || n < 0 || n > maxAge {
			v.Add("ageYears", fmt.Sprintf("Enter the estimated age as whole years from 0 to %d.", maxAge))
		} else {
			p.BirthDate = strconv.Itoa(now.Year() - n)
			p.BirthEstimated = true
		}
	default:
		v.Add("birthDate", "Enter a birth date, or an estimated age if the date is not known.")
	}
	p.Deceased = in.Deceased
	if d := strings.TrimSpace(in.DeceasedDate); d != "" {
		if msg := checkDeathDate(d, p, now); msg != "" {
			v.Add("deceasedDate", msg)
		} else if !in.Deceased {
			v.Add("deceasedDate", "Tick Deceased to record a date of death, or clear the date.")
		} else {
			p.DeceasedDate = d
		}
	}
	if err := v.Err(); err != nil {
		return Patient{}, err
	}
	return p, nil
}

func checkDeathDate(s string, p Patient, now time.Time) string {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return "Enter the date of death as YYYY-MM-DD, a real calendar date."
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if t.After(today) {
		return "The date of death is in the future."
	}
	if y := p.BirthYear(); y != 0 && (t.Year() < y || (!p.BirthEstimated && s < p.BirthDate)) {
		return "The date of death is before the birth date."
	}
	return ""
}

// Input returns the form values that describe p at now.
func (p Patient) Input(now time.Time) PatientInput {
	in := PatientInput{
		Family: p.Family, Given: p.Given, Other: p.Other, Sex: p.Sex,
		NationalID: p.NationalID, Phone: p.Phone, Village: p.Village, Address: p.Address,
		KinName: p.KinName, KinRelation: p.KinRelation, KinPhone: p.KinPhone,
		Deceased: p.Deceased, DeceasedDate: p.DeceasedDate,
	}
	if p.BirthEstimated {
		if y, err := strconv.Atoi(p.BirthDate); err == nil {
			in.AgeYears = strconv.Itoa(now.Year() - y)
		}
	} else {
		in.BirthDate = p.BirthDate
	}
	return in
}

// BirthYear returns the year of birth, or 0 when unknown.
func (p Patient) BirthYear() int {
	if len(p.BirthDate) < 4 {
		return 0
	}
	y, err := strconv.Atoi(p.BirthDate[:4])
	if err != nil {
		return 0
	}
	return y
}

func checkBirthDate(s string, now time.Time) string {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return "Enter the birth date as YYYY-MM-DD, a real calendar date."
	}
	if t.Year() < 1890 {
		return "The birth date is too far in the past."
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if t.After(today) {
		return "The birth date is in the future."
	}
	return ""
}

// Age returns a short display of the age at now: "44 y", "~44 y" when the
// birth date is estimated, "8 mo" under two years, "12 d" under a month.
// For a patient who died on a known date, it is the age at death.
func (p Patient) Age(now time.Time) string {
	if d, err := time.Parse("2006-01-02", p.DeceasedDate); err == nil && p.Deceased && d.Before(now) {
		now = d
	}
	if p.BirthEstimated {
		y := p.BirthYear()
		if y == 0 {
			return ""
		}
		return fmt.Sprintf("~%d y", now.Year()-y)
	}
	b, err := time.Parse("2006-01-02", p.BirthDate)
	if err != nil {
		return ""
	}
	years := now.Year() - b.Year()
	if now.Month() < b.Month() || (now.Month() == b.Month() && now.Day() < b.Day()) {
		years--
	}
	if years >= 2 {
		return fmt.Sprintf("%d y", years)
	}
	months := (now.Year()-b.Year())*12 + int(now.Month()) - int(b.Month())
	if now.Day() < b.Day() {
		months--
	}
	if months >= 1 {
		return fmt.Sprintf("%d mo", months)
	}
	days := int(now.Sub(b).Hours() / 24)
	if days < 0 {
		days = 0
	}
	return fmt.Sprintf("%d d", days)
}

// DisplayName returns "FAMILY, Given" (or whichever part exists).
func (p Patient) DisplayName() string {
	switch {
	case p.Family != "" && p.Given != "":
		return strings.ToUpper(p.Family) + ", " + p.Given
	case p.Family != "":
		return strings.ToUpper(p.Family)
	default:
		return p.Given
	}
}
