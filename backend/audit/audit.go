// Package audit keeps the append-only, hash-chained audit log. Each event
// carries SHA-256(previous hash ‖ canonical event), so a changed, removed
// or reordered event breaks the chain; triggers in the schema refuse
// UPDATE and DELETE. An event is written in the same transaction as the
// action it records: if it cannot be written, the action fails.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"outpost/backend/ehr"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
	Denied  = "denied"
)

// Genesis is the previous hash of the first event.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Event is one audited action. It names patients and records by id only:
// no patient data is ever in the audit log.
type Event struct {
	Seq         int64     `json:"seq"`
	At          time.Time `json:"at"`
	Username    string    `json:"username"`
	Roles       []string  `json:"roles"`
	Action      string    `json:"action"` // e.g. "patient.register", "user.login"
	Outcome     string    `json:"outcome"`
	PatientID   string    `json:"patientId"`
	RecordID    string    `json:"recordId"`
	Device      string    `json:"device"`
	Workstation string    `json:"workstation"`
	Session     string    `json:"session"`
	Detail      string    `json:"detail"` // free text without patient data
	PrevHash    string    `json:"prevHash"`
	Hash        string    `json:"hash"`
}

// Log appends events for one device.
type Log struct {
	Device      string
	Workstation string
	Now         func() time.Time
}

// Append writes e in tx, after the last event, and returns it as stored.
func (l *Log) Append(ctx context.Context, tx *sql.Tx, e Event) (Event, error) {
	e.At = l.Now().UTC().Truncate(time.Microsecond)
	e.Device = l.Device
	e.Workstation = l.Workstation
	if e.Roles == nil {
		e.Roles = []string{}
	}
	var prev string
	err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").Scan(&e.Seq, &prev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		e.Seq, prev = 0, Genesis
	case err != nil:
		return Event{}, fmt.Errorf("audit append: %w", err)
	}
	e.Seq++
	e.PrevHash = prev
	e.Hash = Hash(e)
	roles, _ := json.Marshal(e.Roles)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit (seq, at, username, roles, action, outcome, patient_id, record_id,
		device, workstation, session, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		e.Seq, e.At.Format(time.RFC3339Nano), e.Username, string(roles), e.Action, e.Outcome, e.PatientID, e.RecordID,
		e.Device, e.Workstation, e.Session, e.Detail, e.PrevHash, e.Hash)
	if err != nil {
		return Event{}, fmt.Errorf("audit append: %w", err)
	}
	return e, nil
}

// Record appends e in a transaction of its own, for actions that write
// nothing else (a failed login, a read).
func (l *Log) Record(ctx context.Context, db *sql.DB, e Event) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	if _, err := l.Append(ctx, tx, e); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	return nil
}

// Hash returns SHA-256 over the previous hash and the canonical JSON of
// the event without its own hash, as lower-case hex.
func Hash(e Event) string {
	e.Hash = ""
	body, err := ehr.Canonical(e)
	if err != nil {
		panic("audit: event does not marshal: " + err.Error()) // every field is a plain value
	}
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// BreakError names the first event where the chain does not verify.
type BreakError struct {
	Seq    int64
	Reason string
}

func (e *BreakError) Error() string {
	return fmt.Sprintf("audit chain breaks at event %d: %s", e.Seq, e.Reason)
}

// Verify walks the whole chain in db and returns the number of events, or
// a *BreakError for the first event that does not verify.
func Verify(ctx context.Context, db *sql.DB) (int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, at, username, roles, action, outcome, patient_id, record_id,
		device, workstation, session, detail, prev_hash, hash FROM audit ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("audit verify: %w", err)
	}
	defer rows.Close()
	prev, want := Genesis, int64(1)
	for rows.Next() {
		var e Event
		var at, roles string
		if err := rows.Scan(&e.Seq, &at, &e.Username, &roles, &e.Action, &e.Outcome, &e.PatientID, &e.RecordID,
			&e.Device, &e.Workstation, &e.Session, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return want - 1, fmt.Errorf("audit verify: %w", err)
		}
		if e.Seq != want {
			return want - 1, &BreakError{Seq: want, Reason: fmt.Sprintf("missing; next event is %d", e.Seq)}
		}
		if e.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return want - 1, &BreakError{Seq: e.Seq, Reason: "bad time"}
		}
		if err := json.Unmarshal([]byte(roles), &e.Roles); err != nil {
			return want - 1, &BreakError{Seq: e.Seq, Reason: "bad roles"}
		}
		if e.PrevHash != prev {
			return want - 1, &BreakError{Seq: e.Seq, Reason: "does not follow the previous event"}
		}
		if Hash(e) != e.Hash {
			return want - 1, &BreakError{Seq: e.Seq, Reason: "content does not match its hash"}
		}
		prev = e.Hash
		want++
	}
	if err := rows.Err(); err != nil {
		return want - 1, fmt.Errorf("audit verify: %w", err)
	}
	return want - 1, nil
}
