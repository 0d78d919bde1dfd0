package ehr

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Coding is one code from a code system: FHIR's Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// Concept is a coded or free-text clinical concept: FHIR's
// CodeableConcept. A concept may have codings, free text, or both.
type Concept struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// IsZero reports whether c has neither codings nor text.
func (c Concept) IsZero() bool { return len(c.Coding) == 0 && c.Text == "" }

// Label returns what to show for c: its text, else the display of its
// first coding that has one, else its first code.
func (c Concept) Label() string {
	if c.Text != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cd.Display
		}
	}
	if len(c.Coding) > 0 {
		return c.Coding[0].Code
	}
	return ""
}

// Code system URIs, as FHIR names them.
const (
	SystemICD10  = "http://hl7.org/fhir/sid/icd-10"
	SystemSNOMED = "http://snomed.info/sct"
	SystemLOINC  = "http://loinc.org"
	SystemCVX    = "http://hl7.org/fhir/sid/cvx"
	SystemRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
)

// CodeSystem is a code system Outpost accepts codes from. Valid checks the
// form of a code (not that the code exists: there is no terminology server
// offline).
type CodeSystem struct {
	URI   string
	Name  string
	Valid func(code string) bool
}

// CodeSystems holds the known code systems, keyed by URI. To accept codes
// from another system, add it here and name it in the kinds that take it.
var CodeSystems = map[string]CodeSystem{
	SystemICD10:  {URI: SystemICD10, Name: "ICD-10", Valid: validICD10},
	SystemSNOMED: {URI: SystemSNOMED, Name: "SNOMED CT", Valid: validSNOMED},
	SystemLOINC:  {URI: SystemLOINC, Name: "LOINC", Valid: validLOINC},
	SystemCVX:    {URI: SystemCVX, Name: "CVX", Valid: validCVX},
	SystemRxNorm: {URI: SystemRxNorm, Name: "RxNorm", Valid: validRxNorm},
}

var (
	icd10RE  = regexp.MustCompile(`^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$`)
	snomedRE = regexp.MustCompile(`^[1-9][0-9]{5,17}$`)
	loincRE  = regexp.MustCompile(`^[0-9]{1,7}-[0-9]$`)
	cvxRE    = regexp.MustCompile(`^[0-9]{1,3}$`)
	rxnormRE = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
)

// validICD10 accepts a category (A09) or a subcategory (J18.9); ICD-10
// national modifications' longer subdivisions (S72.001A) pass too.
func validICD10(code string) bool { return icd10RE.MatchString(code) }

// validSNOMED accepts an SCTID: 6 to 18 digits, no leading zero, whose
// last digit is the Verhoeff check digit of the others, so most typos are
// caught.
func validSNOMED(code string) bool { return snomedRE.MatchString(code) && verhoeff(code) }

// validLOINC accepts NNNNN-N whose check digit is the mod-10 (Luhn) check
// digit of the number, as LOINC defines it.
func validLOINC(code string) bool {
	if !loincRE.MatchString(code) {
		return false
	}
	num, check, _ := strings.Cut(code, "-")
	return luhnDigit(num) == check[0]-'0'
}

// validCVX accepts CDC vaccine codes: 1 to 3 digits ("08" is Hep B).
func validCVX(code string) bool { return cvxRE.MatchString(code) }

// validRxNorm accepts an RxNorm concept id (RXCUI): digits.
func validRxNorm(code string) bool { return rxnormRE.MatchString(code) }

var verhoeffD = [10][10]byte{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
	{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
	{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
	{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
	{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
	{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
	{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
	{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
	{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
	{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
}

var verhoeffP = [8][10]byte{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
	{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
	{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
	{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
	{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
	{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
	{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
	{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
}

// verhoeff reports whether the digit string ends in its Verhoeff check digit.
func verhoeff(digits string) bool {
	var c byte
	for i := 0; i < len(digits); i++ {
		d := digits[len(digits)-1-i] - '0'
		c = verhoeffD[c][verhoeffP[i%8][d]]
	}
	return c == 0
}

// luhnDigit returns the mod-10 check digit of a digit string.
func luhnDigit(digits string) byte {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 { // the rightmost digit is doubled
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte((10 - sum%10) % 10)
}

// Concept limits.
const (
	maxCodings     = 5
	maxConceptText = 200
	maxDisplay     = 200
	maxCode        = 64
)

// conceptField validates and normalises c, a concept whose codes must come
// from one of systems. Every message goes to field. A concept is valid when
// it has free text, codings, or both; every coding must be from an allowed
// system, with a code of that system's form.
func conceptField(v Invalid, field string, c Concept, required bool, systems ...string) Concept {
	out := Concept{Text: textField(v, field, c.Text, maxConceptText, false)}
	if len(c.Coding) > maxCodings {
		v.Add(field, fmt.Sprintf("Give at most %d codes.", maxCodings))
		return Concept{}
	}
	seen := map[[2]string]bool{}
	for _, cd := range c.Coding {
		cd = Coding{System: strings.TrimSpace(cd.System), Code: strings.TrimSpace(cd.Code), Display: cd.Display}
		cs, known := CodeSystems[cd.System]
		switch {
		case cd.System == "":
			v.Add(field, "Each code needs its code system.")
		case !known:
			v.Add(field, fmt.Sprintf("The code system %q is not known here; use %s.", clipText(cd.System, 80), systemNames(systems)))
		case !slices.Contains(systems, cd.System):
			v.Add(field, fmt.Sprintf("%s codes do not fit here; use %s.", cs.Name, systemNames(systems)))
		case cd.Code == "":
			v.Add(field, fmt.Sprintf("Enter the %s code.", cs.Name))
		case len(cd.Code) > maxCode || !cs.Valid(cd.Code):
			v.Add(field, fmt.Sprintf("%q is not a valid %s code.", clipText(cd.Code, 20), cs.Name))
		case seen[[2]string{cd.System, cd.Code}]:
			v.Add(field, "The same code is given twice.")
		}
		seen[[2]string{cd.System, cd.Code}] = true
		cd.Display = textField(v, field, cd.Display, maxDisplay, false)
		out.Coding = append(out.Coding, cd)
	}
	if _, bad := v[field]; bad {
		return Concept{}
	}
	if required && out.IsZero() {
		v.Add(field, "Enter a name, or choose a code.")
	}
	return out
}

// clipText cuts s to at most n runes, for quoting user input in a message.
func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// systemNames lists the names of systems, then "free text".
func systemNames(systems []string) string {
	names := make([]string, 0, len(systems)+1)
	for _, s := range systems {
		names = append(names, CodeSystems[s].Name)
	}
	names = append(names, "free text")
	if len(names) == 2 {
		return names[0] + " or " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
