package syncproto

import (
	"crypto/ed25519"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Audit shipping (S31, S33; docs/sync-protocol.md, "Audit shipping").
//
// A device sends its audit events in order (the event lines of an
// export, docs/audit-format.md: they name patients and records by id
// only) with, in the last batch, the signed checkpoint of the last
// event. The server checks that the chain continues exactly from what it
// already holds for the device, and that the checkpoint verifies under
// the device's key (the same Ed25519 key that signs its requests), stores
// them in one transaction, and answers with a Receipt signed by its own
// Ed25519 receipt key. The device verifies the receipt with the key it
// pinned at its first shipment and marks the checkpoint acknowledged off
// the device. A shipment that breaks the chain is refused
// (CodeAuditRefused), raises a server alert, and stores nothing.

// PathAudit takes shipments (POST); PathAuditState tells where the
// server's copy of the device's chain ends, and the server's receipt key
// (GET).
const (
	PathAudit      = "/v1/audit"
	PathAuditState = "/v1/audit/state"
)

// Audit shipping limits.
const (
	// MaxAuditBatch is the most events one shipment carries.
	MaxAuditBatch = 1000
	// MaxAuditLine is the longest event line (as audit.MaxLine).
	MaxAuditLine = 1 << 20
	// MaxAuditBody is the largest shipment as sent (compressed); once
	// decompressed it may hold MaxAuditDecoded bytes.
	MaxAuditBody    = 8 << 20
	MaxAuditDecoded = 32 << 20
	// MaxAuditAlerts is the most device alerts one shipment carries.
	MaxAuditAlerts = 100
	// MaxAlertKind bounds an alert's kind.
	MaxAlertKind = 40
)

// AuditShipment is the body of POST /v1/audit: events after the end of
// the server's copy, in order, and (in the last batch) the checkpoint of
// the last one.
type AuditShipment struct {
	// Device is the audit trail's own device id (the header's "device"
	// in an export): every checkpoint signs it. It never changes for a
	// sync device.
	Device string `json:"device"`
	// Anchor is set only on a device's first shipment when its chain
	// starts after purged events (an export of format outpost-audit/2).
	Anchor *AuditAnchor `json:"anchor,omitempty"`
	// Events are export lines, each exactly the canonical JSON of one
	// event (hash included), in order of seq without gaps.
	Events []json.RawMessage `json:"events"`
	// Checkpoint is the device's signed checkpoint of the last event of
	// this shipment, or of an event the server already holds; nil in a
	// batch that is not the last.
	Checkpoint *AuditCheckpoint `json:"checkpoint,omitempty"`
	// Alerts are the device's open security alerts: kind and time only,
	// never their text; the server shows its own text for a kind.
	Alerts []AuditAlert `json:"alerts,omitempty"`
}

// AuditAnchor is the last purged event of the device's chain and the
// device's signed checkpoint of it: the chain goes on after it.
type AuditAnchor struct {
	Seq        int64           `json:"seq"`
	Hash       string          `json:"hash"`
	Checkpoint AuditCheckpoint `json:"checkpoint"`
}

// AuditCheckpoint is a device's signed checkpoint as exported: At is the
// exact RFC 3339 text that was signed.
type AuditCheckpoint struct {
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
	At        string `json:"at"`
	Signature []byte `json:"signature"`
}

// AuditAlert is one of a device's open alerts: its kind and when it was
// raised, nothing else.
type AuditAlert struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
}

// AuditResponse answers a shipment: the receipt, and how many of the
// events were new to the server and how many it held already.
type AuditResponse struct {
	Receipt   Receipt `json:"receipt"`
	Stored    int     `json:"stored"`
	Duplicate int     `json:"duplicate"`
}

// AuditState answers GET /v1/audit/state: where the server's copy of the
// device's chain ends (Seq 0 and Hash "" when it holds nothing; Anchor
// is the event it starts after), and the server's receipt key, which the
// device pins.
type AuditState struct {
	Device     string `json:"device"`
	Seq        int64  `json:"seq"`
	Hash       string `json:"hash"`
	Anchor     int64  `json:"anchor"`
	ReceiptKey []byte `json:"receipt_key"`
}

// ReceiptDomain starts every receipt message.
const ReceiptDomain = "outpost-audit-receipt/1"

// Receipt is the server's signed statement that, at ReceivedAt, it holds
// Device's chain (Device is the sync device id) up to event Seq, whose
// hash is Hash, verified. For a shipment with a checkpoint, Seq and Hash
// are the checkpoint's.
type Receipt struct {
	Clinic     string    `json:"clinic"`
	Device     string    `json:"device"`
	Seq        int64     `json:"seq"`
	Hash       string    `json:"hash"`
	ReceivedAt time.Time `json:"received_at"`
	Signature  []byte    `json:"signature"`
}

// Message returns the bytes a receipt's signature covers: ReceiptDomain,
// clinic, device, seq (decimal), hash and received-at (RFC 3339 with
// fractional seconds as needed, UTC), joined by "\n".
func (r Receipt) Message() []byte {
	b := []byte(ReceiptDomain)
	for _, s := range []string{r.Clinic, r.Device, strconv.FormatInt(r.Seq, 10), r.Hash, r.ReceivedAt.UTC().Format(time.RFC3339Nano)} {
		b = append(b, '\n')
		b = append(b, s...)
	}
	return b
}

// Sign sets the receipt's signature by the server's receipt key.
func (r *Receipt) Sign(key ed25519.PrivateKey) {
	r.Signature = ed25519.Sign(key, r.Message())
}

// Verify reports whether the receipt is signed by the server key pub.
func (r Receipt) Verify(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, r.Message(), r.Signature)
}

// Validate checks a shipment's form before anything is read from the
// store: the device id, at most MaxAuditBatch events of at most
// MaxAuditLine bytes, the checkpoints' form, the alerts' kinds. The
// chain itself is the server's to check.
func (a AuditShipment) Validate() error {
	if !validAuditDevice(a.Device) {
		return invalid("bad audit device id")
	}
	if len(a.Events) > MaxAuditBatch {
		return invalid("a shipment holds at most %d events, not %d", MaxAuditBatch, len(a.Events))
	}
	if len(a.Events) == 0 && a.Checkpoint == nil {
		return invalid("a shipment holds events or a checkpoint")
	}
	for i, e := range a.Events {
		if len(e) == 0 || len(e) > MaxAuditLine {
			return invalid("event %d: %d bytes", i, len(e))
		}
	}
	if a.Anchor != nil {
		if a.Anchor.Seq < 1 || !validHash(a.Anchor.Hash) {
			return invalid("bad anchor")
		}
		if err := a.Anchor.Checkpoint.validate(); err != nil {
			return invalid("anchor: %v", err)
		}
	}
	if a.Checkpoint != nil {
		if err := a.Checkpoint.validate(); err != nil {
			return err
		}
	}
	if len(a.Alerts) > MaxAuditAlerts {
		return invalid("%d alerts", len(a.Alerts))
	}
	for i, al := range a.Alerts {
		if !ValidAlertKind(al.Kind) || al.At.IsZero() {
			return invalid("alert %d: bad kind or time", i)
		}
	}
	return nil
}

func (c AuditCheckpoint) validate() error {
	if c.Seq < 1 || !validHash(c.Hash) || len(c.Signature) != ed25519.SignatureSize {
		return invalid("bad checkpoint")
	}
	at, err := time.Parse(time.RFC3339Nano, c.At)
	if err != nil || at.UTC().Format(time.RFC3339Nano) != c.At {
		return invalid("a checkpoint's time is not RFC 3339 UTC")
	}
	return nil
}

// validAuditDevice: the audit device id (a UUID in Outpost) is 1 to
// MaxIDLength characters of ValidID's.
func validAuditDevice(s string) bool { return ValidID(s) }

// ValidAlertKind reports whether s can be an alert's kind: 1 to
// MaxAlertKind characters of a-z, 0-9 and "-".
func ValidAlertKind(s string) bool {
	if len(s) == 0 || len(s) > MaxAlertKind {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validHash reports whether s is 64 lower-case hex digits.
func validHash(s string) bool { return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == "" }
