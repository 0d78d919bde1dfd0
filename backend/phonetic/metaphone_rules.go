package phonetic

// The letters with the most context-dependent Double Metaphone rules. Each
// encodeX method codes the letter at index i and returns the index of the
// next letter to look at.

func (e *encoder) encodeC(i int) int {
	// Germanic -ach- (bacher, macher), but not -achi- or -ache-.
	if i > 1 && !e.vowel(i-2) && e.at(i-1, "ACH") && e.char(i+2) != 'I' &&
		(e.char(i+2) != 'E' || e.at(i-2, "BACHER", "MACHER")) {
		e.add("K")
		return i + 2
	}
	if i == 0 && e.at(i, "CAESAR") {
		e.add("S")
		return i + 2
	}
	if e.at(i, "CHIA") { // Italian: chianti
		e.add("K")
		return i + 2
	}
	if e.at(i, "CH") {
		return e.encodeCH(i)
	}
	if e.at(i, "CZ") && !e.at(i-2, "WICZ") { // czerny
		e.add2("S", "X")
		return i + 2
	}
	if e.at(i+1, "CIA") { // focaccia
		e.add("X")
		return i + 3
	}
	// Double C, but not McClellan.
	if e.at(i, "CC") && !(i == 1 && e.char(0) == 'M') {
		// bellocchio, but not bacchus
		if e.at(i+2, "I", "E", "H") && !e.at(i+2, "HU") {
			if (i == 1 && e.char(0) == 'A') || e.at(i-1, "UCCEE", "UCCES") {
				e.add("KS") // accident, accede, succeed
			} else {
				e.add("X") // bacci, bertucci
			}
			return i + 3
		}
		e.add("K") // Pierce's rule
		return i + 2
	}
	if e.at(i, "CK", "CG", "CQ") {
		e.add("K")
		return i + 2
	}
	if e.at(i, "CI", "CE", "CY") {
		if e.at(i, "CIO", "CIE", "CIA") { // Italian vs. English
			e.add2("S", "X")
		} else {
			e.add("S")
		}
		return i + 2
	}
	e.add("K")
	switch {
	case e.at(i+1, " C", " Q", " G"): // mac caffrey, mac gregor
		return i + 3
	case e.at(i+1, "C", "K", "Q") && !e.at(i+1, "CE", "CI"):
		return i + 2
	}
	return i + 1
}

// encodeCH codes CH at i.
func (e *encoder) encodeCH(i int) int {
	if i > 0 && e.at(i, "CHAE") { // michael
		e.add2("K", "X")
		return i + 2
	}
	// Greek roots: chemistry, chorus, character, charisma; not chore.
	if i == 0 && (e.at(i+1, "HARAC", "HARIS") || e.at(i+1, "HOR", "HYM", "HIA", "HEM")) &&
		!e.at(0, "CHORE") {
		e.add("K")
		return i + 2
	}
	// Germanic, Greek or otherwise CH for a KH sound.
	if e.germanic() ||
		e.at(i-2, "ORCHES", "ARCHIT", "ORCHID") || // orchestra, architect, orchid
		e.at(i+2, "T", "S") ||
		((e.at(i-1, "A", "O", "U", "E") || i == 0) &&
			// wachtler, wechsler, but not tichner
			e.at(i+2, "L", "R", "N", "M", "B", "H", "F", "V", "W", " ")) {
		e.add("K")
	} else if i > 0 {
		if e.at(0, "MC") { // mchugh
			e.add("K")
		} else {
			e.add2("X", "K")
		}
	} else {
		e.add("X")
	}
	return i + 2
}

func (e *encoder) encodeG(i int) int {
	switch e.char(i + 1) {
	case 'H':
		return e.encodeGH(i)
	case 'N':
		switch {
		case i == 1 && e.vowel(0) && !e.slavo: // agnes
			e.add2("KN", "N")
		case !e.at(i+2, "EY") && !e.slavo: // not cagney
			e.add2("N", "KN")
		default:
			e.add("KN")
		}
		return i + 2
	}
	if e.at(i+1, "LI") && !e.slavo { // tagliaro
		e.add2("KL", "L")
		return i + 2
	}
	// Initial ges-, gep-, gel-, gie-, gy- ...
	if i == 0 && (e.char(i+1) == 'Y' ||
		e.at(i+1, "ES", "EP", "EB", "EL", "EY", "IB", "IL", "IN", "IE", "EI", "ER")) {
		e.add2("K", "J")
		return i + 2
	}
	// -ger-, -gy-
	if (e.at(i+1, "ER") || e.char(i+1) == 'Y') &&
		!e.at(0, "DANGER", "RANGER", "MANGER") &&
		!e.at(i-1, "E", "I") && !e.at(i-1, "RGY", "OGY") {
		e.add2("K", "J")
		return i + 2
	}
	// Italian: biaggi
	if e.at(i+1, "E", "I", "Y") || e.at(i-1, "AGGI", "OGGI") {
		switch {
		case e.germanic() || e.at(i+1, "ET"): // obviously Germanic
			e.add("K")
		case e.at(i+1, "IER "): // always soft with a French ending
			e.add("J")
		default:
			e.add2("J", "K")
		}
		return i + 2
	}
	e.add("K")
	return e.skipDouble(i)
}

// encodeGH codes GH at i.
func (e *encoder) encodeGH(i int) int {
	if i > 0 && !e.vowel(i-1) {
		e.add("K")
		return i + 2
	}
	if i == 0 { // ghislane, ghiradelli
		if e.char(i+2) == 'I' {
			e.add("J")
		} else {
			e.add("K")
		}
		return i + 2
	}
	// Parker's rule, refined: silent in hugh, bough, broughton.
	if (i > 1 && e.at(i-2, "B", "H", "D")) ||
		(i > 2 && e.at(i-3, "B", "H", "D")) ||
		(i > 3 && e.at(i-4, "B", "H")) {
		return i + 2
	}
	// laugh, mclaughlin, cough, gough, rough, tough
	if i > 2 && e.char(i-1) == 'U' && e.at(i-3, "C", "G", "L", "R", "T") {
		e.add("F")
	} else if e.char(i-1) != 'I' {
		e.add("K")
	}
	return i + 2
}

func (e *encoder) encodeJ(i int) int {
	// Obviously Spanish: jose, san jacinto.
	if e.at(i, "JOSE") || e.at(0, "SAN ") {
		if (i == 0 && e.char(i+4) == ' ') || e.at(0, "SAN ") {
			e.add("H")
		} else {
			e.add2("J", "H")
		}
		return i + 1
	}
	switch {
	case i == 0:
		e.add2("J", "A") // Yankelovich / Jankelowicz
	case e.vowel(i-1) && !e.slavo && (e.char(i+1) == 'A' || e.char(i+1) == 'O'):
		e.add2("J", "H") // Spanish: bajador
	case i == e.last:
		e.add2("J", "")
	case !e.at(i+1, "L", "T", "K", "S", "N", "M", "B", "Z") && !e.at(i-1, "S", "K", "L"):
		e.add("J")
	}
	return e.skipDouble(i)
}

func (e *encoder) encodeS(i int) int {
	// island, isle, carlisle, carlysle
	if e.at(i-1, "ISL", "YSL") {
		return i + 1
	}
	if i == 0 && e.at(i, "SUGAR") {
		e.add2("X", "S")
		return i + 1
	}
	if e.at(i, "SH") {
		if e.at(i+1, "HEIM", "HOEK", "HOLM", "HOLZ") { // Germanic
			e.add("S")
		} else {
			e.add("X")
		}
		return i + 2
	}
	// Italian and Armenian: -sio-, -sia-, -sian.
	if e.at(i, "SIO", "SIA") || e.at(i, "SIAN") {
		if e.slavo {
			e.add("S")
		} else {
			e.add2("S", "X")
		}
		return i + 3
	}
	// German and anglicisations (smith/schmidt, snider/schneider), and the
	// Slavic -sz- (pronounced S in Hungarian).
	if (i == 0 && e.at(i+1, "M", "N", "L", "W")) || e.at(i+1, "Z") {
		e.add2("S", "X")
		if e.at(i+1, "Z") {
			return i + 2
		}
		return i + 1
	}
	if e.at(i, "SC") {
		return e.encodeSC(i)
	}
	// French final -ais, -ois: resnais, artois.
	if i == e.last && e.at(i-2, "AI", "OI") {
		e.add2("", "S")
	} else {
		e.add("S")
	}
	if e.at(i+1, "S", "Z") {
		return i + 2
	}
	return i + 1
}

// encodeSC codes SC at i (Schlesinger's rule).
func (e *encoder) encodeSC(i int) int {
	if e.char(i+2) == 'H' {
		// Dutch origin: school, schooner, schermerhorn, schenker.
		if e.at(i+3, "OO", "ER", "EN", "UY", "ED", "EM") {
			if e.at(i+3, "ER", "EN") {
				e.add2("X", "SK")
			} else {
				e.add("SK")
			}
			return i + 3
		}
		if i == 0 && !e.vowel(3) && e.char(3) != 'W' {
			e.add2("X", "S")
		} else {
			e.add("X")
		}
		return i + 3
	}
	if e.at(i+2, "I", "E", "Y") {
		e.add("S")
		return i + 3
	}
	e.add("SK")
	return i + 3
}

func (e *encoder) encodeT(i int) int {
	if e.at(i, "TION") {
		e.add("X")
		return i + 3
	}
	if e.at(i, "TIA", "TCH") {
		e.add("X")
		return i + 3
	}
	if e.at(i, "TH") || e.at(i, "TTH") {
		// thomas, thames, or Germanic
		if e.at(i+2, "OM", "AM") || e.germanic() {
			e.add("T")
		} else {
			e.add2("0", "T")
		}
		return i + 2
	}
	e.add("T")
	if e.at(i+1, "T", "D") {
		return i + 2
	}
	return i + 1
}

func (e *encoder) encodeW(i int) int {
	// W can also be in the middle of a word.
	if e.at(i, "WR") {
		e.add("R")
		return i + 2
	}
	if i == 0 && (e.vowel(i+1) || e.at(i, "WH")) {
		if e.vowel(i + 1) {
			e.add2("A", "F") // Wasserman should match Vasserman
		} else {
			e.add("A") // Uomo should match Womo
		}
	}
	// Arnow should match Arnoff.
	if (i == e.last && e.vowel(i-1)) ||
		e.at(i-1, "EWSKI", "EWSKY", "OWSKI", "OWSKY") || e.at(0, "SCH") {
		e.add2("", "F")
		return i + 1
	}
	if e.at(i, "WICZ", "WITZ") { // Polish: filipowicz
		e.add2("TS", "FX")
		return i + 4
	}
	return i + 1
}
