package syncproto

import (
	"crypto/ed25519"
	"encoding/json"
	"strconv"
	"time"
)

// Audit shipping (S31, S33) is reserved in this version of the protocol:
// the types are fixed here so the client and the server grow into them,
// but no server route takes them yet.
//
// A device sends its audit events in order (the lines of an export,
// docs/audit-format.md, which hold no patient data) with the signed
// checkpoint that covers the last one; the server checks that the chain
// continues from what it already holds and that the checkpoint verifies
// under the device's key, stores them, and answers with a Receipt signed
// by the server's own Ed25519 key. The device then marks the checkpoint
// acknowledged off the device.

// PathAudit is where audit shipments will be posted.
const PathAudit = "/v1/audit"

// AuditShipment is the body of a shipment: events after the server's
// last receipt for this device, and the checkpoint of the last event.
type AuditShipment struct {
	Events     []json.RawMessage `json:"events"`
	Checkpoint AuditCheckpoint   `json:"checkpoint"`
}

// AuditCheckpoint is a device's signed checkpoint as exported.
type AuditCheckpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	At        time.Time `json:"at"`
	Signature []byte    `json:"signature"`
}

// ReceiptDomain starts every receipt message.
const ReceiptDomain = "outpost-audit-receipt/1"

// Receipt is the server's signed statement that it holds device's chain
// up to event Seq, whose hash is Hash, since ReceivedAt.
type Receipt struct {
	Clinic     string    `json:"clinic"`
	Device     string    `json:"device"`
	Seq        int64     `json:"seq"`
	Hash       string    `json:"hash"`
	ReceivedAt time.Time `json:"received_at"`
	Signature  []byte    `json:"signature"`
}

// Message returns the bytes a receipt's signature covers: ReceiptDomain,
// clinic, device, seq (decimal), hash and received-at (RFC 3339, UTC),
// joined by "\n".
func (r Receipt) Message() []byte {
	b := []byte(ReceiptDomain)
	for _, s := range []string{r.Clinic, r.Device, strconv.FormatInt(r.Seq, 10), r.Hash, r.ReceivedAt.UTC().Format(time.RFC3339Nano)} {
		b = append(b, '\n')
		b = append(b, s...)
	}
	return b
}

// Verify reports whether the receipt is signed by the server key pub.
func (r Receipt) Verify(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, r.Message(), r.Signature)
}
