package auditchain

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Genesis is the previous hash of the first event.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// CheckpointDomain starts every signed checkpoint message.
const CheckpointDomain = "outpost-audit-checkpoint/1"

// BreakError names the first event where a chain does not verify.
type BreakError struct {
	Seq    int64
	Line   int // line of an exported file; 0 elsewhere
	Reason string
}

func (e *BreakError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("audit chain breaks at event %d (line %d): %s", e.Seq, e.Line, e.Reason)
	}
	return fmt.Sprintf("audit chain breaks at event %d: %s", e.Seq, e.Reason)
}

// Chain checks events in order: sequence, link to the previous event and
// hash. Next is the seq the next event must have, Prev the hash it must
// follow.
type Chain struct {
	Next int64
	Prev string
	buf  []byte
}

// NewChain starts a chain at event 1, following Genesis.
func NewChain() *Chain { return &Chain{Next: 1, Prev: Genesis, buf: make([]byte, 0, 1024)} }

// After starts the chain after event seq, whose hash is hash (an anchor,
// or the last event already held); seq 0 leaves it at the start.
func (c *Chain) After(seq int64, hash string) *Chain {
	if seq > 0 {
		c.Next, c.Prev = seq+1, hash
	}
	return c
}

// Add checks r as the next event and returns its hash.
func (c *Chain) Add(r *Record) ([32]byte, *BreakError) {
	if r.Seq != c.Next {
		return [32]byte{}, &BreakError{Seq: c.Next, Reason: fmt.Sprintf("missing or out of order (event %d comes next)", r.Seq)}
	}
	if r.PrevHash != c.Prev {
		return [32]byte{}, &BreakError{Seq: r.Seq, Reason: "does not follow the previous event (its previous hash differs)"}
	}
	var sum [32]byte
	sum, c.buf = r.Sum(c.buf)
	var hx [64]byte
	hex.Encode(hx[:], sum[:])
	if string(hx[:]) != r.Hash {
		return [32]byte{}, &BreakError{Seq: r.Seq, Reason: "its content does not match its hash"}
	}
	c.Prev = r.Hash
	c.Next++
	return sum, nil
}

// ParseLine reads an exported event line, refusing (ErrSyntax) one that
// is not exactly the canonical JSON of the event it holds. buf is
// scratch space; the grown buffer is returned.
func ParseLine(line, buf []byte) (Record, []byte, error) {
	r, err := ParseRecord(line)
	if err != nil {
		return r, buf, err
	}
	buf = r.AppendJSON(buf[:0], r.Hash)
	if !bytes.Equal(buf, line) {
		return r, buf, ErrSyntax
	}
	return r, buf, nil
}

// CheckpointMessage returns the exact bytes a checkpoint's signature
// covers: the lines CheckpointDomain, device, seq (decimal), hash
// (lower-case hex) and at (RFC 3339, UTC, as exported), joined by "\n",
// with no final newline.
func CheckpointMessage(device string, seq int64, hash, at string) []byte {
	b := make([]byte, 0, len(CheckpointDomain)+len(device)+len(hash)+len(at)+24)
	b = append(b, CheckpointDomain...)
	b = append(b, '\n')
	b = append(b, device...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, '\n')
	b = append(b, hash...)
	b = append(b, '\n')
	return append(b, at...)
}

// VerifyCheckpoint reports whether sig is pub's signature of the
// checkpoint of event seq with hash, signed at at by device.
func VerifyCheckpoint(pub ed25519.PublicKey, device string, seq int64, hash, at string, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, CheckpointMessage(device, seq, hash, at), sig)
}

// IsHash reports whether s is 64 lower-case hex digits.
func IsHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
