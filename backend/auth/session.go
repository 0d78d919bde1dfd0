package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// Stages a session can be in before it may do anything but its next step.
const (
	StageMFA      = "mfa"      // the second factor is due
	StagePassword = "password" // a temporary password must be replaced
	StageEnroll   = "enroll"   // the role requires MFA, which is not set up yet
)

// Session is a sign-in of one user on one workstation.
type Session struct {
	ID          string
	User        User
	Workstation string
	Started     time.Time
	LastSeen    time.Time
	Stage       string
	Locked      bool
	Idle        time.Duration // the idle lock time in force for this user
}

// touchEvery limits how often a session's last activity is written.
const touchEvery = 20 * time.Second

func (s *Service) startSession(ctx context.Context, tx *sql.Tx, id string, u User, workstation, stage string, now time.Time) (Session, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, workstation, started, last_seen, stage, epoch)
		VALUES (?,?,?,?,?,?,?)`, id, u.ID, workstation, stamp(now), stamp(now), stage, u.epoch); err != nil {
		return Session{}, fmt.Errorf("start session: %w", err)
	}
	pol, err := s.policy(ctx, tx)
	if err != nil {
		return Session{}, err
	}
	return Session{ID: id, User: u, Workstation: workstation, Started: now, LastSeen: now, Stage: stage, Idle: pol.IdleFor(u.Roles)}, nil
}

// activeSessions returns u's sessions that count against the limit: not
// ended, not made stale by an account change, within the time limit, and
// used within the idle time.
func (s *Service) activeSessions(ctx context.Context, q querier, u User, pol Policy, now time.Time) ([]Session, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, workstation, started, last_seen FROM sessions
		WHERE user_id = ? AND ended = '' AND epoch = ? AND locked = 0`, u.ID, u.epoch)
	if err != nil {
		return nil, fmt.Errorf("active sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var ss Session
		var started, seen string
		if err := rows.Scan(&ss.ID, &ss.Workstation, &started, &seen); err != nil {
			return nil, err
		}
		ss.Started, ss.LastSeen = parse(started), parse(seen)
		if now.Sub(ss.Started) < pol.Absolute && now.Sub(ss.LastSeen) < pol.IdleFor(u.Roles) {
			out = append(out, ss)
		}
	}
	return out, rows.Err()
}

// ErrSessionEnded is returned for a session that no longer exists.
var ErrSessionEnded = ehr.Errorf(ehr.ESession, "Your session has ended. Please sign in again.")

// Check returns the session with id, enforcing the rules on every call:
// an ended session, an account changed since sign-in (roles, password,
// MFA: S18), a disabled account or a session past its time limit (S23)
// ends it; a session idle for longer than the idle time is locked. It
// records activity on sessions that are not locked.
func (s *Service) Check(ctx context.Context, id string) (Session, error) {
	return s.check(ctx, id, true)
}

// Peek is Check without recording activity: for status polls, which must
// not keep an idle session open.
func (s *Service) Peek(ctx context.Context, id string) (Session, error) {
	return s.check(ctx, id, false)
}

func (s *Service) check(ctx context.Context, id string, touch bool) (Session, error) {
	now := s.now().UTC()
	var ss Session
	var userID, started, seen, ended string
	var epoch int
	err := s.r.QueryRowContext(ctx, "SELECT user_id, workstation, started, last_seen, stage, locked, epoch, ended FROM sessions WHERE id = ?", id).
		Scan(&userID, &ss.Workstation, &started, &seen, &ss.Stage, &ss.Locked, &epoch, &ended)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && ended != "") {
		return Session{}, ErrSessionEnded
	}
	if err != nil {
		return Session{}, fmt.Errorf("check session: %w", err)
	}
	ss.ID, ss.Started, ss.LastSeen = id, parse(started), parse(seen)
	u, err := s.userByID(ctx, s.r, userID)
	if err != nil {
		return Session{}, err
	}
	ss.User = u
	pol, err := s.Policy(ctx)
	if err != nil {
		return Session{}, err
	}
	ss.Idle = pol.IdleFor(u.Roles)
	switch {
	case u.epoch != epoch:
		s.End(ctx, id, "account changed")
		return Session{}, ehr.Errorf(ehr.ESession, "Your account was changed (roles, password or second factor). Please sign in again.")
	case u.Disabled:
		s.End(ctx, id, "account disabled")
		return Session{}, ehr.Errorf(ehr.ESession, "Your account was disabled. Ask an administrator.")
	case now.Sub(ss.Started) >= pol.Absolute:
		s.End(ctx, id, "time limit")
		return Session{}, ehr.Errorf(ehr.ESession, "Your session reached its time limit of %d hours. Please sign in again.", int(pol.Absolute.Hours()))
	case !ss.Locked && now.Sub(ss.LastSeen) >= ss.Idle:
		if err := s.setLocked(ctx, ss, true, "idle"); err != nil {
			return Session{}, err
		}
		ss.Locked = true
	case touch && !ss.Locked && now.Sub(ss.LastSeen) >= touchEvery:
		if _, err := s.w.ExecContext(ctx, "UPDATE sessions SET last_seen = ? WHERE id = ?", stamp(now), id); err != nil {
			return Session{}, fmt.Errorf("touch session: %w", err)
		}
		ss.LastSeen = now
		s.touchRemote(u.ID, id, ss.Idle, false)
	}
	return ss, nil
}

func (s *Service) setLocked(ctx context.Context, ss Session, locked bool, why string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE sessions SET locked = ?, last_seen = ? WHERE id = ?", locked, stamp(s.now()), ss.ID); err != nil {
			return err
		}
		action := "session.lock"
		if !locked {
			action = "session.unlock"
		}
		_, err := s.log.Append(ctx, tx, audit.Event{Username: ss.User.Username, Roles: ss.User.Roles, Session: ss.ID,
			Action: action, Outcome: audit.Success, RecordID: ss.User.ID, Detail: why})
		return err
	})
	if err != nil {
		return err
	}
	// A locked session does not count against the limit here, nor at
	// the server; unlocked, it counts again.
	if locked {
		s.endRemote(ss.User.ID, ss.ID, false)
	} else {
		s.touchRemote(ss.User.ID, ss.ID, ss.Idle, true)
	}
	return nil
}

// LockSession locks a session at the user's request (or the UI's idle timer).
func (s *Service) LockSession(ctx context.Context, id string) error {
	ss, err := s.Check(ctx, id)
	if err != nil || ss.Locked {
		return err
	}
	return s.setLocked(ctx, ss, true, "by user")
}

// UnlockSession reopens a locked session with the user's password. A wrong
// password counts towards the account's lockout; at the lock the session
// ends.
func (s *Service) UnlockSession(ctx context.Context, id, password string) error {
	ss, err := s.Check(ctx, id)
	if err != nil {
		return err
	}
	if !ss.Locked {
		return nil
	}
	ok, err := Verify(ss.User.hash, password)
	if err != nil {
		return err
	}
	if ok {
		return s.setLocked(ctx, ss, false, "password")
	}
	var refusal error = ehr.Errorf(ehr.EAuth, "The password is not right.")
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		pol, err := s.policy(ctx, tx)
		if err != nil {
			return err
		}
		until, err := s.countFailure(ctx, tx, pol, ss.User.Username, ss.User)
		if err != nil {
			return err
		}
		if !until.IsZero() {
			refusal = lockedError(until)
			if _, err := tx.ExecContext(ctx, "UPDATE sessions SET ended = ?, end_reason = 'lockout' WHERE id = ?", stamp(s.now()), id); err != nil {
				return err
			}
		}
		_, err = s.log.Append(ctx, tx, audit.Event{Username: ss.User.Username, Roles: ss.User.Roles, Session: id,
			Action: "session.unlock", Outcome: audit.Failure, RecordID: ss.User.ID, Detail: "wrong password"})
		return err
	})
	if err != nil {
		return err
	}
	// A locked session is no longer at the server (setLocked ended it),
	// so a lockout here has nothing to end there.
	return refusal
}

// End ends a session (sign-out, or a rule that ended it).
func (s *Service) End(ctx context.Context, id, reason string) error {
	var userID string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var ended string
		err := tx.QueryRowContext(ctx, "SELECT user_id, ended FROM sessions WHERE id = ?", id).Scan(&userID, &ended)
		if errors.Is(err, sql.ErrNoRows) || ended != "" {
			userID = ""
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE sessions SET ended = ?, end_reason = ? WHERE id = ?", stamp(s.now()), reason, id); err != nil {
			return err
		}
		u, err := s.userByID(ctx, tx, userID)
		if err != nil {
			return err
		}
		_, err = s.log.Append(ctx, tx, audit.Event{Username: u.Username, Roles: u.Roles, Session: id,
			Action: "session.end", Outcome: audit.Success, RecordID: u.ID, Detail: reason})
		return err
	})
	if err == nil && userID != "" {
		s.endRemote(userID, id, false)
	}
	return err
}

// setStage moves a session to its next stage ("" when fully signed in).
func (s *Service) setStage(ctx context.Context, tx *sql.Tx, id, stage string) error {
	_, err := tx.ExecContext(ctx, "UPDATE sessions SET stage = ?, last_seen = ? WHERE id = ?", stage, stamp(s.now()), id)
	return err
}

// endAll raises the user's epoch, which ends every session of theirs at
// its next call (S18).
func endAll(ctx context.Context, tx *sql.Tx, userID string) error {
	_, err := tx.ExecContext(ctx, "UPDATE users SET epoch = epoch + 1 WHERE id = ?", userID)
	return err
}
