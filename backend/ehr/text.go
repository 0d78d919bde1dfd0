package ehr

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean trims s and folds runs of white space to one space. It reports
// false when s is not valid UTF-8 or holds control or format characters
// (newlines are allowed only when multiline).
func clean(s string, multiline bool) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	for _, r := range s {
		if r == '\n' && multiline {
			continue
		}
		if r == '\t' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return "", false
		}
	}
	if multiline {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = strings.Join(strings.Fields(l), " ")
		}
		return strings.TrimSpace(strings.Join(lines, "\n")), true
	}
	return strings.Join(strings.Fields(s), " "), true
}

// textField validates free text: any printable characters, at most max.
func textField(v Invalid, field, s string, max int, multiline bool) string {
	s, ok := clean(s, multiline)
	if !ok {
		v.Add(field, "Remove control characters from this field.")
		return ""
	}
	if utf8.RuneCountInString(s) > max {
		v.Add(field, fmt.Sprintf("Use at most %d characters.", max))
		return ""
	}
	return s
}

// charsetField validates a one-line field whose every rune must pass ok.
func charsetField(v Invalid, field, s string, max int, ok func(rune) bool, msg string) string {
	s = textField(v, field, s, max, false)
	if strings.IndexFunc(s, func(r rune) bool { return !ok(r) }) >= 0 {
		v.Add(field, msg)
		return ""
	}
	return s
}

// nameField validates a person's name: letters (any script) with their
// marks, spaces, hyphens, apostrophes and full stops.
func nameField(v Invalid, field, s string, max int) string {
	return charsetField(v, field, s, max, func(r rune) bool {
		return unicode.IsLetter(r) || unicode.IsMark(r) || strings.ContainsRune(" -'’.", r)
	}, "Use letters, spaces, hyphens, apostrophes and full stops only.")
}

// nationalID validates an identity document number: letters, digits,
// spaces, hyphens and slashes.
func nationalID(v Invalid, field, s string) string {
	return charsetField(v, field, s, maxNational, func(r rune) bool {
		return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" -/", r))
	}, "Use letters A–Z, digits, spaces, hyphens and slashes only.")
}

// NormalizeNationalID returns the form national ids are matched by:
// upper case letters and digits only.
func NormalizeNationalID(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// phone validates a telephone number: digits with optional +, spaces,
// hyphens, dots and parentheses; 6 to 20 digits.
func phone(v Invalid, field, s string) string {
	s, ok := clean(s, false)
	if !ok {
		v.Add(field, "Remove control characters from this field.")
		return ""
	}
	if s == "" {
		return ""
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case strings.ContainsRune(" -.()", r):
		default:
			v.Add(field, "Use digits, with + ( ) - and spaces only.")
			return ""
		}
	}
	if digits < 6 || digits > 20 {
		v.Add(field, "A phone number has 6 to 20 digits.")
		return ""
	}
	return s
}
