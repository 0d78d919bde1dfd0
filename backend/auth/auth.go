// Package auth decides who may do what: users and their roles, one
// permission table, argon2id passwords with temporary passwords and a
// password policy, sign-in with lockout, inactivity and session limits,
// sessions with idle lock and a time limit, TOTP multi-factor sign-in,
// and the dual-control deletion of accounts.
package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// Roles. A user may hold several.
const (
	RoleClinician = "clinician"
	RoleNurse     = "nurse"
	RoleClerk     = "clerk"         // registration and scheduling only
	RoleAdmin     = "administrator" // system functions only
	RoleOfficer   = "officer"       // security officer: alerts and audit
	RoleAuditor   = "auditor"       // read-only audit
)

// AllRoles lists every role.
var AllRoles = []string{RoleClinician, RoleNurse, RoleClerk, RoleAdmin, RoleOfficer, RoleAuditor}

// Permissions.
const (
	PermSelf            = "self" // anything a signed-in user does to their own account
	PermPatientRead     = "patient.read"
	PermPatientWrite    = "patient.write"
	PermPatientRestrict = "patient.restrict"
	PermChartRead       = "chart.read"    // clinical records: visits, vitals, problems ...
	PermChartWrite      = "chart.write"   // clerks register patients but see no clinical records
	PermRecordDelete    = "record.delete" // ask for, or approve, a deletion (two different people)
	PermBreakGlass      = "patient.breakglass"
	PermUsersManage     = "users.manage"
	PermSettingsManage  = "settings.manage"
	PermAlertsRead      = "alerts.read"
	PermAuditRead       = "audit.read"
	PermAuditManage     = "audit.manage" // off-device copies of the audit trail; purges (two different people)
)

// grants is the one permission table: which roles hold which permission.
// Administrators have no chart access unless they also hold a clinical
// role; clinical roles have no system functions (S6).
var grants = map[string][]string{
	PermSelf:            AllRoles,
	PermPatientRead:     {RoleClinician, RoleNurse, RoleClerk},
	PermPatientWrite:    {RoleClinician, RoleNurse, RoleClerk},
	PermPatientRestrict: {RoleClinician},
	PermChartRead:       {RoleClinician, RoleNurse},
	PermChartWrite:      {RoleClinician, RoleNurse},
	PermRecordDelete:    {RoleClinician, RoleNurse},
	PermBreakGlass:      {RoleClinician, RoleNurse},
	PermUsersManage:     {RoleAdmin},
	PermSettingsManage:  {RoleAdmin},
	PermAlertsRead:      {RoleOfficer, RoleAdmin},
	PermAuditRead:       {RoleOfficer, RoleAuditor},
	PermAuditManage:     {RoleOfficer, RoleAdmin},
}

// Can reports whether any of roles holds perm.
func Can(roles []string, perm string) bool {
	for _, r := range grants[perm] {
		if slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

// Permissions lists the permissions roles hold, sorted.
func Permissions(roles []string) []string {
	var out []string
	for p := range grants {
		if Can(roles, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// RequiresMFA reports whether roles make a second factor mandatory.
func RequiresMFA(roles []string) bool {
	return hasRole(roles, RoleAdmin) || hasRole(roles, RoleOfficer)
}

func hasRole(roles []string, r string) bool { return slices.Contains(roles, r) }

// User is an account.
type User struct {
	ID             string
	Username       string
	Name           string
	Roles          []string
	Disabled       bool
	DisabledReason string
	Created        time.Time
	LastLogin      time.Time // zero when never
	TempPassword   bool
	MFAEnabled     bool
	epoch          int
	hash           string
	temp           int
	tempExpires    time.Time
	mfaSecret      []byte
	mfaPending     []byte
	mfaLastStep    int64
}

// NewUser is what an administrator enters for a new account.
type NewUser struct {
	Username  string
	Name      string
	Password  string
	Roles     []string
	Temporary bool // the first sign-in must replace it (S19)
}

// Service manages users, sign-in and sessions in a vault's database.
type Service struct {
	w, r   *sql.DB
	log    *audit.Log
	alerts *audit.Alerts
	now    func() time.Time
	rand   io.Reader
	params Params
	base   Policy
	ids    *ehr.IDs
	dummy  string // hash verified for unknown users, so both cost the same

	mu         sync.Mutex
	accountLog AccountLog      // where account versions go (SetAccountLog)
	registry   SessionRegistry // sessions across devices (SetRegistry)
	regTimeout time.Duration
	regTouched map[string]time.Time // session id -> last remote touch
}

// New returns a Service with the default policy.
func New(w, r *sql.DB, log *audit.Log, now func() time.Time, rand io.Reader, p Params) (*Service, error) {
	dummy, err := Hash(rand, "outpost-dummy-password", p)
	if err != nil {
		return nil, err
	}
	ids := &ehr.IDs{Now: now, Rand: rand}
	return &Service{w: w, r: r, log: log, alerts: &audit.Alerts{Now: now, IDs: ids}, now: now, rand: rand, params: p,
		base: DefaultPolicy, ids: ids, dummy: dummy}, nil
}

// HasUsers reports whether any account exists.
func (s *Service) HasUsers(ctx context.Context) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		return false, fmt.Errorf("count users: %w", err)
	}
	return n > 0, nil
}

// ValidateNewUser returns field-level messages for nu (keys: username,
// name, password, roles).
func ValidateNewUser(nu NewUser) error {
	v := ehr.Invalid{}
	if !ValidUsername(NormalizeUsername(nu.Username)) {
		v.Add("username", "Use 2 to 64 letters a–z, digits, '.', '_' or '-', starting with a letter.")
	}
	name := strings.Join(strings.Fields(nu.Name), " ")
	if name == "" || len([]rune(name)) > 100 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		v.Add("name", "Enter the person's full name (at most 100 characters).")
	}
	if msg := CheckPassword(nu.Password, NormalizeUsername(nu.Username), name); msg != "" {
		v.Add("password", msg)
	}
	if len(nu.Roles) == 0 {
		v.Add("roles", "Give the account at least one role.")
	}
	for _, r := range nu.Roles {
		if !slices.Contains(AllRoles, r) {
			v.Add("roles", "Unknown role.")
		}
	}
	return v.Err()
}

// CreateUser adds an account inside tx and audits it as done by actor.
func (s *Service) CreateUser(ctx context.Context, tx *sql.Tx, actor string, nu NewUser) (User, error) {
	if err := ValidateNewUser(nu); err != nil {
		return User{}, err
	}
	now := s.now().UTC()
	u := User{Username: NormalizeUsername(nu.Username), Name: strings.Join(strings.Fields(nu.Name), " "), Roles: dedupe(nu.Roles), Created: now, TempPassword: nu.Temporary}
	var err error
	if u.ID, err = s.ids.New(); err != nil {
		return User{}, err
	}
	hash, err := Hash(s.rand, nu.Password, s.params)
	if err != nil {
		return User{}, err
	}
	temp, expires := 0, ""
	if nu.Temporary {
		temp, expires = 1, stamp(now.Add(s.base.TempTTL))
	}
	roles, _ := json.Marshal(u.Roles)
	_, err = tx.ExecContext(ctx, `INSERT INTO users (id, username, name, roles, password_hash, created_at, password_temp, password_expires)
		VALUES (?,?,?,?,?,?,?,?)`, u.ID, u.Username, u.Name, string(roles), hash, stamp(now), temp, expires)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return User{}, invalid("username", "This username is taken.")
		}
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if err := s.versionAccount(ctx, tx, actor, u.ID, groupRoles, groupPassword, groupMFA); err != nil {
		return User{}, err
	}
	if _, err := s.log.Append(ctx, tx, audit.Event{Username: actor, Action: "user.create", Outcome: audit.Success,
		RecordID: u.ID, Detail: "roles " + strings.Join(u.Roles, ",")}); err != nil {
		return User{}, err
	}
	return u, nil
}

func dedupe(roles []string) []string {
	out := slices.Clone(roles)
	slices.Sort(out)
	return slices.Compact(out)
}

const userColumns = `id, username, name, roles, password_hash, disabled, disabled_reason, created_at, last_login,
	password_temp, password_expires, mfa_secret, mfa_pending, mfa_last_step, epoch`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var roles, created, last, expires string
	if err := sc.Scan(&u.ID, &u.Username, &u.Name, &roles, &u.hash, &u.Disabled, &u.DisabledReason, &created, &last,
		&u.temp, &expires, &u.mfaSecret, &u.mfaPending, &u.mfaLastStep, &u.epoch); err != nil {
		return User{}, err
	}
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
		return User{}, fmt.Errorf("user roles: %w", err)
	}
	u.Created, u.LastLogin, u.tempExpires = parse(created), parse(last), parse(expires)
	u.TempPassword = u.temp > 0
	u.MFAEnabled = len(u.mfaSecret) > 0
	return u, nil
}

func (s *Service) userByName(ctx context.Context, q querier, username string) (User, error) {
	return scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE username = ?", username))
}

func (s *Service) userByID(ctx context.Context, q querier, id string) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ehr.Errorf(ehr.ENotFound, "No such user.")
	}
	return u, err
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parse(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func (s *Service) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
