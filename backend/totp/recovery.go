package totp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// recoveryAlphabet has 32 lower-case symbols with no look-alikes: no 0/o
// and no 1/l (i stays: without 1 and l its dot sets it apart). 32 symbols
// are 5 bits each, so a 12-symbol code carries 60 bits, and a random byte
// masked to 5 bits picks a symbol uniformly.
const recoveryAlphabet = "23456789abcdefghijkmnpqrstuvwxyz"

const (
	recoveryGroups   = 3
	recoveryGroupLen = 4
	recoverySymbols  = recoveryGroups * recoveryGroupLen
	maxRecoveryCodes = 1000
)

// RecoveryCodes returns n distinct codes of the form "xxxx-xxxx-xxxx" from
// a 32-symbol unambiguous lower-case alphabet (60 bits of entropy each),
// reading randomness from r (normally crypto/rand.Reader); n is at most
// 1000. A duplicate is drawn again; a reader that keeps producing
// duplicates is reported as an error rather than looped on.
func RecoveryCodes(r io.Reader, n int) ([]string, error) {
	if n < 0 || n > maxRecoveryCodes {
		return nil, fmt.Errorf("recovery codes: count %d out of range 0..%d", n, maxRecoveryCodes)
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	var buf [recoverySymbols]byte
	for retries := 0; len(codes) < n; {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return nil, fmt.Errorf("recovery codes: %w", err)
		}
		code := formatRecovery(buf)
		if seen[code] {
			// Probability about n²/2⁶¹ with a real random source.
			if retries++; retries > 3 {
				return nil, errors.New("recovery codes: random source repeats itself")
			}
			continue
		}
		seen[code] = true
		codes = append(codes, code)
	}
	return codes, nil
}

func formatRecovery(buf [recoverySymbols]byte) string {
	var b strings.Builder
	b.Grow(recoverySymbols + recoveryGroups - 1)
	for i, x := range buf {
		if i > 0 && i%recoveryGroupLen == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(recoveryAlphabet[x&31])
	}
	return b.String()
}

// HashRecoveryCode returns the hex SHA-256 of the normalised code (lower
// case, white space and hyphens removed), for storage. The codes carry 60
// random bits, so a fast unsalted hash is enough: there is nothing to
// guess from a dictionary.
func HashRecoveryCode(code string) string {
	var b strings.Builder
	b.Grow(len(code))
	for _, r := range code {
		if r == '-' || unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}
