package auth

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// Attempt is one sign-in attempt.
type Attempt struct {
	At          time.Time
	Workstation string
	OK          bool
}

// LoginResult is a sign-in whose password was right: the session (which
// may still need a step: Stage) and what the user should see, the
// previous successful sign-in and every failure since.
type LoginResult struct {
	Session     Session
	Last        *Attempt
	FailedSince []Attempt
}

// ErrBadLogin is the one answer to a wrong username or a wrong password.
var ErrBadLogin = ehr.Errorf(ehr.EAuth, "The username or password is not right.")

func lockedError(until time.Time) error {
	return ehr.Errorf(ehr.EAuth, "Too many failed sign-in attempts: this account is locked until %s UTC. Try again then, or ask an administrator to unlock it.",
		until.UTC().Format("2006-01-02 15:04"))
}

// Login checks a username and password typed at workstation and starts a
// session. An unknown user and a wrong password cost the same time and
// give the same error; both count towards the lockout of that name, so a
// locked name reveals nothing either. Every attempt is recorded and
// audited.
func (s *Service) Login(ctx context.Context, username, password, workstation string) (LoginResult, error) {
	username = NormalizeUsername(username)
	now := s.now().UTC()
	pol, err := s.Policy(ctx)
	if err != nil {
		return LoginResult{}, err
	}
	u, err := s.userByName(ctx, s.r, username)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	hash := s.dummy
	if known {
		hash = u.hash
	}
	ok, verr := Verify(hash, password)
	if verr != nil {
		return LoginResult{}, fmt.Errorf("login: %w", verr)
	}
	ok = ok && known

	// Sessions across devices: the new session is registered with the
	// clinic server before it exists here, so that the sign-in below can
	// count the other laptops' sessions. Only a right password gets
	// this far; a refusal below ends it at the server again.
	var rc remoteCheck
	sid, err := randomID(s.rand)
	if err != nil {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	// Not while the name is locked: a right guess would then take a
	// round trip longer than a wrong one, and tell a guesser the password
	// that the lock is there to keep from them.
	if ok && !u.Disabled {
		until, err := lockedUntil(ctx, s.r, username)
		if err != nil {
			return LoginResult{}, fmt.Errorf("login: %w", err)
		}
		if !until.After(now) {
			rc = s.startRemote(ctx, u, sid, pol.IdleFor(u.Roles))
		}
	}

	var res LoginResult
	var refusal error
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		until, err := lockedUntil(ctx, tx, username)
		if err != nil {
			return err
		}
		fail := func(detail string, err error) error {
			refusal = err
			return s.recordAttempt(ctx, tx, u, workstation, false, detail)
		}
		switch {
		case until.After(now):
			return fail("account locked", lockedError(until))
		case !ok:
			locked, err := s.countFailure(ctx, tx, pol, username, u)
			if err != nil {
				return err
			}
			if !locked.IsZero() {
				return fail("wrong password; account now locked", lockedError(locked))
			}
			detail := "wrong password"
			if !known {
				detail = "unknown username"
			}
			return fail(detail, ErrBadLogin)
		case u.Disabled:
			return fail("account disabled", ehr.Errorf(ehr.EAuth, "This account is disabled. Ask an administrator."))
		}
		last := u.LastLogin
		if last.IsZero() {
			last = u.Created
		}
		if now.Sub(last) > pol.Inactive {
			if _, err := tx.ExecContext(ctx, "UPDATE users SET disabled = 1, disabled_reason = 'inactive', epoch = epoch + 1 WHERE id = ?", u.ID); err != nil {
				return err
			}
			if err := s.versionAccount(ctx, tx, "system", u.ID); err != nil {
				return err
			}
			if err := s.alerts.Raise(ctx, tx, audit.AlertInactive, "account disabled after "+fmt.Sprint(int(pol.Inactive.Hours()/24))+" days without sign-in", u.Username, ""); err != nil {
				return err
			}
			return fail("account disabled for inactivity", ehr.Errorf(ehr.EAuth,
				"This account was disabled because it was not used for %d days. Ask an administrator to enable it.", int(pol.Inactive.Hours()/24)))
		}
		if u.temp == 2 {
			return fail("temporary password already used", ehr.Errorf(ehr.EAuth, "This temporary password was already used. Ask an administrator for a new one."))
		}
		if u.temp == 1 && now.After(u.tempExpires) {
			return fail("temporary password expired", ehr.Errorf(ehr.EAuth, "This temporary password has expired. Ask an administrator for a new one."))
		}
		active, err := s.activeSessions(ctx, tx, u, pol, now)
		if err != nil {
			return err
		}
		limitErr := ehr.Errorf(ehr.EForbidden,
			"This account already has %d active sessions. Sign out of one of them, or wait until it locks, before signing in again.", pol.MaxSessions)
		if len(active) >= pol.MaxSessions {
			return fail("session limit", limitErr)
		}
		// S22 across devices: this laptop's sessions and the others'.
		if len(active)+len(rc.others) >= pol.MaxSessions {
			return fail(fmt.Sprintf("session limit across devices (%d here, %d on other laptops)", len(active), len(rc.others)), limitErr)
		}
		elsewhere := ""
		for _, a := range active {
			if a.Workstation != workstation {
				elsewhere = a.Workstation
				break
			}
		}
		if len(rc.others) > 0 {
			if elsewhere != "" {
				elsewhere += ", "
			}
			elsewhere += deviceNames(rc.others)
		}
		if elsewhere != "" {
			// S34: the same account is in use on another workstation.
			if _, err := s.log.Append(ctx, tx, audit.Event{Username: u.Username, Roles: u.Roles, Action: "session.concurrent",
				Outcome: audit.Success, RecordID: u.ID, Detail: "also active on " + elsewhere}); err != nil {
				return err
			}
			if err := s.alerts.Raise(ctx, tx, audit.AlertConcurrent, "signed in while also active on "+elsewhere, u.Username, ""); err != nil {
				return err
			}
		}
		if res.Last, res.FailedSince, err = s.history(ctx, tx, u.ID); err != nil {
			return err
		}
		stage := ""
		switch {
		case u.temp == 1:
			stage = StagePassword
			if _, err := tx.ExecContext(ctx, "UPDATE users SET password_temp = 2 WHERE id = ?", u.ID); err != nil {
				return err
			}
			// Used here, so used on every laptop.
			if err := s.versionAccount(ctx, tx, u.Username, u.ID); err != nil {
				return err
			}
		case u.MFAEnabled:
			stage = StageMFA
		case RequiresMFA(u.Roles):
			stage = StageEnroll
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM lockouts WHERE username = ?", username); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET last_login = ? WHERE id = ?", stamp(now), u.ID); err != nil {
			return err
		}
		// The sign-in time reaches the other laptops at most once a day
		// (their inactivity rule, S24).
		var synced string
		if err := tx.QueryRowContext(ctx, "SELECT active_synced FROM users WHERE id = ?", u.ID).Scan(&synced); err != nil {
			return err
		}
		if now.Sub(parse(synced)) >= activeEvery {
			if err := s.versionAccount(ctx, tx, u.Username, u.ID); err != nil {
				return err
			}
		}
		sess, err := s.startSession(ctx, tx, sid, u, workstation, stage, now)
		if err != nil {
			return err
		}
		res.Session = sess
		detail := "stage " + stageName(stage)
		if rc.err != nil {
			detail += "; sessions on other laptops not checked (clinic server unreachable)"
		}
		return s.recordAttempt(ctx, tx, u, workstation, true, detail)
	})
	if rc.started && (err != nil || refusal != nil) {
		s.endRemote(u.ID, sid, true)
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	if refusal != nil {
		return LoginResult{}, refusal
	}
	return res, nil
}

func stageName(stage string) string {
	if stage == "" {
		return "signed-in"
	}
	return stage
}

// recordAttempt writes the sign-in row and its audit event.
func (s *Service) recordAttempt(ctx context.Context, tx *sql.Tx, u User, workstation string, ok bool, detail string) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO logins (user_id, at, ok, workstation) VALUES (?,?,?,?)",
		u.ID, stamp(s.now()), ok, workstation); err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	e := audit.Event{Action: "user.login", Outcome: audit.Success, RecordID: u.ID, Username: u.Username, Roles: u.Roles, Detail: detail}
	if !ok {
		e.Outcome = audit.Failure
	}
	_, err := s.log.Append(ctx, tx, e)
	return err
}

func lockedUntil(ctx context.Context, q querier, username string) (time.Time, error) {
	var until string
	err := q.QueryRowContext(ctx, "SELECT locked_until FROM lockouts WHERE username = ?", username).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read lockout: %w", err)
	}
	return parse(until), nil
}

// countFailure counts a failed sign-in (or second factor, or unlock) for
// username. At the threshold the name locks for LockBase, doubling with
// every further failure up to LockMax; the lock is audited and alerted.
// It returns the lock's end when this failure locked the name.
func (s *Service) countFailure(ctx context.Context, tx *sql.Tx, pol Policy, username string, u User) (time.Time, error) {
	var failures int
	if _, err := tx.ExecContext(ctx, `INSERT INTO lockouts (username, failures) VALUES (?, 1)
		ON CONFLICT(username) DO UPDATE SET failures = failures + 1`, username); err != nil {
		return time.Time{}, fmt.Errorf("count failure: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "SELECT failures FROM lockouts WHERE username = ?", username).Scan(&failures); err != nil {
		return time.Time{}, fmt.Errorf("count failure: %w", err)
	}
	if failures < pol.Threshold {
		return time.Time{}, nil
	}
	d := pol.LockBase
	for i := pol.Threshold; i < failures && d < pol.LockMax; i++ {
		d *= 2
	}
	d = min(d, pol.LockMax)
	until := s.now().UTC().Add(d)
	if _, err := tx.ExecContext(ctx, "UPDATE lockouts SET locked_until = ? WHERE username = ?", stamp(until), username); err != nil {
		return time.Time{}, fmt.Errorf("lock account: %w", err)
	}
	if _, err := s.log.Append(ctx, tx, audit.Event{Username: username, Roles: u.Roles, Action: "user.lockout", Outcome: audit.Success,
		RecordID: u.ID, Detail: fmt.Sprintf("%d failures; locked for %s", failures, d)}); err != nil {
		return time.Time{}, err
	}
	if err := s.alerts.Raise(ctx, tx, audit.AlertLockout, fmt.Sprintf("sign-in locked after %d failures", failures), username, ""); err != nil {
		return time.Time{}, err
	}
	return until, nil
}

// history returns the user's last successful sign-in and the failures
// after it.
func (s *Service) history(ctx context.Context, tx *sql.Tx, userID string) (*Attempt, []Attempt, error) {
	var last *Attempt
	var lastSeq int64
	var at, ws string
	err := tx.QueryRowContext(ctx, "SELECT seq, at, workstation FROM logins WHERE user_id = ? AND ok = 1 ORDER BY seq DESC LIMIT 1", userID).Scan(&lastSeq, &at, &ws)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, nil, fmt.Errorf("login history: %w", err)
	default:
		last = &Attempt{At: parse(at), Workstation: ws, OK: true}
	}
	rows, err := tx.QueryContext(ctx, "SELECT at, workstation FROM logins WHERE user_id = ? AND ok = 0 AND seq > ? ORDER BY seq", userID, lastSeq)
	if err != nil {
		return nil, nil, fmt.Errorf("login history: %w", err)
	}
	defer rows.Close()
	var failed []Attempt
	for rows.Next() {
		if err := rows.Scan(&at, &ws); err != nil {
			return nil, nil, fmt.Errorf("login history: %w", err)
		}
		failed = append(failed, Attempt{At: parse(at), Workstation: ws})
	}
	return last, failed, rows.Err()
}

func randomID(r io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
