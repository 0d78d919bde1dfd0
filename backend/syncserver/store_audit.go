package syncserver

import (
	"context"
	"errors"
	"time"
)

// AuditStore keeps the audit chains devices ship (S31, S33) and the
// server's alert list (S35). The server checks a shipment before it
// stores it; the store keeps what it is given, in one transaction, and
// refuses what would contradict what it holds.
type AuditStore interface {
	// AuditHead returns what the store holds of device's chain; the zero
	// AuditHead (with Device set) when it holds nothing.
	AuditHead(ctx context.Context, device string) (AuditHead, error)
	// AuditHeads returns the head of every device with a chain, by
	// clinic then device.
	AuditHeads(ctx context.Context) ([]AuditHead, error)
	// AuditEvents returns device's stored events with seq above after,
	// in order, at most limit.
	AuditEvents(ctx context.Context, device string, after int64, limit int) ([]AuditEvent, error)
	// AuditCheckpoints returns device's stored checkpoints (the anchor's
	// included), by seq.
	AuditCheckpoints(ctx context.Context, device string) ([]AuditCheckpoint, error)
	// AppendAudit stores a checked shipment in one transaction: the
	// chain's start (on the first shipment), the events after a.After
	// and the checkpoints. If the stored chain no longer ends at a.After
	// with hash a.AfterHash (another shipment came first), it returns
	// ErrAuditMoved; if a checkpoint of the same seq is stored with
	// another hash, time or signature, or a.AuditDevice is not the one
	// stored, ErrAuditMismatch. Either way nothing changes. Checkpoints
	// stored before unchanged are kept as they are.
	AppendAudit(ctx context.Context, a AuditAppend) error

	// RaiseAlert stores a new alert and returns it with its ID. An alert
	// of the same device, kind and time (to the millisecond) is stored
	// once: raising it again returns the stored one and false.
	RaiseAlert(ctx context.Context, a Alert) (Alert, bool, error)
	// Alerts returns the alerts, newest first, at most limit.
	Alerts(ctx context.Context, limit int) ([]Alert, error)
	// AcknowledgeAlert marks an alert seen at at; ErrNotFound when there
	// is no such unacknowledged alert.
	AcknowledgeAlert(ctx context.Context, id int64, at time.Time) error
}

// Errors of AppendAudit.
var (
	ErrAuditMoved    = errors.New("syncserver: the audit chain moved on")
	ErrAuditMismatch = errors.New("syncserver: the audit shipment contradicts what is stored")
)

// AuditHead is where a device's stored chain starts and ends.
type AuditHead struct {
	Device      string // the sync device id
	Clinic      string
	AuditDevice string // the audit trail's own device id, signed in every checkpoint
	AnchorSeq   int64  // the chain starts after this event (0: at event 1)
	AnchorHash  string // its hash (auditchain.Genesis for 0)
	Seq         int64  // the last stored event; AnchorSeq when none
	Hash        string // its hash
	Events      int64  // events stored
	Checkpoint  AuditCheckpoint
	Updated     time.Time // the last shipment stored
}

// Empty reports whether the store holds nothing of the chain.
func (h AuditHead) Empty() bool { return h.AuditDevice == "" }

// AuditEvent is one stored event: the export line as shipped, and its
// seq and hash as read from it.
type AuditEvent struct {
	Seq      int64
	Hash     string
	Line     []byte
	Received time.Time
}

// AuditCheckpoint is one stored checkpoint, as the device signed it.
type AuditCheckpoint struct {
	Seq       int64
	Hash      string
	At        string // RFC 3339, exactly as signed
	Signature []byte
	Received  time.Time
}

// AuditAppend is one checked shipment.
type AuditAppend struct {
	Device, Clinic, AuditDevice string
	// After and AfterHash are the stored chain's end the shipment was
	// checked against (AnchorSeq and AnchorHash of a new chain).
	After     int64
	AfterHash string
	// Start is set on the first shipment: the anchor the chain starts
	// after (Seq 0 and auditchain.Genesis without one).
	Start       *AuditStart
	Events      []AuditEvent
	Checkpoints []AuditCheckpoint
	At          time.Time
}

// AuditStart is where a new chain starts.
type AuditStart struct {
	Seq  int64
	Hash string
}

// Alert is one entry of the server's alert list (S35). Message is fixed
// text chosen by the server for the kind: it never holds patient data,
// nor anything a device typed.
type Alert struct {
	ID           int64
	Kind         string
	Source       string // AlertFromServer or AlertFromDevice
	Clinic       string
	Device       string
	At           time.Time
	Message      string
	Acknowledged time.Time // zero until acknowledged
}

// Alert sources.
const (
	AlertFromServer = "server"
	AlertFromDevice = "device"
)
