package ehr

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"time"
)

// IDs makes UUIDv7 identifiers (RFC 9562): 48 bits of Unix milliseconds
// then random bits, so ids sort roughly by creation time. Time and
// randomness are injected so tests can fix them.
type IDs struct {
	Now  func() time.Time
	Rand io.Reader
}

// NewIDs returns an IDs using the system clock and crypto/rand.
func NewIDs() *IDs { return &IDs{Now: time.Now, Rand: rand.Reader} }

// New returns a new UUIDv7 in its canonical 36-character form.
func (g *IDs) New() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(g.Rand, b[6:]); err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	ms := uint64(g.Now().UnixMilli())
	b[0] = byte(ms >> 40)
	b[1] = byte(ms >> 32)
	b[2] = byte(ms >> 24)
	b[3] = byte(ms >> 16)
	b[4] = byte(ms >> 8)
	b[5] = byte(ms)
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return formatUUID(b), nil
}

func formatUUID(b [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ValidID reports whether s is a lower-case UUID in canonical form.
func ValidID(s string) bool { return uuidRE.MatchString(s) }
