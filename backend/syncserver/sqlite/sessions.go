package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"outpost/backend/syncserver"
)

const (
	qSessionOwner = "SELECT device FROM sessions WHERE clinic = ? AND user_key = ? AND session = ?"
	qSessionNew   = `INSERT INTO sessions (clinic, user_key, session, device, started_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qSessionMove  = "UPDATE sessions SET last_seen = ?, expires_at = ? WHERE clinic = ? AND user_key = ? AND session = ?"
	qSessionEnd   = "DELETE FROM sessions WHERE clinic = ? AND user_key = ? AND session = ? AND device = ?"
	qSessionsLive = `SELECT s.session, s.device, d.name, s.started_at, s.last_seen, s.expires_at FROM sessions s
		JOIN devices d ON d.id = s.device
		WHERE s.clinic = ? AND s.user_key = ? AND s.expires_at > ? AND d.status = 'active'
		ORDER BY s.started_at, s.session LIMIT ?`
	qSessionsPurge = "DELETE FROM sessions WHERE expires_at <= ?"
)

func (s *Store) PutSession(ctx context.Context, ss syncserver.Session) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	defer tx.Rollback()
	var owner string
	err = tx.QueryRowContext(ctx, qSessionOwner, ss.Clinic, ss.User, ss.ID).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, qSessionNew, ss.Clinic, ss.User, ss.ID, ss.Device, ms(ss.LastSeen), ms(ss.LastSeen), ms(ss.Expires))
	case err != nil:
	case owner != ss.Device:
		return syncserver.ErrExists
	default:
		_, err = tx.ExecContext(ctx, qSessionMove, ms(ss.LastSeen), ms(ss.Expires), ss.Clinic, ss.User, ss.ID)
	}
	if isConstraint(err) {
		return syncserver.ErrNotFound // no such clinic or device
	}
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

func (s *Store) EndSession(ctx context.Context, clinic, user, session, device string) error {
	if _, err := s.w.ExecContext(ctx, qSessionEnd, clinic, user, session, device); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

func (s *Store) ActiveSessions(ctx context.Context, clinic, user string, now time.Time, limit int) ([]syncserver.Session, error) {
	rows, err := s.r.QueryContext(ctx, qSessionsLive, clinic, user, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("active sessions: %w", err)
	}
	defer rows.Close()
	var out []syncserver.Session
	for rows.Next() {
		ss := syncserver.Session{Clinic: clinic, User: user}
		var started, seen, expires sql.NullInt64
		if err := rows.Scan(&ss.ID, &ss.Device, &ss.DeviceName, &started, &seen, &expires); err != nil {
			return nil, fmt.Errorf("active sessions: %w", err)
		}
		ss.Started, ss.LastSeen, ss.Expires = fromMS(started), fromMS(seen), fromMS(expires)
		out = append(out, ss)
	}
	return out, rows.Err()
}

func (s *Store) PurgeSessions(ctx context.Context, now time.Time) (int, error) {
	r, err := s.w.ExecContext(ctx, qSessionsPurge, ms(now))
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return int(n), nil
}
