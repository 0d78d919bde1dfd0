// Package totp implements time-based one-time passwords (RFC 6238 over
// RFC 4226 HOTP, HMAC-SHA1, 6 digits, 30-second steps: the parameters every
// authenticator app understands) and recovery codes, for multi-factor
// sign-in.
//
// Time and randomness are always passed in: nothing here calls time.Now or
// reads crypto/rand by itself, so callers decide the clock and tests are
// deterministic.
package totp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
)

const (
	secretLen    = 20 // bytes, the RFC 4226 recommendation for HMAC-SHA1
	minSecretLen = 16 // bytes, the RFC 4226 minimum (128 bits)
	digits       = 6
	modulus      = 1_000_000 // 10^digits
	period       = 30        // seconds per step
	defaultIss   = "Outpost"
)

// Secret is a TOTP shared secret (20 random bytes).
type Secret []byte

// NewSecret reads 20 bytes from r (normally crypto/rand.Reader).
func NewSecret(r io.Reader) (Secret, error) {
	s := make(Secret, secretLen)
	if _, err := io.ReadFull(r, s); err != nil {
		return nil, fmt.Errorf("totp secret: %w", err)
	}
	return s, nil
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Base32 returns the secret as unpadded, upper-case RFC 4648 base32, the
// form people type into an authenticator app.
func (s Secret) Base32() string {
	return b32.EncodeToString(s)
}

// ParseBase32 reads a secret back from base32: case-insensitive, white space
// anywhere ignored, trailing "=" padding optional. Secrets shorter than
// 128 bits (the RFC 4226 minimum) are refused.
func ParseBase32(s string) (Secret, error) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	clean := strings.TrimRight(b.String(), "=")
	if clean == "" {
		return nil, errors.New("totp secret: empty")
	}
	raw, err := b32.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("totp secret: bad base32: %w", err)
	}
	// The decoder tolerates a dangling final symbol and non-zero spare bits;
	// a secret has exactly one spelling, so anything else is a typing error.
	if b32.EncodeToString(raw) != clean {
		return nil, errors.New("totp secret: bad base32: wrong length or last symbol")
	}
	if len(raw) < minSecretLen {
		return nil, fmt.Errorf("totp secret: %d bytes, want at least %d", len(raw), minSecretLen)
	}
	return Secret(raw), nil
}

// URI returns the otpauth://totp/ key URI for an authenticator app (usually
// shown as a QR code): label "<issuer>:<account>", issuer parameter, SHA1,
// 6 digits, 30-second period. An empty issuer means "Outpost". Issuer and
// account are percent-encoded byte by byte (everything but RFC 3986
// unreserved characters, so a space is %20 and a colon %3A), which keeps the
// label's one literal colon unambiguous.
func URI(s Secret, issuer, account string) string {
	if issuer == "" {
		issuer = defaultIss
	}
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	b.WriteString(escape(issuer))
	b.WriteByte(':')
	b.WriteString(escape(account))
	b.WriteString("?secret=")
	b.WriteString(s.Base32())
	b.WriteString("&issuer=")
	b.WriteString(escape(issuer))
	b.WriteString("&algorithm=SHA1&digits=6&period=30")
	return b.String()
}

// escape percent-encodes every byte of s except RFC 3986 unreserved
// characters (ALPHA / DIGIT / "-" / "." / "_" / "~").
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// Step returns the 30-second step number of t: floor(Unix seconds / 30).
func Step(t time.Time) int64 {
	u := t.Unix() // already floored for times before 1970
	q := u / period
	if u%period < 0 {
		q--
	}
	return q
}

// Code returns the 6-digit code for time t.
func Code(s Secret, t time.Time) string {
	return format(hotp(s, Step(t)))
}

// hotp is RFC 4226 HOTP with dynamic truncation, reduced to 6 digits.
func hotp(s Secret, counter int64) uint32 {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, s)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return v % modulus
}

// format renders v as exactly 6 decimal digits, with leading zeros.
func format(v uint32) string {
	var buf [digits]byte
	for i := digits - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return string(buf[:])
}

// Verify checks a typed code (white space ignored, otherwise exactly six
// ASCII digits) against the steps of t-30s, t and t+30s, allowing one step
// of clock drift either way, and returns the matched step.
//
// Steps <= lastUsed are refused, so a code cannot be replayed: the caller
// stores the returned step and passes it as lastUsed next time (0 before the
// first sign-in). If the code happens to match more than one step, the
// latest is returned, so the same digits cannot be accepted again in a later
// step. The three candidates are always all computed and compared in
// constant time. A secret shorter than 128 bits (for example an empty one
// from a damaged record) never verifies.
func Verify(s Secret, code string, t time.Time, lastUsed int64) (step int64, ok bool) {
	if len(s) < minSecretLen {
		return 0, false
	}
	typed, valid := normaliseCode(code)
	if !valid {
		return 0, false
	}
	now := Step(t)
	var matched int64
	found := 0
	for _, c := range [...]int64{now - 1, now, now + 1} {
		eq := subtle.ConstantTimeCompare([]byte(format(hotp(s, c))), typed)
		fresh := 0
		if c > lastUsed {
			fresh = 1
		}
		hit := eq & fresh
		// Later candidates overwrite earlier ones: the latest match wins.
		matched = int64(hit)*c + int64(1-hit)*matched
		found |= hit
	}
	if found == 0 {
		return 0, false
	}
	return matched, true
}

// normaliseCode drops white space and returns the code's bytes if what is
// left is exactly six ASCII digits.
func normaliseCode(code string) ([]byte, bool) {
	var buf [digits]byte
	n := 0
	for _, r := range code {
		if unicode.IsSpace(r) {
			continue
		}
		if r < '0' || r > '9' || n == digits {
			return nil, false
		}
		buf[n] = byte(r)
		n++
	}
	if n != digits {
		return nil, false
	}
	return buf[:], true
}
