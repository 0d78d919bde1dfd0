package auth

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/ccojocar/zxcvbn-go"
	"golang.org/x/crypto/argon2"

	"outpost/backend/ehr"
)

// Params are argon2id cost parameters for password hashes.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultParams: 64 MiB, 3 passes, 2 lanes — above OWASP's minimum
// (19 MiB, 2 passes, 1 lane); about 0.2 s on a 2-core laptop.
var DefaultParams = Params{MemoryKiB: 64 * 1024, Time: 3, Threads: 2}

// Password length limits, in characters.
const (
	MinPassword = 12
	MaxPassword = 256
)

var errHashFormat = errors.New("password hash: bad format")

// Hash returns the PHC string of an argon2id hash of password.
func Hash(rand io.Reader, password string, p Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	sum := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// Verify reports whether password matches the PHC string hash, comparing
// in constant time.
func Verify(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errHashFormat
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errHashFormat
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, errHashFormat
	}
	if p.MemoryKiB < 8*1024 || p.MemoryKiB > 4*1024*1024 || p.Time < 1 || p.Time > 50 || p.Threads < 1 {
		return false, errHashFormat
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errHashFormat
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) != 32 {
		return false, errHashFormat
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// CheckPassword returns a message for a password that may not be used,
// or "" when it is acceptable: at least 12 characters, not built on the
// username or name, and not common or guessable. Common and breached
// passwords are found by zxcvbn's frequency lists (passwords from public
// breach corpora, names and words) and its pattern matchers.
func CheckPassword(password, username, name string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return "The password has characters that cannot be used."
	case n < MinPassword:
		return fmt.Sprintf("Use at least %d characters.", MinPassword)
	case n > MaxPassword:
		return fmt.Sprintf("Use at most %d characters.", MaxPassword)
	case username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)):
		return "The password must not contain the username."
	case len(distinct(password)) < 5:
		return "Use more different characters."
	}
	inputs := append([]string{username, "outpost", "clinic", "health"}, strings.Fields(strings.ToLower(name))...)
	if zxcvbn.PasswordStrength(password, inputs).Score < minScore {
		return "This password is too common or too easy to guess. Use a longer phrase of unrelated words."
	}
	return ""
}

// minScore is the lowest zxcvbn score (0–4) accepted: 3 is "safely
// unguessable" against offline attacks on a slow hash.
const minScore = 3

// DifferingPositions counts the character positions at which a and b
// differ; positions beyond the shorter one all differ (S21).
func DifferingPositions(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	n := len(ra) - len(rb)
	for i := range rb {
		if ra[i] != rb[i] {
			n++
		}
	}
	return n
}

func distinct(s string) map[rune]bool {
	m := map[rune]bool{}
	for _, r := range s {
		m[r] = true
	}
	return m
}

// ValidUsername reports whether s is a usable username: 2 to 64 of a–z,
// 0–9, '.', '_' and '-', starting with a letter.
func ValidUsername(s string) bool {
	if len(s) < 2 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// NormalizeUsername trims and lower-cases a typed username.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func invalid(field, msg string) error {
	return &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.", Fields: map[string]string{field: msg}}
}
