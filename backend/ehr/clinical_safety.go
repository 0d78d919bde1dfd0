package ehr

import (
	"strings"
	"unicode"
)

// AllergyConflicts returns the active allergies whose substance matches
// drug, in the order given, so that prescribing it can warn.
//
// A substance matches when it shares a code with the drug (same system and
// code), or by name: every word of one of the substance's names (its text
// or a coding's display) is a word of one of the drug's names, compared
// without case or accents. An allergy to "Penicillin" so matches
// "Penicillin V 250 mg" and "Benzathine penicillin G", and an allergy to
// "Sulfamethoxazole" matches "Sulfamethoxazole / Trimethoprim".
//
// This is a safety net, not a drug-allergy check: it knows no drug
// classes, ingredients or cross-reactions. An allergy to "Penicillin" does
// not match "Amoxicillin" (a penicillin), a brand name does not match its
// generic, "Penicillins" does not match "Penicillin", and an allergy
// recorded as "Allergy to penicillin" needs every one of those words in the
// drug's name. Coding drugs (RxNorm) and substances consistently is what
// makes matches by code work.
func AllergyConflicts(drug Concept, allergies []Allergy) []Allergy {
	drugNames := conceptWordSets(drug)
	var out []Allergy
	for _, a := range allergies {
		if a.Status != "active" {
			continue
		}
		if sharesCode(drug, a.Substance) || namesMatch(conceptWordSets(a.Substance), drugNames) {
			out = append(out, a)
		}
	}
	return out
}

func sharesCode(a, b Concept) bool {
	for _, x := range a.Coding {
		for _, y := range b.Coding {
			if x.Code != "" && x.System != "" && x.System == y.System && x.Code == y.Code {
				return true
			}
		}
	}
	return false
}

// namesMatch reports whether all the words of one substance name are among
// the words of one drug name.
func namesMatch(substance, drug []map[string]bool) bool {
	for _, s := range substance {
		for _, d := range drug {
			if wordSubset(s, d) {
				return true
			}
		}
	}
	return false
}

func wordSubset(small, big map[string]bool) bool {
	if len(small) == 0 {
		return false
	}
	for w := range small {
		if !big[w] {
			return false
		}
	}
	return true
}

// conceptWordSets returns the folded words of each of c's names: its text
// and its codings' displays.
func conceptWordSets(c Concept) []map[string]bool {
	var sets []map[string]bool
	add := func(name string) {
		words := map[string]bool{}
		for _, w := range foldedWords(name) {
			words[w] = true
		}
		if len(words) > 0 {
			sets = append(sets, words)
		}
	}
	add(c.Text)
	for _, cd := range c.Coding {
		add(cd.Display)
	}
	return sets
}

// foldedWords splits s into words of letters and digits, lower-cased and
// with accents removed ("Pénicilline-G" gives "penicilline", "g").
func foldedWords(s string) []string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.Is(unicode.Mn, r): // a combining accent
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if f, ok := accentFold[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteRune(r)
			}
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// accentFold maps the lower-case Latin letters with diacritics (Latin-1
// and Latin Extended-A) to their base letters. ehr uses the standard
// library only, so this stands in for Unicode decomposition.
var accentFold = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ĳ': "ij", 'ø': "o", 'đ': "d", 'ħ': "h", 'ł': "l", 'ŧ': "t", 'ı': "i", 'ſ': "s", 'þ': "th", 'ð': "d"}
	for base, variants := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćĉċč", "d": "ď", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥ",
		"i": "ìíîïĩīĭį", "j": "ĵ", "k": "ķ", "l": "ĺļľŀ", "n": "ñńņňŉ", "o": "òóôõöōŏő",
		"r": "ŕŗř", "s": "śŝşš", "t": "ţť", "u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	} {
		for _, r := range variants {
			if unicode.IsLetter(r) && r > unicode.MaxASCII {
				m[r] = base
			}
		}
	}
	return m
}()
