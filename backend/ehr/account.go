package ehr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// KindAccount is a user account as it travels between a clinic's
// laptops: a version of kind account (record id = the user's id) is
// written with every change of the account, so that a practitioner can
// sign in on any enrolled laptop, offline too. It is never a clinical
// record: the chart, search, history, conflicts and FHIR export leave it
// out, and only backend/auth projects it (into the users table).
const KindAccount = "account"

// Account is the body of an account version: what another laptop needs
// to let this person sign in offline and to enforce the same state. The
// password is its argon2id hash (PHC string), the second factor its TOTP
// secret, recovery codes their SHA-256 hashes; all of it travels sealed
// with the clinic key only. Per-device state (lockouts, sign-in history,
// sessions, the TOTP replay guard, an enrolment in progress) stays on
// each laptop.
//
// The *At fields are UTC RFC 3339 times of the last change of their
// group; the merge of concurrent versions takes each group from the
// version whose stamp is newest (see auth's merge).
type Account struct {
	Username       string         `json:"username"`
	Name           string         `json:"name"`
	Roles          []string       `json:"roles"`
	RolesAt        string         `json:"rolesAt,omitempty"`
	Created        string         `json:"created"`
	PasswordHash   string         `json:"passwordHash"`
	PasswordAt     string         `json:"passwordAt,omitempty"`
	TempPassword   int            `json:"tempPassword,omitempty"` // 1 temporary, 2 temporary and used
	TempExpires    string         `json:"tempExpires,omitempty"`
	Disabled       bool           `json:"disabled,omitempty"`
	DisabledReason string         `json:"disabledReason,omitempty"` // inactive, admin, deleted
	MFASecret      []byte         `json:"mfaSecret,omitempty"`
	MFAAt          string         `json:"mfaAt,omitempty"`
	RecoveryCodes  []RecoveryCode `json:"recoveryCodes,omitempty"`
	Epoch          int            `json:"epoch"`
	LastActive     string         `json:"lastActive,omitempty"` // the newest sign-in known when written (inactivity, S24)
	Updated        string         `json:"updated"`
}

// RecoveryCode is a single-use MFA recovery code by its hash.
type RecoveryCode struct {
	Hash string `json:"hash"` // lower-case hex SHA-256
	Used string `json:"used,omitempty"`
}

var (
	accountUserRE = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,63}$`)
	accountRoleRE = regexp.MustCompile(`^[a-z]{1,32}$`)
	hexHashRE     = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Validate checks an account body's shape: the rules of who may hold
// which role are auth's, which checks the roles again when it projects.
func (a *Account) Validate() error {
	bad := func(what string) error { return fmt.Errorf("account: bad %s", what) }
	if !accountUserRE.MatchString(a.Username) {
		return bad("username")
	}
	if a.Name == "" || len(a.Name) > 400 {
		return bad("name")
	}
	if len(a.Roles) > 16 {
		return bad("roles")
	}
	for _, r := range a.Roles {
		if !accountRoleRE.MatchString(r) {
			return bad("roles")
		}
	}
	if len(a.PasswordHash) < 20 || len(a.PasswordHash) > 300 || a.PasswordHash[0] != '$' {
		return bad("password hash")
	}
	if a.TempPassword < 0 || a.TempPassword > 2 {
		return bad("temporary password state")
	}
	if a.Epoch < 0 {
		return bad("epoch")
	}
	if len(a.MFASecret) > 128 || len(a.RecoveryCodes) > 64 {
		return bad("second factor")
	}
	for _, c := range a.RecoveryCodes {
		if !hexHashRE.MatchString(c.Hash) {
			return bad("recovery code")
		}
	}
	for _, s := range []string{a.Created, a.RolesAt, a.PasswordAt, a.TempExpires, a.MFAAt, a.LastActive, a.Updated} {
		if s == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return bad("time")
		}
	}
	switch a.DisabledReason {
	case "", "inactive", "admin", "deleted", "duplicate":
	default:
		return bad("disabled reason")
	}
	return nil
}

// AccountBody returns the canonical JSON of an account.
func AccountBody(a Account) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return Canonical(a)
}

// ParseAccountBody decodes and checks an account body; unknown fields
// are refused.
func ParseAccountBody(body []byte) (Account, error) {
	var a Account
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return Account{}, fmt.Errorf("account: %w", err)
	}
	if dec.More() {
		return Account{}, fmt.Errorf("account: trailing data")
	}
	if err := a.Validate(); err != nil {
		return Account{}, err
	}
	return a, nil
}
