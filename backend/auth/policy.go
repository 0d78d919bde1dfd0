package auth

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// Policy holds the access rules. Every value defaults to its strictest
// sensible setting; administrators may change the session times within
// Bounds.
type Policy struct {
	Idle        time.Duration // idle lock for clinical users
	AdminIdle   time.Duration // idle lock for anyone holding the administrator role
	Absolute    time.Duration // a session ends this long after sign-in
	MaxSessions int           // concurrent sessions per account
	Inactive    time.Duration // accounts unused this long are disabled
	Threshold   int           // failed sign-ins before an account locks
	LockBase    time.Duration // first lock; each further failure doubles it
	LockMax     time.Duration
	TempTTL     time.Duration // a temporary password lapses after this
	BreakGlass  time.Duration // an emergency access lasts this long
	Positions   int           // a new password differs from the old in this many positions
}

// DefaultPolicy is the policy of a new installation.
var DefaultPolicy = Policy{
	Idle: 15 * time.Minute, AdminIdle: 10 * time.Minute, Absolute: 12 * time.Hour, MaxSessions: 3,
	Inactive: 35 * 24 * time.Hour, Threshold: 5, LockBase: time.Minute, LockMax: 24 * time.Hour,
	TempTTL: 24 * time.Hour, BreakGlass: time.Hour, Positions: 8,
}

// Bounds of the settings an administrator may change.
const (
	MinIdleMinutes, MaxIdleMinutes           = 1, 30
	MinAdminIdleMinutes, MaxAdminIdleMinutes = 1, 15
	MinAbsoluteHours, MaxAbsoluteHours       = 1, 24
	MaxNotice                                = 4000
)

// Settings are the values an administrator sets in the admin area.
type Settings struct {
	Notice           string `json:"notice"`
	IdleMinutes      int    `json:"idleMinutes"`
	AdminIdleMinutes int    `json:"adminIdleMinutes"`
	AbsoluteHours    int    `json:"absoluteHours"`
	// AuditRetentionYears is how long audit events are kept before they
	// may be purged (S32): audit.MinRetentionYears to
	// audit.MaxRetentionYears, audit.DefaultRetentionYears by default.
	AuditRetentionYears int `json:"auditRetentionYears"`
}

// Validate checks the bounds, with field messages keyed by JSON names.
func (s Settings) Validate() error {
	v := ehr.Invalid{}
	if s.IdleMinutes < MinIdleMinutes || s.IdleMinutes > MaxIdleMinutes {
		v.Add("idleMinutes", fmt.Sprintf("Choose %d to %d minutes.", MinIdleMinutes, MaxIdleMinutes))
	}
	if s.AdminIdleMinutes < MinAdminIdleMinutes || s.AdminIdleMinutes > MaxAdminIdleMinutes {
		v.Add("adminIdleMinutes", fmt.Sprintf("Choose %d to %d minutes.", MinAdminIdleMinutes, MaxAdminIdleMinutes))
	}
	if s.AbsoluteHours < MinAbsoluteHours || s.AbsoluteHours > MaxAbsoluteHours {
		v.Add("absoluteHours", fmt.Sprintf("Choose %d to %d hours.", MinAbsoluteHours, MaxAbsoluteHours))
	}
	if s.AuditRetentionYears < audit.MinRetentionYears || s.AuditRetentionYears > audit.MaxRetentionYears {
		v.Add("auditRetentionYears", fmt.Sprintf("Choose %d to %d years.", audit.MinRetentionYears, audit.MaxRetentionYears))
	}
	if n := len([]rune(s.Notice)); n < 20 || n > MaxNotice {
		v.Add("notice", fmt.Sprintf("Write a notice of 20 to %d characters.", MaxNotice))
	}
	return v.Err()
}

// policy returns the policy in force: the defaults with the settings an
// administrator saved.
func (s *Service) policy(ctx context.Context, q querier) (Policy, error) {
	p := s.base
	rows, err := q.QueryContext(ctx, "SELECT key, value FROM settings WHERE key IN ('idle_minutes', 'admin_idle_minutes', 'absolute_hours')")
	if err != nil {
		return p, fmt.Errorf("read settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return p, fmt.Errorf("read settings: %w", err)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			continue
		}
		switch k {
		case "idle_minutes":
			p.Idle = time.Duration(n) * time.Minute
		case "admin_idle_minutes":
			p.AdminIdle = time.Duration(n) * time.Minute
		case "absolute_hours":
			p.Absolute = time.Duration(n) * time.Hour
		}
	}
	return p, rows.Err()
}

// Policy returns the policy in force.
func (s *Service) Policy(ctx context.Context) (Policy, error) { return s.policy(ctx, s.r) }

// IdleFor returns the idle lock time for a user with roles.
func (p Policy) IdleFor(roles []string) time.Duration {
	if hasRole(roles, RoleAdmin) {
		return p.AdminIdle
	}
	return p.Idle
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
