package audit

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/seal"
)

// Off-device copies (S31, S33). A checkpoint is "acknowledged off this
// device" once a copy of the chain up to it is confirmed elsewhere: by the
// clinic server (the sync issue) or, for a clinic that never gets online,
// by a sealed copy on removable media that is read back and verified
// against this vault. When the newest acknowledged checkpoint is older
// than ShipWithin, the officer is alarmed.

// ShipWithin is how old the newest acknowledged checkpoint may get.
const ShipWithin = 7 * 24 * time.Hour

// AlertUnshipped is raised when the audit trail has not left the device
// for longer than ShipWithin.
const AlertUnshipped = "audit-unshipped"

// Shipping is the off-device state of this device's audit trail.
type Shipping struct {
	Acknowledged Checkpoint // the newest acknowledged checkpoint; zero when none
	Latest       Checkpoint // the newest checkpoint
	Since        time.Time  // what the age counts from: the acknowledged checkpoint, else the first event
	Overdue      bool
}

// ShippingState reads the off-device state at now.
func ShippingState(ctx context.Context, q querier, now time.Time) (Shipping, error) {
	cps, err := Checkpoints(ctx, q)
	if err != nil {
		return Shipping{}, err
	}
	var s Shipping
	for _, c := range cps {
		if c.Seq > s.Latest.Seq {
			s.Latest = c
		}
		if !c.AcknowledgedAt.IsZero() && c.Seq > s.Acknowledged.Seq {
			s.Acknowledged = c
		}
	}
	s.Since = s.Acknowledged.At
	if s.Acknowledged.Seq == 0 {
		var first sql.NullString
		if err := q.QueryRowContext(ctx, "SELECT min(at) FROM audit").Scan(&first); err != nil {
			return Shipping{}, fmt.Errorf("shipping state: %w", err)
		}
		if !first.Valid {
			return s, nil // nothing to ship yet
		}
		s.Since, _ = time.Parse(timeFormat, first.String)
	}
	s.Overdue = now.Sub(s.Since) > ShipWithin
	return s, nil
}

// CheckShipping raises AlertUnshipped when the trail is overdue and no
// such alert is open yet; it reports the state.
func CheckShipping(ctx context.Context, db *sql.DB, alerts *Alerts, now time.Time) (Shipping, error) {
	s, err := ShippingState(ctx, db, now)
	if err != nil || !s.Overdue {
		return s, err
	}
	days := int(now.Sub(s.Since).Hours() / 24)
	msg := fmt.Sprintf("The audit trail of this laptop has not been copied off it for %d days. Sync with the clinic server, or save a sealed copy to removable media and confirm it.", days)
	_, err = alerts.RaiseOnce(ctx, db, AlertUnshipped, msg)
	return s, err
}

// SealFormat names the sealed copy's format; its first line is a JSON
// header with it.
const SealFormat = "outpost-audit-sealed/1"

// SealParams are the argon2id costs that turn a passphrase into the
// sealing key.
type SealParams = seal.Costs

// DefaultSeal costs about as much as the vault's passphrase key file.
var DefaultSeal = seal.DefaultCosts

// MinSealPassphrase is the shortest passphrase a sealed copy accepts.
const MinSealPassphrase = 12

// ErrSealed is wrapped by every failure to open a sealed copy.
var ErrSealed = seal.ErrFile

// Seal encrypts an exported chain (Export's output) under a passphrase
// (seal.WithPassphrase, format SealFormat).
func Seal(plain []byte, passphrase string, p SealParams, rnd io.Reader, w io.Writer) error {
	if len([]rune(passphrase)) < MinSealPassphrase {
		return &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{"passphrase": fmt.Sprintf("Use a passphrase of at least %d characters.", MinSealPassphrase)}}
	}
	return seal.WithPassphrase(SealFormat, plain, passphrase, p, rnd, w)
}

// Unseal reads a sealed copy (at most max bytes) and returns the exported
// chain inside it.
func Unseal(r io.Reader, passphrase string, max int64) ([]byte, error) {
	return seal.OpenPassphrase(SealFormat, r, passphrase, max)
}

// AcknowledgeCopy confirms a copy of this vault's chain made off the
// device: the copy must verify on its own, be signed by this vault's key,
// and its newest checkpoint must be one of this vault's, with the same
// hash and signature. That checkpoint is then acknowledged at now.
func AcknowledgeCopy(ctx context.Context, db *sql.DB, exported []byte, now time.Time) (Checkpoint, error) {
	_, pub, err := PublicKey(ctx, db)
	if err != nil {
		return Checkpoint{}, err
	}
	rep, err := VerifyFile(bytes.NewReader(exported), pub)
	if err != nil {
		return Checkpoint{}, ehr.Wrap(ehr.EInvalid, "The copy does not verify: "+err.Error(), err)
	}
	if rep.Latest.Seq == 0 {
		return Checkpoint{}, ehr.Errorf(ehr.EInvalid, "The copy holds no signed checkpoint to confirm.")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("acknowledge copy: %w", err)
	}
	defer tx.Rollback()
	var hash, ack string
	var sig []byte
	err = tx.QueryRowContext(ctx, "SELECT hash, signature, acknowledged_at FROM audit_checkpoints WHERE seq = ?", rep.Latest.Seq).Scan(&hash, &sig, &ack)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (hash != rep.Latest.Hash || !bytes.Equal(sig, rep.Latest.Signature))) {
		return Checkpoint{}, ehr.Errorf(ehr.EInvalid, "The copy's newest checkpoint is not one of this laptop's.")
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("acknowledge copy: %w", err)
	}
	cp := rep.Latest
	if ack != "" {
		cp.AcknowledgedAt, _ = time.Parse(timeFormat, ack)
		return cp, nil // confirmed before: nothing changes
	}
	if err := Acknowledge(ctx, tx, cp.Seq, now); err != nil {
		return Checkpoint{}, err
	}
	if err := tx.Commit(); err != nil {
		return Checkpoint{}, fmt.Errorf("acknowledge copy: %w", err)
	}
	cp.AcknowledgedAt = now.UTC()
	return cp, nil
}
