package sqlite

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

// isConstraint reports a uniqueness or key violation.
func isConstraint(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}

func (s *Store) CreateClinic(ctx context.Context, c syncserver.Clinic) error {
	_, err := s.w.ExecContext(ctx, "INSERT INTO clinics (id, name, created_at) VALUES (?, ?, ?)", c.ID, c.Name, ms(c.Created))
	if isConstraint(err) {
		return syncserver.ErrExists
	}
	if err != nil {
		return fmt.Errorf("create clinic: %w", err)
	}
	return nil
}

const qClinic = "SELECT id, name, created_at, head FROM clinics"

func scanClinic(row interface{ Scan(...any) error }) (syncserver.Clinic, error) {
	var c syncserver.Clinic
	var created sql.NullInt64
	if err := row.Scan(&c.ID, &c.Name, &created, &c.Head); err != nil {
		return c, err
	}
	c.Created = fromMS(created)
	return c, nil
}

func (s *Store) Clinic(ctx context.Context, id string) (syncserver.Clinic, error) {
	c, err := scanClinic(s.r.QueryRowContext(ctx, qClinic+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, syncserver.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("clinic: %w", err)
	}
	return c, nil
}

func (s *Store) Clinics(ctx context.Context) ([]syncserver.Clinic, error) {
	rows, err := s.r.QueryContext(ctx, qClinic+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("clinics: %w", err)
	}
	defer rows.Close()
	var out []syncserver.Clinic
	for rows.Next() {
		c, err := scanClinic(rows)
		if err != nil {
			return nil, fmt.Errorf("clinics: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Store) AddToken(ctx context.Context, t syncserver.Token) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	defer tx.Rollback()
	var one int
	if err := tx.QueryRowContext(ctx, "SELECT 1 FROM clinics WHERE id = ?", t.Clinic).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return syncserver.ErrNotFound
	} else if err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO enroll_tokens (hash, clinic, created_at, expires_at) VALUES (?, ?, ?, ?)",
		t.Hash[:], t.Clinic, ms(t.Created), ms(t.Expires))
	if isConstraint(err) {
		return syncserver.ErrExists
	}
	if err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	return nil
}

const qDevice = "SELECT id, clinic, name, public_key, status, enrolled_at, revoked_at, last_seen FROM devices"

func scanDevice(row interface{ Scan(...any) error }) (syncserver.Device, error) {
	var d syncserver.Device
	var pub []byte
	var enrolled, revoked, seen sql.NullInt64
	if err := row.Scan(&d.ID, &d.Clinic, &d.Name, &pub, &d.Status, &enrolled, &revoked, &seen); err != nil {
		return d, err
	}
	d.PublicKey = ed25519.PublicKey(pub)
	d.Enrolled, d.Revoked, d.LastSeen = fromMS(enrolled), fromMS(revoked), fromMS(seen)
	return d, nil
}

func (s *Store) Enroll(ctx context.Context, hash [32]byte, d syncserver.Device, now time.Time) (syncserver.Device, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return d, fmt.Errorf("enroll: %w", err)
	}
	defer tx.Rollback()
	var clinic string
	var expires int64
	var spent sql.NullInt64
	var spentBy sql.NullString
	err = tx.QueryRowContext(ctx, "SELECT clinic, expires_at, spent_at, device FROM enroll_tokens WHERE hash = ?", hash[:]).
		Scan(&clinic, &expires, &spent, &spentBy)
	if errors.Is(err, sql.ErrNoRows) {
		return d, syncserver.ErrTokenRefused
	}
	if err != nil {
		return d, fmt.Errorf("enroll: %w", err)
	}
	existing, err := scanDevice(tx.QueryRowContext(ctx, qDevice+" WHERE id = ?", d.ID))
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("enroll: %w", err)
	}
	if spent.Valid {
		// A retry by the device this token enrolled gets the same answer.
		if spentBy.String == d.ID && found && existing.Status == syncproto.StatusActive && bytes.Equal(existing.PublicKey, d.PublicKey) {
			return existing, nil
		}
		return d, syncserver.ErrTokenRefused
	}
	if ms(now) >= expires || found {
		return d, syncserver.ErrTokenRefused
	}
	d.Clinic, d.Status, d.Enrolled, d.Revoked, d.LastSeen = clinic, syncproto.StatusActive, time.UnixMilli(ms(now)).UTC(), time.Time{}, time.Time{}
	if _, err := tx.ExecContext(ctx, "INSERT INTO devices (id, clinic, name, public_key, status, enrolled_at) VALUES (?, ?, ?, ?, ?, ?)",
		d.ID, d.Clinic, d.Name, []byte(d.PublicKey), d.Status, ms(d.Enrolled)); err != nil {
		return d, fmt.Errorf("enroll: %w", err)
	}
	res, err := tx.ExecContext(ctx, "UPDATE enroll_tokens SET spent_at = ?, device = ? WHERE hash = ? AND spent_at IS NULL", ms(now), d.ID, hash[:])
	if err != nil {
		return d, fmt.Errorf("enroll: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return d, syncserver.ErrTokenRefused
	}
	if err := tx.Commit(); err != nil {
		return d, fmt.Errorf("enroll: %w", err)
	}
	return d, nil
}

func (s *Store) Device(ctx context.Context, id string) (syncserver.Device, error) {
	d, err := scanDevice(s.r.QueryRowContext(ctx, qDevice+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, syncserver.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("device: %w", err)
	}
	return d, nil
}

func (s *Store) Devices(ctx context.Context) ([]syncserver.Device, error) {
	rows, err := s.r.QueryContext(ctx, qDevice+" ORDER BY clinic, enrolled_at, id")
	if err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	defer rows.Close()
	var out []syncserver.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Store) Revoke(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, "UPDATE devices SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", ms(at), id)
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke: %w", err)
	} else if n == 0 {
		return syncserver.ErrNotFound
	}
	return nil
}

func (s *Store) Touch(ctx context.Context, id string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, "UPDATE devices SET last_seen = ? WHERE id = ?", ms(at), id); err != nil {
		return fmt.Errorf("touch device: %w", err)
	}
	return nil
}
