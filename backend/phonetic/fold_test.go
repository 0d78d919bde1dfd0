package phonetic

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// Case and accents.
		{"José", "jose"},
		{"MÜLLER", "muller"},
		{"François", "francois"},
		{"Nuñez", "nunez"},
		{"Ångström", "angstrom"},
		{"Nguyễn Thị", "nguyen thi"},
		{"Ștefan Țepeș", "stefan tepes"},
		{"İstanbul", "istanbul"},
		{"Jose\u0301", "jose"}, // decomposed accent
		{"\u0301abc", "abc"},   // orphan combining mark

		// Letters without a decomposition.
		{"Straße", "strasse"},
		{"STRAẞE", "strasse"},
		{"Ærø", "aero"},
		{"Œuvre", "oeuvre"},
		{"Søren", "soren"},
		{"Đorđe", "dorde"},
		{"Łukasz", "lukasz"},
		{"Işık", "isik"},
		{"Þór Guðrún", "thor gudrun"},
		{"Ɛkua Ɔwusu", "ekua owusu"},
		{"Ɓello Ɗanjuma", "bello danjuma"},
		{"Ŋɔkɔ", "ngoko"},

		// Apostrophes and similar marks are dropped inside words.
		{"O'Brien", "obrien"},
		{"N’Dour", "ndour"},
		{"d´Arcy", "darcy"},
		{"Hawaiʻi", "hawaii"},
		{"Ismaʿil", "ismail"},
		{"'quoted'", "quoted"},

		// Everything else separates words.
		{"Jean-Pierre", "jean pierre"},
		{"Smith, John", "smith john"},
		{"  a  --  b  ", "a b"},
		{"a\tb\nc\x00d\x7fe", "a b c d e"},
		{"a\u00a0b\u2003c", "a b c"}, // no-break and em spaces
		{"a\u200bb", "a b"},          // zero-width space
		{"Jean\u00adPierre", "jeanpierre"},
		{"a\u200db", "ab"}, // zero-width joiner
		{"Mary (née Smith)", "mary nee smith"},
		{"a\xffb", "a b"}, // invalid UTF-8

		// Compatibility forms.
		{"ﬁne", "fine"},
		{"Ａｂｅ", "abe"},
		{"x²", "x2"},

		// Digits are kept.
		{"Bed 12B", "bed 12b"},

		// Other scripts are kept, lower-cased.
		{"Иван Петров", "иван петров"},
		{"ЙОШКАР-ОЛА", "йошкар ола"},
		{"Ελένη", "ελενη"},
		{"محمد", "محمد"},
		{"مُحَمَّد", "محمد"}, // optional Arabic vowel marks removed
		{"ዮሐንስ ገብረ", "ዮሐንስ ገብረ"},
		{"王小明", "王小明"},
		{"한국어", "한국어"},
		{"नमस्ते", "नमस्ते"},
		{"Abebe ኣበበ", "abebe ኣበበ"},

		// Empty and blank input.
		{"", ""},
		{"   ", ""},
		{"\x00\x01\x1f", ""},
		{"'’", ""},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Jean-Pierre", []string{"jean", "pierre"}},
		{"  Mary-Anne  O'Neil ", []string{"mary", "anne", "oneil"}},
		{"José jose JOSE Josë", []string{"jose"}},
		{"a b a c b", []string{"a", "b", "c"}},
		{"Абебе Abebe", []string{"абебе", "abebe"}},
		{"", nil},
		{" - , ", nil},
	}
	for _, tt := range tests {
		if got := Tokens(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}

	// Long inputs take the map-based de-duplication path.
	long := strings.Repeat("x y z ", 20) + "w"
	if got, want := Tokens(long), []string{"x", "y", "z", "w"}; !slices.Equal(got, want) {
		t.Errorf("Tokens(long) = %q, want %q", got, want)
	}
}

// TestFoldEveryRune checks Fold's invariants for every code point, alone and
// combined with letters and a combining mark.
func TestFoldEveryRune(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r == 0xD800 {
			r = 0xE000 // skip surrogates
		}
		s := string(r)
		checkFold(t, s)
		checkFold(t, "A"+s+"\u0301b")
		checkFold(t, "Ж"+s+"\u0308")
	}
}

// TestFoldLongMarkRuns covers long runs of combining marks, into which
// Unicode normalisation inserts combining grapheme joiners.
func TestFoldLongMarkRuns(t *testing.T) {
	for _, s := range []string{
		"Ж" + strings.Repeat("\u0308", 40),
		"Ж" + strings.Repeat("\u0308\u0323", 40) + "a",
		"한" + strings.Repeat("\u0308", 40),
		"a" + strings.Repeat("\u0308", 100) + "b",
		strings.Repeat("\u0308", 100),
	} {
		checkFold(t, s)
	}
	if got := Fold("a" + strings.Repeat("\u0308", 100) + "b"); got != "ab" {
		t.Errorf("Fold(a + 100 marks + b) = %q, want %q", got, "ab")
	}
}

func checkFold(t *testing.T, in string) {
	t.Helper()
	out := Fold(in)
	if !utf8.ValidString(out) {
		t.Fatalf("Fold(%q) = %q: invalid UTF-8", in, out)
	}
	if strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") || strings.Contains(out, "  ") {
		t.Fatalf("Fold(%q) = %q: bad spacing", in, out)
	}
	if again := Fold(out); again != out {
		t.Fatalf("Fold(%q) = %q, but Fold(%q) = %q", in, out, out, again)
	}
}
