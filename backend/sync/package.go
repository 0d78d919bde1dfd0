package sync

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"outpost/backend/seal"
	"outpost/backend/syncproto"
)

// An enrollment package is what a new laptop needs to join its clinic:
// the server's address and certificate fingerprint, a one-time enrollment
// token, and the clinic key. An administrator makes it on an enrolled
// laptop; it is sealed under a one-time code that is typed on the new
// laptop (argon2id), so the file alone, on a USB stick or in a message,
// gives nothing away.

// PackageFormat names the sealed file's format.
const PackageFormat = "outpost-enrollment/1"

// Package is an enrollment package's contents.
type Package struct {
	Server      string `json:"server"`      // https://host:port
	Fingerprint string `json:"fingerprint"` // of the server's certificate
	Token       string `json:"token"`       // one-time enrollment token
	ClinicKey   string `json:"clinicKey"`   // hex
	ClinicName  string `json:"clinicName"`
}

// codeAlphabet is Crockford's base 32: no I, L, O or U to misread.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewCode returns a one-time code of 20 characters (100 random bits) in
// four groups, e.g. "7K2QM-9XW4T-B3N8R-HV6JD".
func NewCode(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, 20)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("one-time code: %w", err)
	}
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(codeAlphabet[int(c)%32]) // 256 is a multiple of 32: no bias
	}
	return s.String(), nil
}

// normalizeCode accepts a code typed in any case, with or without dashes
// and spaces, and with O, I and L read as 0, 1 and 1.
func normalizeCode(s string) string {
	s = strings.ToUpper(s)
	s = strings.NewReplacer("-", "", " ", "", "O", "0", "I", "1", "L", "1").Replace(s)
	return s
}

// SealPackage seals p under a one-time code.
func SealPackage(p Package, code string, c seal.Costs, rnd io.Reader, w io.Writer) error {
	if _, err := seal.ParseKey(p.ClinicKey); err != nil {
		return err
	}
	if _, ok := syncproto.ParseFingerprint(p.Fingerprint); !ok || !strings.HasPrefix(p.Server, "https://") || p.Token == "" {
		return fmt.Errorf("enrollment package: incomplete")
	}
	plain, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	return seal.WithPassphrase(PackageFormat, plain, normalizeCode(code), c, rnd, w)
}

// OpenPackage opens a package with the code typed on the new laptop.
func OpenPackage(data []byte, code string) (Package, error) {
	plain, err := seal.OpenPassphrase(PackageFormat, bytes.NewReader(data), normalizeCode(code), 64<<10)
	if err != nil {
		return Package{}, err
	}
	var p Package
	if err := json.Unmarshal(plain, &p); err != nil {
		return Package{}, seal.ErrFile
	}
	if _, err := seal.ParseKey(p.ClinicKey); err != nil {
		return Package{}, seal.ErrFile
	}
	return p, nil
}
