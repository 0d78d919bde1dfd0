package auth

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/totp"
)

// RecoveryCodeCount is how many single-use recovery codes an enrolment
// gives.
const RecoveryCodeCount = 10

// Enrollment is a TOTP secret being set up: shown once to be typed or
// copied into an authenticator app.
type Enrollment struct {
	Secret string // base32
	URI    string // otpauth:// URI
}

// stageSession returns the session if it is in one of stages.
func (s *Service) stageSession(ctx context.Context, id string, stages ...string) (Session, error) {
	ss, err := s.Check(ctx, id)
	if err != nil {
		return Session{}, err
	}
	if ss.Locked {
		return Session{}, ehr.Errorf(ehr.ELocked, "Your session is locked. Enter your password to continue.")
	}
	for _, st := range stages {
		if ss.Stage == st {
			return ss, nil
		}
	}
	return Session{}, ehr.Errorf(ehr.EForbidden, "This step is not due now.")
}

// VerifyMFA completes a sign-in whose second factor is due, with a TOTP
// code or an unused recovery code. Wrong codes count towards the lockout.
func (s *Service) VerifyMFA(ctx context.Context, id, code string) (Session, error) {
	ss, err := s.stageSession(ctx, id, StageMFA)
	if err != nil {
		return Session{}, err
	}
	var refusal error
	lockedOut := false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := s.userByID(ctx, tx, ss.User.ID)
		if err != nil {
			return err
		}
		how := ""
		if step, ok := totp.Verify(u.mfaSecret, code, s.now(), u.mfaLastStep); ok {
			if _, err := tx.ExecContext(ctx, "UPDATE users SET mfa_last_step = ? WHERE id = ?", step, u.ID); err != nil {
				return err
			}
			how = "totp"
		} else if strings.Contains(code, "-") {
			res, err := tx.ExecContext(ctx, "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at = ''",
				stamp(s.now()), u.ID, totp.HashRecoveryCode(code))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				how = "recovery code"
				// Used on every laptop: the account version carries it.
				if err := s.versionAccount(ctx, tx, u.Username, u.ID); err != nil {
					return err
				}
			}
		}
		if how == "" {
			pol, err := s.policy(ctx, tx)
			if err != nil {
				return err
			}
			until, err := s.countFailure(ctx, tx, pol, u.Username, u)
			if err != nil {
				return err
			}
			refusal = ehr.Errorf(ehr.EAuth, "The code is not right. Use the current code from your authenticator app, or a recovery code.")
			if !until.IsZero() {
				refusal = lockedError(until)
				lockedOut = true
				if _, err := tx.ExecContext(ctx, "UPDATE sessions SET ended = ?, end_reason = 'lockout' WHERE id = ?", stamp(s.now()), id); err != nil {
					return err
				}
			}
			_, err = s.log.Append(ctx, tx, audit.Event{Username: u.Username, Roles: u.Roles, Session: id, Action: "user.mfa",
				Outcome: audit.Failure, RecordID: u.ID})
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM lockouts WHERE username = ?", u.Username); err != nil {
			return err
		}
		if err := s.setStage(ctx, tx, id, ""); err != nil {
			return err
		}
		_, err = s.log.Append(ctx, tx, audit.Event{Username: u.Username, Roles: u.Roles, Session: id, Action: "user.mfa",
			Outcome: audit.Success, RecordID: u.ID, Detail: how})
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("verify mfa: %w", err)
	}
	if lockedOut {
		s.endRemote(ss.User.ID, id, false)
	}
	if refusal != nil {
		return Session{}, refusal
	}
	ss.Stage = ""
	return ss, nil
}

// BeginEnrollment makes a new TOTP secret for the session's user and
// keeps it pending until ConfirmEnrollment proves the app has it.
func (s *Service) BeginEnrollment(ctx context.Context, id string) (Enrollment, error) {
	ss, err := s.stageSession(ctx, id, StageEnroll, "")
	if err != nil {
		return Enrollment{}, err
	}
	secret, err := totp.NewSecret(s.rand)
	if err != nil {
		return Enrollment{}, err
	}
	if _, err := s.w.ExecContext(ctx, "UPDATE users SET mfa_pending = ? WHERE id = ?", []byte(secret), ss.User.ID); err != nil {
		return Enrollment{}, fmt.Errorf("begin enrolment: %w", err)
	}
	return Enrollment{Secret: secret.Base32(), URI: totp.URI(secret, "Outpost", ss.User.Username)}, nil
}

// ConfirmEnrollment checks a code from the pending secret, makes it the
// user's second factor, and returns fresh recovery codes (shown once;
// only their hashes are kept). Changing the second factor ends every
// session of the user (S18): the next step is a fresh sign-in with it.
func (s *Service) ConfirmEnrollment(ctx context.Context, id, code string) ([]string, error) {
	ss, err := s.stageSession(ctx, id, StageEnroll, "")
	if err != nil {
		return nil, err
	}
	u, err := s.userByID(ctx, s.r, ss.User.ID)
	if err != nil {
		return nil, err
	}
	if len(u.mfaPending) == 0 {
		return nil, ehr.Errorf(ehr.EForbidden, "Start the set-up of the authenticator app first.")
	}
	step, ok := totp.Verify(u.mfaPending, code, s.now(), 0)
	if !ok {
		return nil, &ehr.Error{Code: ehr.EInvalid, Message: "The code is not right.", Fields: map[string]string{"code": "Enter the 6-digit code the app shows now."}}
	}
	codes, err := totp.RecoveryCodes(s.rand, RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE users SET mfa_secret = mfa_pending, mfa_pending = NULL, mfa_last_step = ? WHERE id = ?", step, u.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", u.ID); err != nil {
			return err
		}
		for _, c := range codes {
			if _, err := tx.ExecContext(ctx, "INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)", u.ID, totp.HashRecoveryCode(c)); err != nil {
				return err
			}
		}
		if err := endAll(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := s.versionAccount(ctx, tx, u.Username, u.ID, groupMFA); err != nil {
			return err
		}
		_, err := s.log.Append(ctx, tx, audit.Event{Username: u.Username, Roles: u.Roles, Session: id, Action: "user.mfa_enrol",
			Outcome: audit.Success, RecordID: u.ID})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("confirm enrolment: %w", err)
	}
	s.End(ctx, id, "second factor changed")
	return codes, nil
}

// ChangePassword replaces the session user's password. It needs the
// current one; the new one must pass CheckPassword and differ from the
// current one in at least Policy.Positions positions (S21). It ends every
// session of the user, this one included (S18).
func (s *Service) ChangePassword(ctx context.Context, id, current, next string) error {
	ss, err := s.stageSession(ctx, id, StagePassword, "")
	if err != nil {
		return err
	}
	u := ss.User
	ok, err := Verify(u.hash, current)
	if err != nil {
		return err
	}
	pol, err := s.Policy(ctx)
	if err != nil {
		return err
	}
	v := ehr.Invalid{}
	if !ok {
		v.Add("current", "This is not your current password.")
	}
	if msg := CheckPassword(next, u.Username, u.Name); msg != "" {
		v.Add("new", msg)
	} else if DifferingPositions(current, next) < pol.Positions {
		v.Add("new", fmt.Sprintf("The new password must differ from the current one in at least %d character positions.", pol.Positions))
	}
	if err := v.Err(); err != nil {
		return err
	}
	hash, err := Hash(s.rand, next, s.params)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, password_temp = 0, password_expires = '' WHERE id = ?", hash, u.ID); err != nil {
			return err
		}
		if err := endAll(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := s.versionAccount(ctx, tx, u.Username, u.ID, groupPassword); err != nil {
			return err
		}
		_, err := s.log.Append(ctx, tx, audit.Event{Username: u.Username, Roles: u.Roles, Session: id, Action: "user.password_change",
			Outcome: audit.Success, RecordID: u.ID})
		return err
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	s.End(ctx, id, "password changed")
	return nil
}
