package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// Account is a user as the admin area lists it.
type Account struct {
	User
	LockedUntil time.Time // zero when not locked
}

// ListUsers returns every account with its lock state.
func (s *Service) ListUsers(ctx context.Context) ([]Account, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY username")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []Account
	now := s.now()
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, Account{User: u})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		until, err := lockedUntil(ctx, s.r, out[i].Username)
		if err != nil {
			return nil, err
		}
		if until.After(now) {
			out[i].LockedUntil = until
		}
	}
	return out, nil
}

// Account returns one account.
func (s *Service) Account(ctx context.Context, id string) (Account, error) {
	u, err := s.userByID(ctx, s.r, id)
	if err != nil {
		return Account{}, err
	}
	a := Account{User: u}
	until, err := lockedUntil(ctx, s.r, u.Username)
	if err != nil {
		return Account{}, err
	}
	if until.After(s.now()) {
		a.LockedUntil = until
	}
	return a, nil
}

// adminChange runs change on an account inside a transaction, with its
// audit event, as administrator by. endSessions ends the account's
// sessions (S18).
func (s *Service) adminChange(ctx context.Context, by User, id, action, detail string, endSessions bool, change func(*sql.Tx, User) error) (Account, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := s.userByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.DisabledReason == "deleted" {
			return ehr.Errorf(ehr.EConflict, "This account was deleted.")
		}
		if err := change(tx, u); err != nil {
			return err
		}
		if endSessions {
			if err := endAll(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		if action != "user.unlock" { // a lockout is this laptop's own
			if err := s.versionAccount(ctx, tx, by.Username, u.ID, changedGroups[action]...); err != nil {
				return err
			}
		}
		_, err = s.log.Append(ctx, tx, audit.Event{Username: by.Username, Roles: by.Roles, Action: action, Outcome: audit.Success,
			RecordID: u.ID, Detail: detail})
		return err
	})
	if err != nil {
		return Account{}, err
	}
	return s.Account(ctx, id)
}

// changedGroups says which groups of the account's state an
// administrator's action changes (account.go).
var changedGroups = map[string][]string{
	"user.roles":          {groupRoles},
	"user.password_reset": {groupPassword},
	"user.mfa_reset":      {groupMFA},
}

// SetRoles replaces an account's roles and ends its sessions.
func (s *Service) SetRoles(ctx context.Context, by User, id string, roles []string) (Account, error) {
	if len(roles) == 0 {
		return Account{}, invalid("roles", "Give the account at least one role.")
	}
	for _, r := range roles {
		if !slices.Contains(AllRoles, r) {
			return Account{}, invalid("roles", "Unknown role.")
		}
	}
	roles = dedupe(roles)
	if id == by.ID && !slices.Contains(roles, RoleAdmin) {
		return Account{}, invalid("roles", "You cannot remove your own administrator role.")
	}
	raw, _ := json.Marshal(roles)
	return s.adminChange(ctx, by, id, "user.roles", "roles "+strings.Join(roles, ","), true, func(tx *sql.Tx, u User) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET roles = ? WHERE id = ?", string(raw), u.ID)
		return err
	})
}

// Disable disables an account and ends its sessions.
func (s *Service) Disable(ctx context.Context, by User, id string) (Account, error) {
	if id == by.ID {
		return Account{}, ehr.Errorf(ehr.EForbidden, "You cannot disable your own account.")
	}
	return s.adminChange(ctx, by, id, "user.disable", "", true, func(tx *sql.Tx, u User) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET disabled = 1, disabled_reason = 'admin' WHERE id = ?", u.ID)
		return err
	})
}

// Enable re-enables an account (also one disabled for inactivity, S24).
// Its inactivity clock starts again now.
func (s *Service) Enable(ctx context.Context, by User, id string) (Account, error) {
	return s.adminChange(ctx, by, id, "user.enable", "", false, func(tx *sql.Tx, u User) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET disabled = 0, disabled_reason = '', last_login = ? WHERE id = ?", stamp(s.now()), u.ID)
		return err
	})
}

// UnlockAccount lifts a sign-in lockout.
func (s *Service) UnlockAccount(ctx context.Context, by User, id string) (Account, error) {
	return s.adminChange(ctx, by, id, "user.unlock", "", false, func(tx *sql.Tx, u User) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM lockouts WHERE username = ?", u.Username)
		return err
	})
}

// ResetPassword gives an account a temporary password (S19) and ends its
// sessions.
func (s *Service) ResetPassword(ctx context.Context, by User, id, temporary string) (Account, error) {
	u, err := s.userByID(ctx, s.r, id)
	if err != nil {
		return Account{}, err
	}
	if msg := CheckPassword(temporary, u.Username, u.Name); msg != "" {
		return Account{}, invalid("temporaryPassword", msg)
	}
	hash, err := Hash(s.rand, temporary, s.params)
	if err != nil {
		return Account{}, err
	}
	expires := stamp(s.now().Add(s.base.TempTTL))
	return s.adminChange(ctx, by, id, "user.password_reset", "temporary password", true, func(tx *sql.Tx, u User) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, password_temp = 1, password_expires = ? WHERE id = ?", hash, expires, u.ID)
		return err
	})
}

// ResetMFA removes an account's second factor (it must enrol again) and
// ends its sessions.
func (s *Service) ResetMFA(ctx context.Context, by User, id string) (Account, error) {
	return s.adminChange(ctx, by, id, "user.mfa_reset", "", true, func(tx *sql.Tx, u User) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", u.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE users SET mfa_secret = NULL, mfa_pending = NULL, mfa_last_step = 0 WHERE id = ?", u.ID)
		return err
	})
}

// Approval is a dual-control request.
type Approval struct {
	ID          string
	Kind        string
	TargetID    string
	Target      string // username of the account
	RequestedBy string // username
	Reason      string
	At          time.Time
}

// RequestDeletion asks for an account to be deleted. Nothing happens
// until a second administrator approves (S1).
func (s *Service) RequestDeletion(ctx context.Context, by User, id, reason string) (Approval, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	if l := len([]rune(reason)); l < 5 || l > 200 {
		return Approval{}, invalid("reason", "Say why the account is deleted (5 to 200 characters).")
	}
	if id == by.ID {
		return Approval{}, ehr.Errorf(ehr.EForbidden, "You cannot delete your own account.")
	}
	target, err := s.userByID(ctx, s.r, id)
	if err != nil {
		return Approval{}, err
	}
	rid, err := s.ids.New()
	if err != nil {
		return Approval{}, err
	}
	now := s.now().UTC()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO approvals (id, kind, target_id, requested_by, reason, at) VALUES (?,?,?,?,?,?)",
			rid, "user.delete", id, by.ID, reason, stamp(now)); err != nil {
			return err
		}
		_, err := s.log.Append(ctx, tx, audit.Event{Username: by.Username, Roles: by.Roles, Action: "user.delete_request",
			Outcome: audit.Success, RecordID: id, Detail: "request " + rid})
		return err
	})
	if err != nil {
		return Approval{}, fmt.Errorf("request deletion: %w", err)
	}
	return Approval{ID: rid, Kind: "user.delete", TargetID: id, Target: target.Username, RequestedBy: by.Username, Reason: reason, At: now}, nil
}

// PendingApprovals lists the requests waiting for a second person.
func (s *Service) PendingApprovals(ctx context.Context) ([]Approval, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT a.id, a.kind, a.target_id, t.username, r.username, a.reason, a.at
		FROM approvals a JOIN users t ON t.id = a.target_id JOIN users r ON r.id = a.requested_by
		WHERE a.approved_by = '' ORDER BY a.at`)
	if err != nil {
		return nil, fmt.Errorf("pending approvals: %w", err)
	}
	defer rows.Close()
	var out []Approval
	for rows.Next() {
		var a Approval
		var at string
		if err := rows.Scan(&a.ID, &a.Kind, &a.TargetID, &a.Target, &a.RequestedBy, &a.Reason, &at); err != nil {
			return nil, err
		}
		a.At = parse(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Approve carries out a pending request. The requester cannot approve
// their own request; both steps are audited.
func (s *Service) Approve(ctx context.Context, by User, requestID string) error {
	var denied string // the target of a refused self-approval, audited after the rollback
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var kind, target, requester, approved string
		err := tx.QueryRowContext(ctx, "SELECT kind, target_id, requested_by, approved_by FROM approvals WHERE id = ?", requestID).
			Scan(&kind, &target, &requester, &approved)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (approved != "" || kind != "user.delete")) {
			return ehr.Errorf(ehr.ENotFound, "No such pending request.")
		}
		if err != nil {
			return err
		}
		if requester == by.ID {
			denied = target
			return ehr.Errorf(ehr.EForbidden, "A second administrator must approve this request; you made it.")
		}
		if _, err := tx.ExecContext(ctx, "UPDATE approvals SET approved_by = ?, approved_at = ? WHERE id = ?", by.ID, stamp(s.now()), requestID); err != nil {
			return err
		}
		// The account is kept (the audit trail names it) but can never sign in again.
		if _, err := tx.ExecContext(ctx, "UPDATE users SET disabled = 1, disabled_reason = 'deleted', epoch = epoch + 1 WHERE id = ?", target); err != nil {
			return err
		}
		if err := s.versionAccount(ctx, tx, by.Username, target); err != nil {
			return err
		}
		_, err = s.log.Append(ctx, tx, audit.Event{Username: by.Username, Roles: by.Roles, Action: "user.delete_approve",
			Outcome: audit.Success, RecordID: target, Detail: "request " + requestID})
		return err
	})
	if denied != "" {
		if aerr := s.log.Record(ctx, s.w, audit.Event{Username: by.Username, Roles: by.Roles, Action: "user.delete_approve",
			Outcome: audit.Denied, RecordID: denied, Detail: "requester may not approve"}); aerr != nil {
			return aerr
		}
	}
	return err
}

// Settings returns the notice, session times and audit retention in
// force.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	pol, err := s.Policy(ctx)
	if err != nil {
		return Settings{}, err
	}
	var notice string
	if err := s.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'notice'").Scan(&notice); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Settings{}, err
	}
	years, err := s.AuditRetentionYears(ctx)
	if err != nil {
		return Settings{}, err
	}
	return Settings{Notice: notice, IdleMinutes: int(pol.Idle.Minutes()), AdminIdleMinutes: int(pol.AdminIdle.Minutes()),
		AbsoluteHours: int(pol.Absolute.Hours()), AuditRetentionYears: years}, nil
}

// AuditRetentionYears returns how many years audit events are kept
// (S32): the saved setting, audit.DefaultRetentionYears until one is
// saved, never less than audit.MinRetentionYears.
func (s *Service) AuditRetentionYears(ctx context.Context) (int, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'audit_retention_years'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.DefaultRetentionYears, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read settings: %w", err)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return audit.DefaultRetentionYears, nil
	}
	return min(max(n, audit.MinRetentionYears), audit.MaxRetentionYears), nil
}

// SaveSettings stores new settings after checking their bounds.
func (s *Service) SaveSettings(ctx context.Context, by User, st Settings) (Settings, error) {
	st.Notice = strings.TrimSpace(st.Notice)
	if err := st.Validate(); err != nil {
		return Settings{}, err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for k, v := range map[string]int{"idle_minutes": st.IdleMinutes, "admin_idle_minutes": st.AdminIdleMinutes, "absolute_hours": st.AbsoluteHours,
			"audit_retention_years": st.AuditRetentionYears} {
			if _, err := tx.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", k, strconv.Itoa(v)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('notice', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", st.Notice); err != nil {
			return err
		}
		_, err := s.log.Append(ctx, tx, audit.Event{Username: by.Username, Roles: by.Roles, Action: "settings.change", Outcome: audit.Success,
			Detail: fmt.Sprintf("idle %d min, admin idle %d min, limit %d h, audit retention %d years", st.IdleMinutes, st.AdminIdleMinutes,
				st.AbsoluteHours, st.AuditRetentionYears)})
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("save settings: %w", err)
	}
	return s.Settings(ctx)
}

// Alerts lists security alerts, newest first.
func (s *Service) Alerts(ctx context.Context) ([]audit.Alert, error) {
	return s.alerts.List(ctx, s.r, 500)
}

// AcknowledgeAlert marks an alert seen, audited.
func (s *Service) AcknowledgeAlert(ctx context.Context, by User, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.alerts.Acknowledge(ctx, tx, id, by.Username); err != nil {
			return err
		}
		_, err := s.log.Append(ctx, tx, audit.Event{Username: by.Username, Roles: by.Roles, Action: "alert.acknowledge", Outcome: audit.Success, RecordID: id})
		return err
	})
}

// RaiseAlert records an alert in its own transaction (for callers outside
// this package, such as emergency access).
func (s *Service) RaiseAlert(ctx context.Context, tx *sql.Tx, kind, message, username, patientID string) error {
	return s.alerts.Raise(ctx, tx, kind, message, username, patientID)
}
