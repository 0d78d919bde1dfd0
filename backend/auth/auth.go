// Package auth holds users, their roles and passwords (argon2id), sign-in
// and its history. The full access rules (lockout, MFA, session limits)
// build on it.
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
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// Roles. A user may hold several.
const (
	RoleClinician = "clinician"
	RoleNurse     = "nurse"
	RoleClerk     = "clerk"
	RoleAdmin     = "administrator"
	RoleOfficer   = "officer"
	RoleAuditor   = "auditor"
)

// AllRoles lists every role.
var AllRoles = []string{RoleClinician, RoleNurse, RoleClerk, RoleAdmin, RoleOfficer, RoleAuditor}

// Permissions.
const (
	PermPatientRead  = "patient.read"
	PermPatientWrite = "patient.write"
)

// grants is the one permission table: which roles hold which permission.
var grants = map[string][]string{
	PermPatientRead:  {RoleClinician, RoleNurse, RoleClerk},
	PermPatientWrite: {RoleClinician, RoleNurse, RoleClerk},
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

// User is an account.
type User struct {
	ID       string
	Username string
	Name     string
	Roles    []string
	Disabled bool
	Created  time.Time
}

// NewUser is what an administrator enters for a new account.
type NewUser struct {
	Username string
	Name     string
	Password string
	Roles    []string
}

// Attempt is one sign-in attempt.
type Attempt struct {
	At          time.Time
	Workstation string
	OK          bool
}

// LoginResult is a successful sign-in with what the user should see: the
// previous successful sign-in and every failure since.
type LoginResult struct {
	User        User
	Last        *Attempt
	FailedSince []Attempt
}

// Service manages users in a vault's database.
type Service struct {
	w, r   *sql.DB
	log    *audit.Log
	now    func() time.Time
	rand   io.Reader
	params Params
	ids    *ehr.IDs
	dummy  string // hash verified for unknown users, so both cost the same
}

// New returns a Service.
func New(w, r *sql.DB, log *audit.Log, now func() time.Time, rand io.Reader, p Params) (*Service, error) {
	dummy, err := Hash(rand, "outpost-dummy-password", p)
	if err != nil {
		return nil, err
	}
	return &Service{w: w, r: r, log: log, now: now, rand: rand, params: p, ids: &ehr.IDs{Now: now, Rand: rand}, dummy: dummy}, nil
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
	if msg := CheckPassword(nu.Password, NormalizeUsername(nu.Username)); msg != "" {
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
	u := User{Username: NormalizeUsername(nu.Username), Name: strings.Join(strings.Fields(nu.Name), " "), Roles: nu.Roles, Created: s.now().UTC()}
	var err error
	if u.ID, err = s.ids.New(); err != nil {
		return User{}, err
	}
	hash, err := Hash(s.rand, nu.Password, s.params)
	if err != nil {
		return User{}, err
	}
	roles, _ := json.Marshal(u.Roles)
	_, err = tx.ExecContext(ctx, "INSERT INTO users (id, username, name, roles, password_hash, created_at) VALUES (?,?,?,?,?,?)",
		u.ID, u.Username, u.Name, string(roles), hash, u.Created.Format(time.RFC3339Nano))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return User{}, invalid("username", "This username is taken.")
		}
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if _, err := s.log.Append(ctx, tx, audit.Event{Username: actor, Action: "user.create", Outcome: audit.Success,
		RecordID: u.ID, Detail: "roles " + strings.Join(u.Roles, ",")}); err != nil {
		return User{}, err
	}
	return u, nil
}

// ErrBadLogin is the one answer to a wrong username or a wrong password.
var ErrBadLogin = ehr.Errorf(ehr.EAuth, "The username or password is not right.")

// Login checks a username and password from workstation. An unknown user
// and a wrong password cost the same time and give the same error. Every
// attempt is recorded and audited.
func (s *Service) Login(ctx context.Context, username, password, workstation string) (LoginResult, error) {
	username = NormalizeUsername(username)
	var u User
	var roles, hash, created string
	err := s.r.QueryRowContext(ctx, "SELECT id, username, name, roles, password_hash, disabled, created_at FROM users WHERE username = ?", username).
		Scan(&u.ID, &u.Username, &u.Name, &roles, &hash, &u.Disabled, &created)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	if !known {
		hash = s.dummy
	}
	ok, verr := Verify(hash, password)
	if verr != nil {
		return LoginResult{}, fmt.Errorf("login: %w", verr)
	}
	ok = ok && known && !u.Disabled
	if known {
		if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
			return LoginResult{}, fmt.Errorf("login: user roles: %w", err)
		}
		u.Created, _ = time.Parse(time.RFC3339Nano, created)
	}
	var res LoginResult
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if ok {
			var err error
			if res.Last, res.FailedSince, err = s.history(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		now := s.now().UTC()
		if _, err := tx.ExecContext(ctx, "INSERT INTO logins (user_id, at, ok, workstation) VALUES (?,?,?,?)",
			u.ID, now.Format(time.RFC3339Nano), ok, workstation); err != nil {
			return fmt.Errorf("record login: %w", err)
		}
		e := audit.Event{Action: "user.login", Outcome: audit.Success, RecordID: u.ID, Username: u.Username, Roles: u.Roles}
		switch {
		case !known:
			e.Outcome, e.Detail = audit.Failure, "unknown username"
		case !ok:
			e.Outcome, e.Detail = audit.Failure, "wrong password or account disabled"
		}
		_, err := s.log.Append(ctx, tx, e)
		return err
	})
	if err != nil {
		return LoginResult{}, err
	}
	if !ok {
		return LoginResult{}, ErrBadLogin
	}
	res.User = u
	return res, nil
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
		t, _ := time.Parse(time.RFC3339Nano, at)
		last = &Attempt{At: t, Workstation: ws, OK: true}
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
		t, _ := time.Parse(time.RFC3339Nano, at)
		failed = append(failed, Attempt{At: t, Workstation: ws})
	}
	return last, failed, rows.Err()
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
