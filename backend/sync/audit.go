package sync

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"outpost/backend/audit"
	"outpost/backend/syncproto"
)

// Audit shipping (S31, S33; docs/sync-protocol.md, "Audit shipping"):
// the laptop copies its audit trail to the clinic server, which checks
// the chain and answers with a receipt signed by its own key; the
// laptop then marks the checkpoint acknowledged off the device, which is
// what keeps audit.ShippingState from falling overdue.
//
// The server's receipt key is pinned in the vault (meta
// "sync_receipt_key") the first time the laptop ships: it is learnt from
// GET /v1/audit/state over the connection whose certificate was pinned
// at enrollment, so it is as trustworthy as the enrollment itself. A
// server that later presents another key is refused (ErrReceiptKey).

// The meta keys of audit shipping: the pinned receipt key, and the
// latest receipt (JSON), kept as evidence of the copy off the laptop.
const (
	metaReceiptKey = "sync_receipt_key"
	metaReceipt    = "sync_audit_receipt"
)

// Batches: at most shipBatch events and shipBatchBytes of event lines
// (well under syncproto.MaxAuditDecoded) per shipment. Tests lower them.
var shipBatch, shipBatchBytes = syncproto.MaxAuditBatch, 4 << 20

// ShipResult says what one ShipAudit did.
type ShipResult struct {
	Sent    int // events sent
	Stored  int // events new to the server
	Batches int
	// Acknowledged is the checkpoint the server's receipt covers, now
	// acknowledged off this device; zero when there was nothing to ship.
	Acknowledged audit.Checkpoint
	Receipt      syncproto.Receipt // the last receipt
}

// Errors of ShipAudit.
var (
	// ErrReceiptKey: the server's receipt key is not the one pinned.
	ErrReceiptKey = errors.New("sync: the server's audit receipt key is not the pinned one")
	// ErrBadReceipt: a receipt does not verify or does not cover what
	// was sent.
	ErrBadReceipt = errors.New("sync: the server's audit receipt does not hold")
)

// ShipAudit copies the audit trail of the vault db (its read-write
// handle, as backend/audit expects; log is the vault's open audit.Log)
// to the server: it signs a checkpoint of the newest event unless one
// covers it, sends the events the server lacks in batches (the last with
// the checkpoint), verifies each receipt with the pinned receipt key,
// and acknowledges the checkpoint. alerts are the laptop's alerts; the
// unacknowledged ones travel as kind and time only. A refusal of the
// chain (syncproto.CodeAuditRefused) is alerted as "audit-refused".
func (c *Client) ShipAudit(ctx context.Context, db *sql.DB, log *audit.Log, alerts ...audit.Alert) (ShipResult, error) {
	var res ShipResult
	cp, err := log.Checkpoint(ctx)
	if err != nil {
		return res, err
	}
	var st syncproto.AuditState
	if err := c.call(ctx, http.MethodGet, syncproto.PathAuditState, nil, &st); err != nil {
		return res, err
	}
	key, err := c.pinReceiptKey(ctx, db, st.ReceiptKey)
	if err != nil {
		return res, err
	}
	device, _, err := audit.PublicKey(ctx, db)
	if err != nil {
		return res, err
	}
	var open []syncproto.AuditAlert
	for _, a := range alerts {
		if a.AcknowledgedAt.IsZero() && syncproto.ValidAlertKind(a.Kind) && len(open) < syncproto.MaxAuditAlerts {
			open = append(open, syncproto.AuditAlert{Kind: a.Kind, At: a.At.UTC()})
		}
	}
	if cp.Seq == 0 || (!cp.AcknowledgedAt.IsZero() && st.Seq >= cp.Seq && len(open) == 0) {
		return res, nil // nothing to ship, or shipped and acknowledged before
	}
	after := st.Seq
	var anchor *syncproto.AuditAnchor
	if st.Seq == 0 {
		a, acp, err := audit.AnchorCheckpoint(ctx, db)
		if err != nil {
			return res, err
		}
		if a.Seq > 0 {
			after = a.Seq
			anchor = &syncproto.AuditAnchor{Seq: a.Seq, Hash: a.Hash, Checkpoint: wireCheckpoint(acp)}
		}
	}
	for {
		lines, err := audit.EventLines(ctx, db, after, cp.Seq, shipBatch, shipBatchBytes)
		if err != nil {
			return res, err
		}
		sh := syncproto.AuditShipment{Device: device, Anchor: anchor, Alerts: open, Events: make([]json.RawMessage, len(lines))}
		for i, l := range lines {
			sh.Events[i] = l
		}
		last := after + int64(len(lines))
		want := syncproto.Receipt{Seq: last}
		if len(lines) > 0 {
			want.Hash = lineHash(lines[len(lines)-1])
		}
		if last >= cp.Seq {
			w := wireCheckpoint(cp)
			sh.Checkpoint = &w
			want.Seq, want.Hash = cp.Seq, cp.Hash
		}
		var resp syncproto.AuditResponse
		if err := c.call(ctx, http.MethodPost, syncproto.PathAudit, sh, &resp); err != nil {
			var pe *syncproto.Error
			if errors.As(err, &pe) && pe.Code == syncproto.CodeAuditRefused {
				c.alert("audit-refused", "The clinic server refused this laptop's audit trail: it does not continue the copy the server holds. Tell the security officer.")
			}
			return res, err
		}
		r := resp.Receipt
		if !r.Verify(key) || r.Device != c.Signer.Device || r.Seq != want.Seq || r.Hash != want.Hash {
			c.alert("audit-receipt", "The clinic server's receipt for this laptop's audit trail does not verify. Tell the security officer.")
			return res, ErrBadReceipt
		}
		res.Batches++
		res.Sent += len(lines)
		res.Stored += resp.Stored
		res.Receipt = r
		anchor, open, after = nil, nil, last
		if sh.Checkpoint != nil {
			break
		}
	}
	if cp.AcknowledgedAt.IsZero() {
		if err := acknowledge(ctx, db, cp.Seq, res.Receipt); err != nil {
			return res, err
		}
		cp.AcknowledgedAt = res.Receipt.ReceivedAt.UTC()
	}
	res.Acknowledged = cp
	return res, nil
}

// acknowledge marks checkpoint seq acknowledged at the receipt's time
// and keeps the receipt, in one transaction.
func acknowledge(ctx context.Context, db *sql.DB, seq int64, r syncproto.Receipt) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("acknowledge audit checkpoint: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("acknowledge audit checkpoint: %w", err)
	}
	defer tx.Rollback()
	if err := audit.Acknowledge(ctx, tx, seq, r.ReceivedAt); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		metaReceipt, string(raw)); err != nil {
		return fmt.Errorf("keep the audit receipt: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("acknowledge audit checkpoint: %w", err)
	}
	return nil
}

// LastReceipt returns the server's receipt for the newest checkpoint
// acknowledged by shipping (the server's signed word that it holds this
// laptop's trail up to it); false when there is none yet.
func LastReceipt(ctx context.Context, db *sql.DB) (syncproto.Receipt, bool, error) {
	var raw string
	err := db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaReceipt).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return syncproto.Receipt{}, false, nil
	}
	if err != nil {
		return syncproto.Receipt{}, false, fmt.Errorf("audit receipt: %w", err)
	}
	var r syncproto.Receipt
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return syncproto.Receipt{}, false, fmt.Errorf("audit receipt: %w", err)
	}
	return r, true, nil
}

// pinReceiptKey returns the pinned receipt key, pinning got when none is.
func (c *Client) pinReceiptKey(ctx context.Context, db *sql.DB, got []byte) (ed25519.PublicKey, error) {
	if len(got) != ed25519.PublicKeySize {
		return nil, ErrBadReceipt
	}
	pinned, err := ReceiptKey(ctx, db)
	if err != nil {
		return nil, err
	}
	if pinned == nil {
		if _, err := db.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", metaReceiptKey, base64.StdEncoding.EncodeToString(got)); err != nil {
			return nil, fmt.Errorf("pin the receipt key: %w", err)
		}
		return got, nil
	}
	if !bytes.Equal(pinned, got) {
		c.alert("audit-receipt-key", "The clinic server signs audit receipts with another key than the one this laptop pinned. Audit shipping stopped; tell the security officer.")
		return nil, ErrReceiptKey
	}
	return pinned, nil
}

// ReceiptKey returns the server's receipt key pinned in the vault, nil
// when none is yet.
func ReceiptKey(ctx context.Context, db *sql.DB) (ed25519.PublicKey, error) {
	var pinned string
	err := db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaReceiptKey).Scan(&pinned)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pinned receipt key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(pinned)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, errors.New("sync: the pinned receipt key is damaged")
	}
	return key, nil
}

func wireCheckpoint(c audit.Checkpoint) syncproto.AuditCheckpoint {
	return syncproto.AuditCheckpoint{Seq: c.Seq, Hash: c.Hash, At: c.At.UTC().Format(time.RFC3339Nano), Signature: c.Signature}
}

// lineHash reads the hash member of an event line.
func lineHash(line []byte) string {
	var e struct {
		Hash string `json:"hash"`
	}
	json.Unmarshal(line, &e)
	return e.Hash
}
