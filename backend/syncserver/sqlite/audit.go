package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"outpost/backend/syncserver"
)

const (
	qAuditHead = "SELECT c.device, c.clinic, c.audit_device, c.anchor_seq, c.anchor_hash, c.head_seq, c.head_hash, c.events, c.updated_at, " +
		"k.seq, k.hash, k.at, k.signature, k.received_at FROM audit_chains c " +
		"LEFT JOIN audit_checkpoints k ON k.device = c.device AND k.seq = (SELECT max(seq) FROM audit_checkpoints WHERE device = c.device)"
	qAuditInsertEvent = "INSERT INTO audit_events (device, seq, hash, line, received_at) VALUES (?, ?, ?, ?, ?)"
	qAuditCheckpoint  = "SELECT hash, at, signature FROM audit_checkpoints WHERE device = ? AND seq = ?"
	qAuditInsertCP    = "INSERT INTO audit_checkpoints (device, seq, hash, at, signature, received_at) VALUES (?, ?, ?, ?, ?, ?)"
	qAlerts           = "SELECT id, kind, source, clinic, device, at, message, acknowledged_at FROM alerts"
)

func scanAuditHead(row interface{ Scan(...any) error }) (syncserver.AuditHead, error) {
	var h syncserver.AuditHead
	var updated sql.NullInt64
	var cpSeq, cpReceived sql.NullInt64
	var cpHash, cpAt sql.NullString
	var cpSig []byte
	if err := row.Scan(&h.Device, &h.Clinic, &h.AuditDevice, &h.AnchorSeq, &h.AnchorHash, &h.Seq, &h.Hash, &h.Events, &updated,
		&cpSeq, &cpHash, &cpAt, &cpSig, &cpReceived); err != nil {
		return h, err
	}
	h.Updated = fromMS(updated)
	if cpSeq.Valid {
		h.Checkpoint = syncserver.AuditCheckpoint{Seq: cpSeq.Int64, Hash: cpHash.String, At: cpAt.String, Signature: cpSig, Received: fromMS(cpReceived)}
	}
	return h, nil
}

func (s *Store) AuditHead(ctx context.Context, device string) (syncserver.AuditHead, error) {
	h, err := scanAuditHead(s.r.QueryRowContext(ctx, qAuditHead+" WHERE c.device = ?", device))
	if errors.Is(err, sql.ErrNoRows) {
		return syncserver.AuditHead{Device: device}, nil
	}
	if err != nil {
		return h, fmt.Errorf("audit head: %w", err)
	}
	return h, nil
}

func (s *Store) AuditHeads(ctx context.Context) ([]syncserver.AuditHead, error) {
	rows, err := s.r.QueryContext(ctx, qAuditHead+" ORDER BY c.clinic, c.device")
	if err != nil {
		return nil, fmt.Errorf("audit heads: %w", err)
	}
	defer rows.Close()
	var out []syncserver.AuditHead
	for rows.Next() {
		h, err := scanAuditHead(rows)
		if err != nil {
			return nil, fmt.Errorf("audit heads: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *Store) AuditEvents(ctx context.Context, device string, after int64, limit int) ([]syncserver.AuditEvent, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT seq, hash, line, received_at FROM audit_events WHERE device = ? AND seq > ? ORDER BY seq LIMIT ?",
		device, after, limit)
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", err)
	}
	defer rows.Close()
	var out []syncserver.AuditEvent
	for rows.Next() {
		var e syncserver.AuditEvent
		var received sql.NullInt64
		if err := rows.Scan(&e.Seq, &e.Hash, &e.Line, &received); err != nil {
			return nil, fmt.Errorf("audit events: %w", err)
		}
		e.Received = fromMS(received)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Store) AuditCheckpoints(ctx context.Context, device string) ([]syncserver.AuditCheckpoint, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT seq, hash, at, signature, received_at FROM audit_checkpoints WHERE device = ? ORDER BY seq", device)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []syncserver.AuditCheckpoint
	for rows.Next() {
		var c syncserver.AuditCheckpoint
		var received sql.NullInt64
		if err := rows.Scan(&c.Seq, &c.Hash, &c.At, &c.Signature, &received); err != nil {
			return nil, fmt.Errorf("audit checkpoints: %w", err)
		}
		c.Received = fromMS(received)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Store) AppendAudit(ctx context.Context, a syncserver.AuditAppend) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	defer tx.Rollback()
	var auditDevice, headHash string
	var headSeq int64
	err = tx.QueryRowContext(ctx, "SELECT audit_device, head_seq, head_hash FROM audit_chains WHERE device = ?", a.Device).
		Scan(&auditDevice, &headSeq, &headHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if a.Start == nil || a.After != a.Start.Seq || a.AfterHash != a.Start.Hash {
			return syncserver.ErrAuditMoved
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO audit_chains (device, clinic, audit_device, anchor_seq, anchor_hash, head_seq, head_hash, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			a.Device, a.Clinic, a.AuditDevice, a.Start.Seq, a.Start.Hash, a.Start.Seq, a.Start.Hash, ms(a.At)); err != nil {
			if isConstraint(err) {
				return syncserver.ErrAuditMoved
			}
			return fmt.Errorf("append audit: %w", err)
		}
	case err != nil:
		return fmt.Errorf("append audit: %w", err)
	case auditDevice != a.AuditDevice:
		return syncserver.ErrAuditMismatch
	case headSeq != a.After || headHash != a.AfterHash:
		return syncserver.ErrAuditMoved
	}
	if len(a.Events) > 0 {
		insert, err := tx.PrepareContext(ctx, qAuditInsertEvent)
		if err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
		defer insert.Close()
		for _, e := range a.Events {
			// sqlcheck: the statement is qAuditInsertEvent, prepared; these are its values.
			if _, err := insert.ExecContext(ctx, a.Device, e.Seq, e.Hash, e.Line, ms(a.At)); err != nil {
				if isConstraint(err) {
					return syncserver.ErrAuditMoved
				}
				return fmt.Errorf("append audit: %w", err)
			}
		}
		last := a.Events[len(a.Events)-1]
		if _, err := tx.ExecContext(ctx, "UPDATE audit_chains SET head_seq = ?, head_hash = ?, events = events + ?, updated_at = ? WHERE device = ?",
			last.Seq, last.Hash, len(a.Events), ms(a.At), a.Device); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
	}
	for _, c := range a.Checkpoints {
		var hash, at string
		var sig []byte
		err := tx.QueryRowContext(ctx, qAuditCheckpoint, a.Device, c.Seq).Scan(&hash, &at, &sig)
		switch {
		case err == nil:
			if hash != c.Hash || at != c.At || !bytes.Equal(sig, c.Signature) {
				return syncserver.ErrAuditMismatch
			}
			continue
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("append audit: %w", err)
		}
		if _, err := tx.ExecContext(ctx, qAuditInsertCP, a.Device, c.Seq, c.Hash, c.At, c.Signature, ms(a.At)); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
	}
	if len(a.Events) == 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE audit_chains SET updated_at = ? WHERE device = ?", ms(a.At), a.Device); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

func scanAlert(row interface{ Scan(...any) error }) (syncserver.Alert, error) {
	var a syncserver.Alert
	var at, ack sql.NullInt64
	if err := row.Scan(&a.ID, &a.Kind, &a.Source, &a.Clinic, &a.Device, &at, &a.Message, &ack); err != nil {
		return a, err
	}
	a.At, a.Acknowledged = fromMS(at), fromMS(ack)
	return a, nil
}

func (s *Store) RaiseAlert(ctx context.Context, a syncserver.Alert) (syncserver.Alert, bool, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return a, false, fmt.Errorf("raise alert: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "INSERT INTO alerts (kind, source, clinic, device, at, message) VALUES (?, ?, ?, ?, ?, ?) "+
		"ON CONFLICT (device, kind, source, at) DO NOTHING", a.Kind, a.Source, a.Clinic, a.Device, ms(a.At), a.Message)
	if err != nil {
		return a, false, fmt.Errorf("raise alert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return a, false, fmt.Errorf("raise alert: %w", err)
	}
	stored, err := scanAlert(tx.QueryRowContext(ctx, qAlerts+" WHERE device = ? AND kind = ? AND source = ? AND at = ?", a.Device, a.Kind, a.Source, ms(a.At)))
	if err != nil {
		return a, false, fmt.Errorf("raise alert: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return a, false, fmt.Errorf("raise alert: %w", err)
	}
	return stored, n == 1, nil
}

func (s *Store) Alerts(ctx context.Context, limit int) ([]syncserver.Alert, error) {
	rows, err := s.r.QueryContext(ctx, qAlerts+" ORDER BY at DESC, id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	defer rows.Close()
	var out []syncserver.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *Store) AcknowledgeAlert(ctx context.Context, id int64, at time.Time) error {
	res, err := s.w.ExecContext(ctx, "UPDATE alerts SET acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL", ms(at), id)
	if err != nil {
		return fmt.Errorf("acknowledge alert: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("acknowledge alert: %w", err)
	} else if n == 0 {
		return syncserver.ErrNotFound
	}
	return nil
}
