package syncproto

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DeviceID is a device's name on the wire: the first 16 bytes of the
// SHA-256 of its Ed25519 public key, in lower-case hex. A device knows
// its id before it enrolls, and an id can never name another key.
func DeviceID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:16])
}

// ValidDeviceID reports whether s has the form of a DeviceID.
func ValidDeviceID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ValidID reports whether s is usable as a record or version id: 1 to
// MaxIDLength characters from A-Z, a-z, 0-9 and ".", "_", ":", "-"
// (a UUID is one). Ids are routing metadata the server sees; a client
// never puts patient data in them.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// ValidClinicID reports whether s is usable as a clinic id: as ValidID,
// at most 40 characters, starting with a letter or digit.
func ValidClinicID(s string) bool {
	return ValidID(s) && len(s) <= 40 && (s[0] >= '0' && s[0] <= '9' || s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z')
}

// ValidName reports whether s is usable as a device or clinic name: 1
// to MaxNameLength characters of valid UTF-8, printable, not only spaces.
func ValidName(s string) bool {
	if !utf8.ValidString(s) || strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > MaxNameLength {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Enrollment tokens are 160 random bits written as eight groups of four
// Crockford base32 characters. Case, spaces and hyphens do not matter;
// O reads as 0 and I, L as 1. The server keeps only TokenHash.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewToken returns a new enrollment token from r (crypto/rand when nil).
func NewToken(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var raw [20]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", fmt.Errorf("enrollment token: %w", err)
	}
	var b strings.Builder
	var acc uint64
	bits, n := 0, 0
	for _, c := range raw {
		acc = acc<<8 | uint64(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			if n > 0 && n%4 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(crockford[(acc>>bits)&31])
			n++
		}
	}
	return b.String(), nil
}

// NormalizeToken returns the canonical form of a typed token (32
// upper-case Crockford characters), or false if it cannot be one.
func NormalizeToken(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > unicode.MaxASCII || !strings.ContainsRune(crockford, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != 32 {
		return "", false
	}
	return b.String(), true
}

// TokenHash is what the server stores of a token: SHA-256 over a domain
// line and the canonical token. The token carries 160 random bits, so a
// slow hash would add nothing.
func TokenHash(canonical string) [32]byte {
	return sha256.Sum256([]byte("outpost-enroll-token/1\n" + canonical))
}

// Fingerprint is the SHA-256 of a certificate's DER bytes as upper-case
// hex pairs joined by colons, as `openssl x509 -fingerprint -sha256`
// prints it. A client pins the server's certificate by it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// ParseFingerprint reads a fingerprint typed in any case, with or
// without colons or spaces, or pasted from openssl's output.
func ParseFingerprint(s string) ([32]byte, bool) {
	var out [32]byte
	if i := strings.LastIndexByte(s, '='); i >= 0 { // "sha256 Fingerprint=AB:CD:…"
		s = s[i+1:]
	}
	clean := strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s))
	if len(clean) != 64 {
		return out, false
	}
	if _, err := hex.Decode(out[:], []byte(clean)); err != nil {
		return out, false
	}
	return out, true
}

// PinnedTLS returns a client TLS configuration that accepts exactly the
// server certificate whose Fingerprint is fp (pinned at enrollment),
// whatever its names or issuer, over TLS 1.2 or later.
func PinnedTLS(fp [32]byte) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is not checked against a CA: VerifyConnection checks
		// the one certificate that may be presented.
		InsecureSkipVerify: true, // #nosec G402 -- the pin below is the check
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || sha256.Sum256(cs.PeerCertificates[0].Raw) != fp {
				return errors.New("syncproto: the server's certificate is not the one pinned at enrollment")
			}
			return nil
		},
	}
}
