package auth

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"outpost/backend/ehr"
)

// Accounts across laptops (issue 6, item 7). Every change of an account
// also writes a version of kind ehr.KindAccount (record id = user id) in
// the same transaction, through an AccountLog (records.Store), so the
// normal push carries it, sealed with the clinic key, to the clinic's
// other laptops. A pulled account version comes back through
// ProjectAccount, which merges the account's heads (two laptops may
// change one account offline) and writes the users table. Per-device
// state never travels: lockouts and failure counts, sign-in history,
// sessions, the TOTP replay guard and an enrolment in progress.

// AccountLog stores account versions: records.Store implements it.
type AccountLog interface {
	WriteAccount(ctx context.Context, tx *sql.Tx, author, userID string, a ehr.Account) (ehr.Version, error)
}

// SetAccountLog sets where account versions are written (the app does it
// at start, with the records store). Until it is set, changes are not
// versioned; BackfillAccounts versions them later.
func (s *Service) SetAccountLog(l AccountLog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accountLog = l
}

func (s *Service) accounts() AccountLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accountLog
}

// Groups of an account's state whose change time is kept, so the merge
// of concurrent versions takes each group from the newest change.
const (
	groupRoles    = "roles"
	groupPassword = "password"
	groupMFA      = "mfa"
)

// alertDuplicate is the alert raised when two laptops made one username.
const alertDuplicate = "duplicate-account"

// activeEvery is how often a sign-in also writes an account version (to
// carry the sign-in time to the other laptops, for the inactivity rule).
const activeEvery = 24 * time.Hour

// versionAccount stamps the groups changed and writes the account's
// state, as the users table now holds it, as a new version. author is
// the username of whoever made the change ("system" for a rule).
func (s *Service) versionAccount(ctx context.Context, tx *sql.Tx, author, id string, groups ...string) error {
	now := stamp(s.now())
	if _, err := tx.ExecContext(ctx, `UPDATE users SET roles_at = CASE WHEN ? THEN ? ELSE roles_at END,
		password_at = CASE WHEN ? THEN ? ELSE password_at END, mfa_at = CASE WHEN ? THEN ? ELSE mfa_at END WHERE id = ?`,
		slices.Contains(groups, groupRoles), now, slices.Contains(groups, groupPassword), now, slices.Contains(groups, groupMFA), now, id); err != nil {
		return fmt.Errorf("account version: %w", err)
	}
	l := s.accounts()
	if l == nil {
		return nil
	}
	a, err := accountState(ctx, tx, id)
	if err != nil {
		return err
	}
	a.Updated = now
	if _, err := l.WriteAccount(ctx, tx, author, id, a); err != nil {
		return fmt.Errorf("account version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE users SET active_synced = last_login WHERE id = ?", id); err != nil {
		return fmt.Errorf("account version: %w", err)
	}
	return nil
}

// accountState reads an account's shared state from the users table.
func accountState(ctx context.Context, q querier, id string) (ehr.Account, error) {
	var a ehr.Account
	var roles string
	err := q.QueryRowContext(ctx, `SELECT username, name, roles, password_hash, created_at, password_temp, password_expires, disabled,
		disabled_reason, mfa_secret, epoch, last_login, roles_at, password_at, mfa_at FROM users WHERE id = ?`, id).
		Scan(&a.Username, &a.Name, &roles, &a.PasswordHash, &a.Created, &a.TempPassword, &a.TempExpires, &a.Disabled,
			&a.DisabledReason, &a.MFASecret, &a.Epoch, &a.LastActive, &a.RolesAt, &a.PasswordAt, &a.MFAAt)
	if err != nil {
		return ehr.Account{}, fmt.Errorf("account state: %w", err)
	}
	if err := json.Unmarshal([]byte(roles), &a.Roles); err != nil {
		return ehr.Account{}, fmt.Errorf("account state: %w", err)
	}
	rows, err := q.QueryContext(ctx, "SELECT hash, used_at FROM recovery_codes WHERE user_id = ? ORDER BY hash", id)
	if err != nil {
		return ehr.Account{}, fmt.Errorf("account state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c ehr.RecoveryCode
		if err := rows.Scan(&c.Hash, &c.Used); err != nil {
			return ehr.Account{}, fmt.Errorf("account state: %w", err)
		}
		a.RecoveryCodes = append(a.RecoveryCodes, c)
	}
	return a, rows.Err()
}

// BackfillAccounts writes a first account version for every account that
// has none (made before accounts synced, or while no AccountLog was
// set). It is idempotent; the app runs it at every start.
func (s *Service) BackfillAccounts(ctx context.Context) (int, error) {
	if s.accounts() == nil {
		return 0, nil
	}
	rows, err := s.r.QueryContext(ctx, "SELECT id FROM users WHERE id NOT IN (SELECT record_id FROM heads) ORDER BY id")
	if err != nil {
		return 0, fmt.Errorf("backfill accounts: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("backfill accounts: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("backfill accounts: %w", err)
	}
	n := 0
	for _, id := range ids {
		if !ehr.ValidID(id) {
			continue
		}
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var heads int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM heads WHERE record_id = ?", id).Scan(&heads); err != nil || heads > 0 {
				return err
			}
			n++
			return s.versionAccount(ctx, tx, "system", id)
		})
		if err != nil {
			return n, fmt.Errorf("backfill accounts: %w", err)
		}
	}
	return n, nil
}

// ProjectAccount writes the merge of an account's heads into the users
// table (records calls it for every stored account version, local or
// pulled, inside the transaction that stored it). A username that
// another account already holds (two laptops made the same username
// offline) stays with the older account; the newer one is renamed and
// disabled ("duplicate"), and an alert tells the administrators.
func (s *Service) ProjectAccount(ctx context.Context, tx *sql.Tx, userID string, heads []ehr.Version) error {
	m, err := MergeAccounts(heads)
	if err != nil {
		return err
	}
	// A role this version of Outpost does not know (from a newer
	// laptop) grants nothing here.
	roles := []string{}
	for _, r := range m.Roles {
		if slices.Contains(AllRoles, r) {
			roles = append(roles, r)
		}
	}
	m.Roles = dedupe(roles)

	var exists bool
	var localEpoch int
	var localLast string
	var localSecret []byte
	err = tx.QueryRowContext(ctx, "SELECT epoch, last_login, mfa_secret FROM users WHERE id = ?", userID).Scan(&localEpoch, &localLast, &localSecret)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("project account: %w", err)
	default:
		exists = true
	}
	if err := s.settleUsername(ctx, tx, userID, &m); err != nil {
		return err
	}
	epoch := max(localEpoch, m.Epoch)
	last := m.LastActive
	if parse(localLast).After(parse(last)) {
		last = localLast
	}
	rolesJSON, _ := json.Marshal(m.Roles)
	var secret any
	if len(m.MFASecret) > 0 {
		secret = m.MFASecret
	}
	if exists {
		_, err = tx.ExecContext(ctx, `UPDATE users SET username = ?, name = ?, roles = ?, password_hash = ?, created_at = ?, disabled = ?,
			disabled_reason = ?, password_temp = ?, password_expires = ?, mfa_secret = ?, epoch = ?, last_login = ?, roles_at = ?,
			password_at = ?, mfa_at = ?, active_synced = ?, mfa_last_step = CASE WHEN ? THEN mfa_last_step ELSE 0 END WHERE id = ?`,
			m.Username, m.Name, string(rolesJSON), m.PasswordHash, m.Created, m.Disabled, m.DisabledReason, m.TempPassword, m.TempExpires,
			secret, epoch, last, m.RolesAt, m.PasswordAt, m.MFAAt, m.LastActive, bytes.Equal(localSecret, m.MFASecret), userID)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO users (id, username, name, roles, password_hash, created_at, disabled, disabled_reason,
			password_temp, password_expires, mfa_secret, epoch, last_login, roles_at, password_at, mfa_at, active_synced)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			userID, m.Username, m.Name, string(rolesJSON), m.PasswordHash, m.Created, m.Disabled, m.DisabledReason, m.TempPassword,
			m.TempExpires, secret, epoch, last, m.RolesAt, m.PasswordAt, m.MFAAt, m.LastActive)
	}
	if err != nil {
		return fmt.Errorf("project account: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("project account: %w", err)
	}
	for _, c := range m.RecoveryCodes {
		if _, err := tx.ExecContext(ctx, "INSERT INTO recovery_codes (user_id, hash, used_at) VALUES (?, ?, ?)", userID, c.Hash, c.Used); err != nil {
			return fmt.Errorf("project account: %w", err)
		}
	}
	return nil
}

// settleUsername keeps usernames unique when two laptops made the same
// one for different people: the account created first (then the lower
// id) keeps it on every laptop.
func (s *Service) settleUsername(ctx context.Context, tx *sql.Tx, userID string, m *ehr.Account) error {
	if m.DisabledReason == "duplicate" {
		return nil
	}
	var otherID, otherCreated string
	err := tx.QueryRowContext(ctx, "SELECT id, created_at FROM users WHERE username = ? AND id <> ?", m.Username, userID).Scan(&otherID, &otherCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("project account: %w", err)
	}
	name := m.Username
	if first(otherCreated, otherID, m.Created, userID) {
		// Renamed here as the laptop that made it renames it (below):
		// the same name, and the epoch one up, ending its sessions.
		m.Username, m.Disabled, m.DisabledReason = duplicateName(name, userID), true, "duplicate"
		m.Epoch++
	} else if _, err := tx.ExecContext(ctx, "UPDATE users SET username = ?, disabled = 1, disabled_reason = 'duplicate', epoch = epoch + 1 WHERE id = ?",
		duplicateName(name, otherID), otherID); err != nil {
		return fmt.Errorf("project account: %w", err)
	}
	return s.alerts.Raise(ctx, tx, alertDuplicate, "two laptops made accounts with the same username; the newer one was renamed and disabled", name, "")
}

// first reports whether the account (created a, id ida) came before (b, idb).
func first(a, ida, b, idb string) bool {
	ta, tb := parse(a), parse(b)
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return ida < idb
}

func duplicateName(name, id string) string {
	suffix := "-dup-" + strings.ReplaceAll(id, "-", "")[:12]
	if len(name)+len(suffix) > 64 {
		name = name[:64-len(suffix)]
	}
	return name + suffix
}

// MergeAccounts computes an account's state from its heads, the same on
// every laptop whatever the order the versions arrived in. One head is
// taken as it is. For concurrent heads the rule is security-monotone:
//
//   - username, name and creation: the newest head (by HLC, then version id);
//   - roles: the head whose roles changed last (rolesAt, then HLC);
//   - password, with its temporary state: the head whose password changed
//     last; a temporary password used on any laptop is used;
//   - second factor: the head whose MFA changed last; a recovery code used
//     on any laptop is used;
//   - disabled wins (deleted over admin over inactive);
//   - epoch: the highest, plus one when a head at that epoch differs from
//     the merge in password, roles or second factor, so every session
//     started under any of the heads' states ends (S18);
//   - the last sign-in and the update time: the latest.
func MergeAccounts(heads []ehr.Version) (ehr.Account, error) {
	if len(heads) == 0 {
		return ehr.Account{}, errors.New("merge accounts: no heads")
	}
	type head struct {
		v ehr.Version
		a ehr.Account
	}
	hs := make([]head, 0, len(heads))
	for _, v := range heads {
		a, err := ehr.ParseAccountBody(v.Body)
		if err != nil {
			return ehr.Account{}, fmt.Errorf("merge accounts: version %s: %w", v.VersionID, err)
		}
		hs = append(hs, head{v, a})
	}
	// Oldest first: a later head wins every tie below.
	slices.SortFunc(hs, func(x, y head) int {
		if x.v.HLC != y.v.HLC {
			if x.v.HLC < y.v.HLC {
				return -1
			}
			return 1
		}
		return strings.Compare(x.v.VersionID, y.v.VersionID)
	})
	if len(hs) == 1 {
		return hs[0].a, nil
	}
	newest := func(at func(ehr.Account) string) head {
		best := hs[0]
		for _, h := range hs[1:] {
			if !parse(at(h.a)).Before(parse(at(best.a))) {
				best = h
			}
		}
		return best
	}
	m := hs[len(hs)-1].a
	m.Roles = slices.Clone(newest(func(a ehr.Account) string { return a.RolesAt }).a.Roles)
	m.RolesAt = newest(func(a ehr.Account) string { return a.RolesAt }).a.RolesAt
	pw := newest(func(a ehr.Account) string { return a.PasswordAt }).a
	m.PasswordHash, m.PasswordAt, m.TempPassword, m.TempExpires = pw.PasswordHash, pw.PasswordAt, pw.TempPassword, pw.TempExpires
	mfa := newest(func(a ehr.Account) string { return a.MFAAt }).a
	m.MFASecret, m.MFAAt = slices.Clone(mfa.MFASecret), mfa.MFAAt
	m.RecoveryCodes = slices.Clone(mfa.RecoveryCodes)
	m.Disabled, m.DisabledReason = false, ""
	rank := map[string]int{"": 1, "inactive": 2, "duplicate": 3, "admin": 4, "deleted": 5}
	for _, h := range hs {
		a := h.a
		if a.PasswordHash == m.PasswordHash && a.PasswordAt == m.PasswordAt && a.TempPassword > m.TempPassword {
			m.TempPassword = a.TempPassword
		}
		if bytes.Equal(a.MFASecret, m.MFASecret) && a.MFAAt == m.MFAAt {
			for i, c := range m.RecoveryCodes {
				for _, o := range a.RecoveryCodes {
					if o.Hash == c.Hash && o.Used != "" && (c.Used == "" || parse(o.Used).Before(parse(c.Used))) {
						m.RecoveryCodes[i].Used = o.Used
					}
				}
			}
		}
		if a.Disabled && (!m.Disabled || rank[a.DisabledReason] > rank[m.DisabledReason]) {
			m.Disabled, m.DisabledReason = true, a.DisabledReason
		}
		if parse(a.LastActive).After(parse(m.LastActive)) {
			m.LastActive = a.LastActive
		}
		if parse(a.Updated).After(parse(m.Updated)) {
			m.Updated = a.Updated
		}
		m.Epoch = max(m.Epoch, a.Epoch)
	}
	for _, h := range hs {
		if h.a.Epoch == m.Epoch && !sameSecurity(h.a, m) {
			m.Epoch++
			break
		}
	}
	return m, nil
}

// sameSecurity reports whether two states agree on what a session was
// granted under: the password, the roles and the second factor.
func sameSecurity(a, b ehr.Account) bool {
	ra, rb := slices.Clone(a.Roles), slices.Clone(b.Roles)
	slices.Sort(ra)
	slices.Sort(rb)
	return a.PasswordHash == b.PasswordHash && slices.Equal(ra, rb) && bytes.Equal(a.MFASecret, b.MFASecret)
}
