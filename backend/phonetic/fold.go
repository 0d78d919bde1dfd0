package phonetic

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// letterFolds maps lower-case letters that have no Unicode decomposition to
// their conventional ASCII spelling. Letters that do decompose (é, ñ, ç, å,
// ş, ơ, ...) are handled by compatibility decomposition plus removal of the
// combining marks and need no entry here.
//
// Besides the usual European letters the table covers letters of African
// orthographies (Hausa, Ewe, Akan, Fula, Bambara, ...) that clerks commonly
// write without the special letter.
var letterFolds = map[rune]string{
	'ß': "ss", // German sharp s (ẞ lower-cases to ß)
	'æ': "ae",
	'œ': "oe",
	'ø': "o",
	'đ': "d", // Croatian, Vietnamese
	'ð': "d", // Icelandic eth
	'þ': "th",
	'ł': "l",
	'ı': "i", // Turkish dotless i
	'ħ': "h",
	'ŧ': "t",
	'ĸ': "k",
	'ŋ': "ng",
	'ɛ': "e", // open e
	'ɔ': "o", // open o
	'ə': "e", // schwa
	'ǝ': "e", // turned e
	'ɓ': "b",
	'ɗ': "d",
	'ɖ': "d",
	'ƙ': "k",
	'ƴ': "y",
	'ɲ': "ny",
	'ʋ': "v",
	'ɣ': "g",
	'ƒ': "f",
	'ɩ': "i",
	'ɨ': "i",
	'ʊ': "u",
	'ʉ': "u",
	'ɑ': "a",
	'ʒ': "z",
	'ɠ': "g",
	'ƭ': "t",
	'ʈ': "t",
	'ɦ': "h",
	'ƥ': "p",
	'ɱ': "m",
	'ɳ': "n",
	'ɽ': "r",
	'ɾ': "r",
	'ɫ': "l",
	'ƚ': "l",
	'ȼ': "c",
	'ɇ': "e",
	'ɉ': "j",
	'ɍ': "r",
	'ɏ': "y",
	'ƀ': "b",
	'ƈ': "c",
	'ƌ': "d",
	'ȥ': "z",
	'ƶ': "z",
	'ɵ': "o",
	'ǥ': "g",
}

// isApostrophe reports whether r is an apostrophe or a similar mark that is
// written inside names (O'Brien, N’Dour, Hawaiʻi, Ismaʿil) and is dropped
// rather than treated as a word break. Glottal-stop letters are included:
// registers write them inconsistently, if at all.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`',
		'\u00B4', // ´ acute accent
		'\u2018', // ‘
		'\u2019', // ’
		'\u201B', // ‛
		'\u2032', // ′ prime
		'\u02B9', // ʹ modifier prime
		'\u02BB', // ʻ okina
		'\u02BC', // ʼ modifier apostrophe
		'\u02BD', // ʽ
		'\u02BE', // ʾ hamza (transliteration)
		'\u02BF', // ʿ ayn (transliteration)
		'\u02C0', // ˀ
		'\u0294', // ʔ glottal stop
		'\u0241', // Ɂ
		'\u0242', // ɂ
		'\u055A', // Armenian apostrophe
		'\u05F3', // Hebrew geresh
		'\uA78B', // Ꞌ saltillo
		'\uA78C', // ꞌ saltillo
		'\uFF07': // fullwidth apostrophe
		return true
	}
	return false
}

// isIgnorable reports whether r is an invisible formatting character (soft
// hyphen, zero-width joiners, directional marks, byte-order mark) or the
// Arabic tatweel. They are dropped so that they never split a word. The
// zero-width space is the exception: it separates words.
func isIgnorable(r rune) bool {
	if r == '\u200B' {
		return false
	}
	return r == '\u0640' || unicode.Is(unicode.Cf, r)
}

// stripsMarks reports whether combining marks following the letter r are
// diacritics to remove. That is the case for Latin and Greek, and for Arabic
// and Hebrew whose vowel points are optional. In other scripts (Cyrillic й,
// Devanagari vowel signs, Thai tone marks, ...) marks are part of the
// spelling and are kept.
func stripsMarks(r rune) bool {
	return r < utf8.RuneSelf || unicode.In(r, unicode.Latin, unicode.Greek,
		unicode.Arabic, unicode.Hebrew, unicode.Common, unicode.Inherited)
}

// folder accumulates the output of Fold.
type folder struct {
	buf       []byte
	keepMarks bool // combining marks after the previous letter are kept
}

func (f *folder) space() {
	if n := len(f.buf); n > 0 && f.buf[n-1] != ' ' {
		f.buf = append(f.buf, ' ')
	}
	f.keepMarks = false
}

func (f *folder) ascii(c byte) {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		f.buf = append(f.buf, c)
		f.keepMarks = false
	case 'A' <= c && c <= 'Z':
		f.buf = append(f.buf, c+'a'-'A')
		f.keepMarks = false
	case c == '\'' || c == '`':
		// dropped
	default:
		f.space()
	}
}

// rune folds one rune of NFKD-decomposed input. depth guards the rare
// re-decomposition of a lower-cased letter.
func (f *folder) rune(r rune, depth int) {
	if r < utf8.RuneSelf {
		f.ascii(byte(r))
		return
	}
	if isApostrophe(r) || isIgnorable(r) {
		return
	}
	if unicode.IsMark(r) {
		if f.keepMarks {
			f.buf = utf8.AppendRune(f.buf, r)
		}
		return
	}
	lr := unicode.ToLower(r)
	if lr < utf8.RuneSelf {
		f.ascii(byte(lr))
		return
	}
	if s, ok := letterFolds[lr]; ok {
		f.buf = append(f.buf, s...)
		f.keepMarks = false
		return
	}
	if !unicode.IsLetter(lr) && !unicode.IsNumber(lr) {
		f.space()
		return
	}
	if lr != r && depth == 0 {
		// A lower-case form is not necessarily decomposed itself.
		if s := string(lr); !norm.NFKD.IsNormalString(s) {
			for _, d := range norm.NFKD.String(s) {
				f.rune(d, depth+1)
			}
			return
		}
	}
	f.buf = utf8.AppendRune(f.buf, lr)
	f.keepMarks = !stripsMarks(lr)
}

// Fold returns s lowercased with diacritics removed and letters folded to
// ASCII where a standard folding exists (é→e, ñ→n, ü→u, ç→c, ß→ss, æ→ae,
// œ→oe, ø→o, å→a, đ→d, ł→l, ı→i, þ→th, ð→d ...).
//
// Apostrophes and similar marks inside words are dropped (O'Brien → obrien,
// N’Dour → ndour), as are invisible formatting characters such as the soft
// hyphen or zero-width joiner; every other non-letter, non-digit rune
// becomes a single space; runs of spaces collapse; the result is trimmed.
// Compatibility forms are unified (ﬁ → fi, fullwidth Ａ → a, ² → 2).
// Letters with no ASCII folding (e.g. Cyrillic, Arabic, Ethiopic, CJK) are
// kept lowercased, not dropped, in Unicode normalisation form C. Invalid
// UTF-8 bytes are treated as spaces.
//
// Fold is idempotent: Fold(Fold(s)) == Fold(s).
func Fold(s string) string {
	f := folder{}
	if isASCII(s) {
		f.buf = make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ {
			f.ascii(s[i])
		}
		return string(trimSpace(f.buf))
	}

	// Drop apostrophes before decomposing: NFKD would turn the spacing
	// acute accent ´ (often typed for an apostrophe) into space + mark.
	s = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError: // also what invalid bytes decode to
			return ' '
		case isApostrophe(r), isIgnorable(r):
			return -1
		}
		return r
	}, s)
	s = norm.NFKD.String(s)

	f.buf = make([]byte, 0, len(s))
	for _, r := range s {
		f.rune(r, 0)
	}
	out := trimSpace(f.buf)
	if isASCII(string(out)) {
		return string(out)
	}
	return norm.NFC.String(string(out))
}

// Tokens returns the space-separated words of Fold(s), in order, without
// empty strings and without duplicates. It returns nil when s has no words.
func Tokens(s string) []string {
	words := strings.Fields(Fold(s))
	if len(words) == 0 {
		return nil
	}
	out := words[:0]
	if len(words) > 16 {
		seen := make(map[string]struct{}, len(words))
		for _, w := range words {
			if _, dup := seen[w]; !dup {
				seen[w] = struct{}{}
				out = append(out, w)
			}
		}
		return out
	}
	for _, w := range words {
		if !contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func trimSpace(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == ' ' {
		b = b[:n-1]
	}
	return b
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
