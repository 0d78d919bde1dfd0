package audit

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"outpost/backend/ehr"
)

// Alert kinds.
const (
	AlertLockout    = "lockout"
	AlertBreakGlass = "break-glass"
	AlertConcurrent = "concurrent-session"
	AlertInactive   = "account-disabled"
)

// Alert is a security event the officer and administrators must see.
type Alert struct {
	ID             string
	At             time.Time
	Kind           string
	Message        string // no patient data: ids only
	Username       string
	PatientID      string
	AcknowledgedBy string
	AcknowledgedAt time.Time
}

// Alerts raises and lists alerts.
type Alerts struct {
	Now func() time.Time
	IDs *ehr.IDs
	// Log, when set, records every alert raised as an audit event
	// ("alert.raise") in the same transaction.
	Log *Log
}

// Raise stores an alert inside tx.
func (a *Alerts) Raise(ctx context.Context, tx *sql.Tx, kind, message, username, patientID string) error {
	id, err := a.IDs.New()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO alerts (id, at, kind, message, username, patient_id) VALUES (?,?,?,?,?,?)",
		id, a.Now().UTC().Format(time.RFC3339Nano), kind, message, username, patientID)
	if err != nil {
		return fmt.Errorf("raise alert: %w", err)
	}
	if a.Log != nil {
		if _, err := a.Log.Append(ctx, tx, Event{Username: username, Roles: []string{}, Action: "alert.raise", Outcome: Success,
			PatientID: patientID, RecordID: id, Detail: kind}); err != nil {
			return err
		}
	}
	return nil
}

// List returns the newest alerts first, at most limit.
func (a *Alerts) List(ctx context.Context, db *sql.DB, limit int) ([]Alert, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, at, kind, message, username, patient_id, acknowledged_by, acknowledged_at
		FROM alerts ORDER BY at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var al Alert
		var at, ackAt string
		if err := rows.Scan(&al.ID, &at, &al.Kind, &al.Message, &al.Username, &al.PatientID, &al.AcknowledgedBy, &ackAt); err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		al.At, _ = time.Parse(time.RFC3339Nano, at)
		if ackAt != "" {
			al.AcknowledgedAt, _ = time.Parse(time.RFC3339Nano, ackAt)
		}
		out = append(out, al)
	}
	return out, rows.Err()
}

// Acknowledge marks an alert seen by username, inside tx.
func (a *Alerts) Acknowledge(ctx context.Context, tx *sql.Tx, id, username string) error {
	res, err := tx.ExecContext(ctx, "UPDATE alerts SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ? AND acknowledged_by = ''",
		username, a.Now().UTC().Format(time.RFC3339Nano), id)
	if err != nil {
		return fmt.Errorf("acknowledge alert: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ehr.Errorf(ehr.ENotFound, "No such open alert.")
	}
	return nil
}
