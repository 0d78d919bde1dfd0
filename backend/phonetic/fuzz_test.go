package phonetic

import (
	"testing"
)

var fuzzSeeds = []string{
	"", "a", "Smith", "Schmidt", "Jose", "Jankelowicz", "cabrillo",
	"O'Brien", "Jean-Pierre", "Straße", "Nguyễn", "Иван", "محمد", "ዮሐንስ",
	"王小明", "GHGHGH", "CCCC", "SCHW", "WICZ", "xxxx", "\x00\xff", "a\u0301",
	"  -- ", "McHugh", "Tagliaro", "\u00ad\u200d", "ﬁ²",
}

func FuzzDoubleMetaphone(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, word string) {
		p, a := DoubleMetaphone(word)
		checkCode(t, word, p)
		checkCode(t, word, a)
		keys := Keys(word)
		for _, k := range keys {
			if k == "" || (k != p && k != a) {
				t.Errorf("Keys(%q) = %q inconsistent with (%q, %q)", word, keys, p, a)
			}
		}
		if len(keys) == 2 && keys[0] == keys[1] {
			t.Errorf("Keys(%q) = %q has duplicates", word, keys)
		}
	})
}

func FuzzFold(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkFold(t, s)
		for _, tok := range Tokens(s) {
			if tok == "" || Fold(tok) != tok {
				t.Errorf("Tokens(%q) has bad token %q", s, tok)
			}
		}
	})
}
