// Package fhir moves charts in and out of Outpost as FHIR R4 Bundles.
//
// Export writes one Bundle of type collection holding, per patient, the
// Patient and every current clinical record (Encounter, Observation,
// Condition, MedicationRequest / MedicationStatement, AllergyIntolerance,
// Immunization, DocumentReference). Each record's stored version body
// already is its FHIR resource, so the export writes those bodies, with
// fullUrl urn:uuid:<record id> and every reference between them written as
// urn:uuid:<id>, the form references take inside a Bundle.
//
// Import reads a transaction, batch, collection, searchset or document
// Bundle (Synthea's output, another system's export, or Outpost's own) and
// stores what Outpost models, through the same validation as a form: a
// resource that does not validate is skipped with the field messages as
// the reason, and the import goes on. Ids are derived from the source
// (DeriveID), so importing the same Bundle twice creates nothing new.
package fhir

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"unicode"
)

// Errors that refuse a whole input, for errors.Is. The error returned
// wraps one of them with a message that says what was found.
var (
	ErrTooLarge  = errors.New("the file is too large to import")
	ErrMalformed = errors.New("the file is not valid JSON")
	ErrNotBundle = errors.New("the file is not a FHIR Bundle")
)

// MaxImportBytes bounds the size of a Bundle Import reads: the whole
// Bundle is held in memory, because its entries refer to each other in any
// order.
const MaxImportBytes = 200 << 20

// MaxSkips bounds Report.Skipped; further skips are only counted (in
// Report.SkipsOmitted and the per-type counts).
const MaxSkips = 10000

// NotModelled is the reason given for a resource type Outpost does not
// keep (Claim, Procedure, DiagnosticReport, CarePlan, ...).
const NotModelled = "not modelled"

// Count is what happened to the resources of one type.
type Count struct {
	Imported int // new records stored
	Present  int // records already stored by an earlier import
	Skipped  int // resources (or parts of one) not stored
}

// Skip says why one resource, or one part of it, was not stored.
type Skip struct {
	Type   string // resourceType
	ID     string // the resource's id, else its fullUrl (a blood pressure part adds #systolic or #diastolic)
	Reason string
}

// Report is the outcome of an import. Counts are per stored record: a
// blood pressure panel makes two observations (systolic and diastolic),
// so it counts twice.
type Report struct {
	Entries      int              // entries in the Bundle
	Types        map[string]Count // by resourceType
	Skipped      []Skip           // in the order met, at most MaxSkips
	SkipsOmitted int              // skips beyond MaxSkips
}

// Total sums the counts over every type.
func (r Report) Total() Count {
	var t Count
	for _, c := range r.Types {
		t.Imported += c.Imported
		t.Present += c.Present
		t.Skipped += c.Skipped
	}
	return t
}

// TypeNames returns the resource types of the report, sorted.
func (r Report) TypeNames() []string {
	names := make([]string, 0, len(r.Types))
	for n := range r.Types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *Report) add(typ string, f func(*Count)) {
	if r.Types == nil {
		r.Types = map[string]Count{}
	}
	c := r.Types[typ]
	f(&c)
	r.Types[typ] = c
}

func (r *Report) imported(typ string) { r.add(typ, func(c *Count) { c.Imported++ }) }
func (r *Report) present(typ string)  { r.add(typ, func(c *Count) { c.Present++ }) }

func (r *Report) skip(typ, id, reason string) {
	r.add(typ, func(c *Count) { c.Skipped++ })
	if len(r.Skipped) < MaxSkips {
		r.Skipped = append(r.Skipped, Skip{Type: typ, ID: id, Reason: reason})
	} else {
		r.SkipsOmitted++
	}
}

// Stats is the outcome of an export.
type Stats struct {
	Patients  int            // patients written
	Entries   int            // Bundle entries written
	Resources map[string]int // entries by resourceType
	// Withheld lists patients left out because their chart is restricted
	// to another clinician (emergency access is not used for an export).
	Withheld []string
}

// DeriveID returns the record id an imported resource gets: a UUID of
// version 8 (RFC 9562, "custom") made of the first 128 bits of
// SHA-256("outpost-fhir-import:" + key), where key is the entry's fullUrl,
// or resourceType/id when it has none. The same source always gives the
// same id, so an import repeated creates nothing new, and references
// resolve through the same derivation.
func DeriveID(key string) string {
	sum := sha256.Sum256([]byte("outpost-fhir-import:" + key))
	var b [16]byte
	copy(b[:], sum[:16])
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// clip cuts s to at most n runes for quoting it in a reason.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// quote makes source text safe to show in a reason: clipped, control and
// format characters (terminal escapes, bidi overrides) made spaces.
func quote(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, clip(strings.ToValidUTF8(s, "?"), 60)))
}
