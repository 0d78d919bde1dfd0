package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"outpost/backend/ehr"
)

// Accounts travel between a clinic's laptops as versions of kind
// ehr.KindAccount (record id = the user's id), written by backend/auth in
// the transaction of each account change and pushed, sealed, like any
// version. They are not clinical records: nothing here shows them (the
// chart, search, history, Conflicts and export read other kinds only),
// and their projection (the users table) is auth's, reached through the
// AccountProjector the app wires in (records does not import auth).

// AccountProjector projects an account's heads into the users table. It
// runs inside the transaction that stored a version of the account (a
// local change or a pulled page); heads are all of the record's heads,
// more than one when two laptops changed the account concurrently: the
// projector merges them deterministically, so every laptop computes the
// same state.
type AccountProjector interface {
	ProjectAccount(ctx context.Context, tx *sql.Tx, userID string, heads []ehr.Version) error
}

func (s *Store) accountProjector() AccountProjector { return s.cfg.Accounts }

// WriteAccount stores a new version of an account inside tx: its parents
// are all the account's heads (so a local change also ends a concurrent
// split), it becomes the only head, and it is queued for sync. author is
// the username of whoever made the change. The caller audits the change
// itself and has already written the users table, so nothing is
// projected here.
func (s *Store) WriteAccount(ctx context.Context, tx *sql.Tx, author, userID string, a ehr.Account) (ehr.Version, error) {
	if !ehr.ValidID(userID) {
		return ehr.Version{}, fmt.Errorf("write account: bad id")
	}
	body, err := ehr.AccountBody(a)
	if err != nil {
		return ehr.Version{}, fmt.Errorf("write account: %w", err)
	}
	parents, err := heads(ctx, tx, userID)
	if err != nil {
		return ehr.Version{}, fmt.Errorf("write account: %w", err)
	}
	v, err := s.newVersion(Actor{Username: author}, ehr.KindAccount, userID, parents, "account", body)
	if err != nil {
		return ehr.Version{}, err
	}
	raw, err := json.Marshal(v.Parents)
	if err != nil {
		return ehr.Version{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO versions (version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, v.VersionID, v.RecordID, v.Kind, string(raw), int64(v.HLC), v.Author, v.Device, v.Reason, false, v.Body); err != nil {
		return ehr.Version{}, fmt.Errorf("write account: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM heads WHERE record_id = ?", userID); err != nil {
		return ehr.Version{}, fmt.Errorf("write account: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO heads (record_id, version_id) VALUES (?, ?)", userID, v.VersionID); err != nil {
		return ehr.Version{}, fmt.Errorf("write account: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO outbox (version_id, queued_hlc) VALUES (?, ?)", v.VersionID, int64(v.HLC)); err != nil {
		return ehr.Version{}, fmt.Errorf("write account: %w", err)
	}
	return v, nil
}

// HasAccount reports whether any version of the account is stored (the
// backfill writes one for accounts made before accounts synced).
func (s *Store) HasAccount(ctx context.Context, q querier, userID string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM heads WHERE record_id = ?", userID).Scan(&n); err != nil {
		return false, fmt.Errorf("account: %w", err)
	}
	return n > 0, nil
}

// AccountHeads returns the head versions of an account, by version id.
func (s *Store) AccountHeads(ctx context.Context, q querier, userID string) ([]ehr.Version, error) {
	hs, err := heads(ctx, q, userID)
	if err != nil {
		return nil, fmt.Errorf("account heads: %w", err)
	}
	vs, err := loadVersions(ctx, q, hs)
	if err != nil {
		return nil, fmt.Errorf("account heads: %w", err)
	}
	for _, v := range vs {
		if v.Kind != ehr.KindAccount {
			return nil, fmt.Errorf("account heads: record %s is a %s", userID, v.Kind)
		}
	}
	return vs, nil
}

// ReprojectAccounts projects every stored account again (for a vault
// whose projector was not set when account versions arrived).
func (s *Store) ReprojectAccounts(ctx context.Context) error {
	p := s.accountProjector()
	if p == nil {
		return nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT h.record_id FROM heads h JOIN versions v ON v.version_id = h.version_id
		WHERE v.kind = ? ORDER BY h.record_id`, ehr.KindAccount)
	if err != nil {
		return fmt.Errorf("reproject accounts: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("reproject accounts: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reproject accounts: %w", err)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if err := s.projectAccount(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// projectAccount hands an account's heads to the projector.
func (s *Store) projectAccount(ctx context.Context, tx *sql.Tx, userID string) error {
	p := s.accountProjector()
	if p == nil {
		return nil
	}
	vs, err := s.AccountHeads(ctx, tx, userID)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return nil
	}
	if err := p.ProjectAccount(ctx, tx, userID, vs); err != nil {
		return fmt.Errorf("project account: %w", err)
	}
	return nil
}
