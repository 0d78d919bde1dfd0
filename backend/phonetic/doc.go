// Package phonetic provides the text normalisation and phonetic keys used by
// the offline patient search.
//
// Names in rural clinic registers are written in many ways: with or without
// accents, in upper or lower case, with apostrophes and hyphens, and with
// spellings that differ but sound alike ("Mohammed", "Muhammad", "Mohamed").
// The package offers two layers:
//
//   - Fold and Tokens normalise free text: lower case, diacritics removed,
//     Latin letters folded to ASCII where a standard folding exists,
//     punctuation turned into word breaks. Letters of scripts without an
//     ASCII folding (Cyrillic, Arabic, Ethiopic, CJK, ...) are kept, lower
//     cased, so such names remain searchable by exact (folded) match.
//
//   - DoubleMetaphone and Keys compute Lawrence Philips' Double Metaphone
//     codes for one word. Two spellings are considered to sound alike when
//     they share at least one key.
//
// A typical index stores, for every token of a patient's name, the token
// itself and its Keys; a query is tokenised the same way and matched on
// either.
//
// All functions are pure, safe for concurrent use, and never panic.
package phonetic
