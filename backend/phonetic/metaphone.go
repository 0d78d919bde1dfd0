package phonetic

// Double Metaphone, after Lawrence Philips, "The Double Metaphone Search
// Algorithm", C/C++ Users Journal, June 2000.
//
// The word is reduced to upper-case ASCII letters and padded with spaces so
// that the rules may look a few letters past its end (several rules test for
// a following space, i.e. the end of the word). Each rule appends to the
// primary code, the alternate code, or both, and advances past the letters
// it consumed. Encoding stops once both codes hold maxCodeLen characters.

const (
	maxCodeLen = 4
	// padding is how far past the last letter the rules may look.
	padding = "     "
)

// DoubleMetaphone returns the primary and alternate Double Metaphone codes
// (Lawrence Philips' algorithm, the standard 4-character maximum) of one
// word. The input may be any string; it is Folded first and only ASCII
// letters a–z are considered, so "O'Brien", "Müller" and "Jean-Pierre" are
// encoded as OBRIEN, MULLER and JEANPIERRE. A word with no ASCII letters
// returns "", "". When the algorithm yields no distinct alternate, alternate
// equals primary. Codes use the usual alphabet (A–Z plus '0' for 'th').
func DoubleMetaphone(word string) (primary, alternate string) {
	src := word
	if !isASCII(src) {
		src = Fold(src)
	}
	var stack [64]byte
	w := stack[:0]
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case 'a' <= c && c <= 'z':
			w = append(w, c-('a'-'A'))
		case 'A' <= c && c <= 'Z':
			w = append(w, c)
		}
	}
	if len(w) == 0 {
		return "", ""
	}
	n := len(w)
	w = append(w, padding...)

	e := encoder{w: w, n: n, last: n - 1}
	e.slavo = e.slavoGermanic()
	e.encode()
	pri, alt := e.pri[:min(e.pn, maxCodeLen)], e.alt[:min(e.an, maxCodeLen)]
	primary = string(pri)
	if string(alt) == primary {
		return primary, primary
	}
	return primary, string(alt)
}

// Keys returns the distinct non-empty phonetic keys of one word (primary,
// then alternate if different). It returns nil when the word has none.
func Keys(word string) []string {
	p, a := DoubleMetaphone(word)
	var keys []string
	if p != "" {
		keys = append(keys, p)
	}
	if a != "" && a != p {
		keys = append(keys, a)
	}
	return keys
}

// encoder holds the state of one Double Metaphone encoding.
type encoder struct {
	w     []byte // upper-case letters followed by padding
	n     int    // number of letters in w
	last  int    // index of the last letter
	slavo bool   // word looks Slavic or Germanic

	// Codes are collected in fixed buffers. Only the first maxCodeLen
	// characters are returned, so anything beyond the buffer is dropped.
	pri, alt [2 * maxCodeLen]byte
	pn, an   int
}

// add appends s to both codes.
func (e *encoder) add(s string) { e.add2(s, s) }

// add2 appends p to the primary and a to the alternate code; an empty
// string appends nothing to that code.
func (e *encoder) add2(p, a string) {
	for i := 0; i < len(p) && e.pn < len(e.pri); i++ {
		e.pri[e.pn] = p[i]
		e.pn++
	}
	for i := 0; i < len(a) && e.an < len(e.alt); i++ {
		e.alt[e.an] = a[i]
		e.an++
	}
}

// char returns the letter at i, a space in the padding, or 0 outside w.
func (e *encoder) char(i int) byte {
	if i < 0 || i >= len(e.w) {
		return 0
	}
	return e.w[i]
}

// vowel reports whether the letter at i (inside the word) is A, E, I, O, U
// or Y.
func (e *encoder) vowel(i int) bool {
	if i < 0 || i >= e.n {
		return false
	}
	switch e.w[i] {
	case 'A', 'E', 'I', 'O', 'U', 'Y':
		return true
	}
	return false
}

// at reports whether one of the candidates occurs at index start.
func (e *encoder) at(start int, candidates ...string) bool {
	if start < 0 {
		return false
	}
	for _, c := range candidates {
		if end := start + len(c); end <= len(e.w) && string(e.w[start:end]) == c {
			return true
		}
	}
	return false
}

// slavoGermanic reports whether the word contains W, K, CZ or WITZ.
func (e *encoder) slavoGermanic() bool {
	for i := 0; i < e.n; i++ {
		switch e.w[i] {
		case 'W', 'K':
			return true
		case 'C':
			if e.w[i+1] == 'Z' {
				return true
			}
		}
	}
	return false
}

// germanic reports whether the word starts like a Germanic name
// ("van ", "von ", "sch").
func (e *encoder) germanic() bool {
	return e.at(0, "VAN ", "VON ") || e.at(0, "SCH")
}

// skipDouble returns the index after the letter at i, skipping a repeat of
// the same letter.
func (e *encoder) skipDouble(i int) int {
	if e.char(i+1) == e.w[i] {
		return i + 2
	}
	return i + 1
}

// encode runs the rules over the whole word.
func (e *encoder) encode() {
	i := 0
	// Silent first letter: gnome, knight, pneumonia, wright, psychology.
	if e.at(0, "GN", "KN", "PN", "WR", "PS") {
		i = 1
	}
	// Initial X sounds like Z (Xavier), which encodes as S.
	if e.w[0] == 'X' {
		e.add("S")
		i = 1
	}

	for (e.pn < maxCodeLen || e.an < maxCodeLen) && i < e.n {
		switch e.w[i] {
		case 'A', 'E', 'I', 'O', 'U', 'Y':
			// Vowels are only coded at the start of the word.
			if i == 0 {
				e.add("A")
			}
			i++
		case 'B':
			// A silent B after M (dumb) was skipped by the M rule.
			e.add("P")
			i = e.skipDouble(i)
		case 'C':
			i = e.encodeC(i)
		case 'D':
			i = e.encodeD(i)
		case 'F', 'K', 'N':
			e.add(string(e.w[i]))
			i = e.skipDouble(i)
		case 'Q':
			e.add("K")
			i = e.skipDouble(i)
		case 'V':
			e.add("F")
			i = e.skipDouble(i)
		case 'G':
			i = e.encodeG(i)
		case 'H':
			// Kept only when first or between vowels; also skips HH.
			if (i == 0 || e.vowel(i-1)) && e.vowel(i+1) {
				e.add("H")
				i += 2
			} else {
				i++
			}
		case 'J':
			i = e.encodeJ(i)
		case 'L':
			i = e.encodeL(i)
		case 'M':
			i = e.encodeM(i)
		case 'P':
			i = e.encodeP(i)
		case 'R':
			i = e.encodeR(i)
		case 'S':
			i = e.encodeS(i)
		case 'T':
			i = e.encodeT(i)
		case 'W':
			i = e.encodeW(i)
		case 'X':
			i = e.encodeX(i)
		case 'Z':
			i = e.encodeZ(i)
		default:
			i++
		}
	}
}

func (e *encoder) encodeD(i int) int {
	if e.at(i, "DG") {
		if e.at(i+2, "I", "E", "Y") { // edge
			e.add("J")
			return i + 3
		}
		e.add("TK") // edgar
		return i + 2
	}
	e.add("T")
	if e.at(i, "DT", "DD") {
		return i + 2
	}
	return i + 1
}

func (e *encoder) encodeL(i int) int {
	if e.char(i+1) != 'L' {
		e.add("L")
		return i + 1
	}
	// Spanish -ll- sounds like Y: cabrillo, gallegos.
	if (i == e.n-3 && e.at(i-1, "ILLO", "ILLA", "ALLE")) ||
		((e.at(e.last-1, "AS", "OS") || e.at(e.last, "A", "O")) && e.at(i-1, "ALLE")) {
		e.add2("L", "")
		return i + 2
	}
	e.add("L")
	return i + 2
}

func (e *encoder) encodeM(i int) int {
	e.add("M")
	// Silent B in dumb, thumb, plumber.
	if (e.at(i-1, "UMB") && (i+1 == e.last || e.at(i+2, "ER"))) || e.char(i+1) == 'M' {
		return i + 2
	}
	return i + 1
}

func (e *encoder) encodeP(i int) int {
	if e.char(i+1) == 'H' {
		e.add("F")
		return i + 2
	}
	e.add("P")
	// campbell, raspberry
	if e.at(i+1, "P", "B") {
		return i + 2
	}
	return i + 1
}

func (e *encoder) encodeR(i int) int {
	// French final -ier (Rogier) but not Germanic -meier, -maier.
	if i == e.last && !e.slavo && e.at(i-2, "IE") && !e.at(i-4, "ME", "MA") {
		e.add2("", "R")
	} else {
		e.add("R")
	}
	return e.skipDouble(i)
}

func (e *encoder) encodeX(i int) int {
	// French final -x is silent: breaux, giroux.
	if !(i == e.last && (e.at(i-3, "IAU", "EAU") || e.at(i-2, "AU", "OU"))) {
		e.add("KS")
	}
	if e.at(i+1, "C", "X") {
		return i + 2
	}
	return i + 1
}

func (e *encoder) encodeZ(i int) int {
	if e.char(i+1) == 'H' { // Chinese pinyin: zhao
		e.add("J")
		return i + 2
	}
	if e.at(i+1, "ZO", "ZI", "ZA") || (e.slavo && i > 0 && e.char(i-1) != 'T') {
		e.add2("S", "TS")
	} else {
		e.add("S")
	}
	return e.skipDouble(i)
}
