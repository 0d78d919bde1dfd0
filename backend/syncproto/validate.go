package syncproto

import (
	"crypto/ed25519"
	"errors"
	"fmt"
)

// ErrInvalid wraps every validation failure; the detail names the field
// and the position, never a value.
var ErrInvalid = errors.New("syncproto: invalid")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Validate checks a push before anything is stored: 1 to MaxBatch
// versions, valid and distinct ids, at most MaxParents valid parents
// (none the version itself), sealed bytes present and at most MaxSealed.
func (p PushRequest) Validate() error {
	if len(p.Versions) == 0 || len(p.Versions) > MaxBatch {
		return invalid("a push holds 1 to %d versions, not %d", MaxBatch, len(p.Versions))
	}
	seen := make(map[string]struct{}, len(p.Versions))
	for i, v := range p.Versions {
		if !ValidID(v.Record) {
			return invalid("version %d: bad record id", i)
		}
		if !ValidID(v.ID) {
			return invalid("version %d: bad version id", i)
		}
		if _, dup := seen[v.ID]; dup {
			return invalid("version %d: id repeated in the batch", i)
		}
		seen[v.ID] = struct{}{}
		if len(v.Parents) > MaxParents {
			return invalid("version %d: %d parents", i, len(v.Parents))
		}
		for j, p := range v.Parents {
			if !ValidID(p) || p == v.ID {
				return invalid("version %d: bad parent %d", i, j)
			}
		}
		if len(v.Sealed) == 0 || len(v.Sealed) > MaxSealed {
			return invalid("version %d: sealed size %d", i, len(v.Sealed))
		}
	}
	return nil
}

// Validate checks an enrollment request's fields (the token's form, the
// key's size, the name).
func (e EnrollRequest) Validate() error {
	if _, ok := NormalizeToken(e.Token); !ok {
		return invalid("token has not the form of one")
	}
	if len(e.PublicKey) != ed25519.PublicKeySize {
		return invalid("public key of %d bytes", len(e.PublicKey))
	}
	if !ValidName(e.Name) {
		return invalid("bad device name")
	}
	return nil
}
