package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// Sync support: the versions waiting to be pushed, and applying versions
// pulled from the clinic server. Versions are immutable and idempotent by
// id, so applying one twice changes nothing; two versions that share a
// parent leave two heads, a conflict that a clinician resolves with a
// merge version (no version is ever lost).

// Outgoing returns up to limit versions waiting in the outbox, oldest
// first.
func (s *Store) Outgoing(ctx context.Context, limit int) ([]ehr.Version, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT v.version_id, v.record_id, v.kind, v.parents, v.hlc, v.author, v.device, v.reason, v.deleted, v.body
		FROM outbox o JOIN versions v ON v.version_id = o.version_id ORDER BY o.queued_hlc, v.seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("outgoing: %w", err)
	}
	defer rows.Close()
	var out []ehr.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("outgoing: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Sent removes versions the server has stored from the outbox.
func (s *Store) Sent(ctx context.Context, versionIDs []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range versionIDs {
			if _, err := tx.ExecContext(ctx, "DELETE FROM outbox WHERE version_id = ?", id); err != nil {
				return fmt.Errorf("sent: %w", err)
			}
		}
		return nil
	})
}

// Cursor returns the server sequence number applied up to, under key.
func (s *Store) Cursor(ctx context.Context, key string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "SELECT value FROM sync_state WHERE key = ?", key).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor: %w", err)
	}
	return n, nil
}

// Applied says what a pulled page did.
type Applied struct {
	New       int // versions stored
	Present   int // versions already here
	Conflicts int // records left with more than one head by this page
}

// ApplyRemote stores versions pulled from the server and advances the
// cursor under key to cursor, in one transaction: after a crash either
// both happened or neither. Each version's body must decode as its kind;
// a version that does not is refused with the whole page (the caller
// alerts: it came sealed with the clinic key, so a client has a bug or the
// key is compromised). The write is audited as one event per page.
func (s *Store) ApplyRemote(ctx context.Context, device string, vs []ehr.Version, key string, cursor int64) (Applied, error) {
	var res Applied
	err := s.tx(ctx, func(tx *sql.Tx) error {
		touched := map[string]ehr.Version{}
		for _, v := range vs {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM versions WHERE version_id = ?", v.VersionID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				res.Present++
				continue
			}
			if !ehr.ValidID(v.VersionID) || !ehr.ValidID(v.RecordID) {
				return ehr.Errorf(ehr.EInvalid, "A pulled version has a malformed id.")
			}
			if _, err := Decode(v.Kind, v.Body); err != nil {
				return ehr.Wrap(ehr.EInvalid, "A pulled version does not decode as its kind.", err)
			}
			if err := s.insertRemote(ctx, tx, v); err != nil {
				return err
			}
			s.clock.Observe(v.HLC)
			touched[v.RecordID] = v
			res.New++
		}
		for rid := range touched {
			hs, err := heads(ctx, tx, rid)
			if err != nil {
				return err
			}
			if len(hs) > 1 {
				res.Conflicts++
			}
			// The projection shows the newest head; a conflict is shown
			// apart (Conflicts) until a merge resolves it.
			v, err := newestHead(ctx, tx, hs)
			if err != nil {
				return err
			}
			if err := s.reproject(ctx, tx, v); err != nil {
				return fmt.Errorf("apply %s: %w", v.Kind, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			key, cursor); err != nil {
			return err
		}
		if res.New == 0 {
			return nil
		}
		_, err := s.cfg.Audit.Append(ctx, tx, audit.Event{Username: "sync", Roles: []string{}, Action: "sync.apply", Outcome: audit.Success,
			Detail: fmt.Sprintf("%d versions from the clinic server (cursor %d) via device %s", res.New, cursor, device)})
		return err
	})
	if err != nil {
		return Applied{}, fmt.Errorf("apply remote: %w", err)
	}
	return res, nil
}

// insertRemote stores a version made elsewhere: it replaces its parents
// among the heads unless a child of it is already here (pages arrive in
// server order, so that is rare), and is not queued for pushing.
func (s *Store) insertRemote(ctx context.Context, tx *sql.Tx, v ehr.Version) error {
	if v.Parents == nil {
		v.Parents = []string{}
	}
	parents, err := json.Marshal(v.Parents)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO versions (version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, v.VersionID, v.RecordID, v.Kind, string(parents), int64(v.HLC), v.Author, v.Device, v.Reason, v.Deleted, v.Body); err != nil {
		return fmt.Errorf("insert version: %w", err)
	}
	for _, p := range v.Parents {
		if _, err := tx.ExecContext(ctx, "DELETE FROM heads WHERE record_id = ? AND version_id = ?", v.RecordID, p); err != nil {
			return fmt.Errorf("move heads: %w", err)
		}
	}
	var children int
	// parents is a JSON array of ids (the vault's SQLite has no JSON
	// functions): a child names this id in quotes.
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM versions WHERE record_id = ? AND instr(parents, ?) > 0",
		v.RecordID, `"`+v.VersionID+`"`).Scan(&children); err != nil {
		return fmt.Errorf("move heads: %w", err)
	}
	if children > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO heads (record_id, version_id) VALUES (?, ?)", v.RecordID, v.VersionID); err != nil {
		return fmt.Errorf("move heads: %w", err)
	}
	return nil
}

func newestHead(ctx context.Context, tx *sql.Tx, heads []string) (ehr.Version, error) {
	var best ehr.Version
	for _, h := range heads {
		v, err := scanVersion(tx.QueryRowContext(ctx, `SELECT version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body
			FROM versions WHERE version_id = ?`, h))
		if err != nil {
			return ehr.Version{}, err
		}
		if best.VersionID == "" || v.HLC > best.HLC || (v.HLC == best.HLC && v.VersionID > best.VersionID) {
			best = v
		}
	}
	return best, nil
}

// Conflict is a record with more than one head.
type Conflict struct {
	RecordID string
	Kind     string
	Heads    []string
}

// Conflicts lists the records that have more than one head.
func (s *Store) Conflicts(ctx context.Context) ([]Conflict, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT h.record_id, v.kind, h.version_id FROM heads h JOIN versions v ON v.version_id = h.version_id
		WHERE h.record_id IN (SELECT record_id FROM heads GROUP BY record_id HAVING count(*) > 1) ORDER BY h.record_id, h.version_id`)
	if err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		var rid, kind, vid string
		if err := rows.Scan(&rid, &kind, &vid); err != nil {
			return nil, fmt.Errorf("conflicts: %w", err)
		}
		if n := len(out); n > 0 && out[n-1].RecordID == rid {
			out[n-1].Heads = append(out[n-1].Heads, vid)
			continue
		}
		out = append(out, Conflict{RecordID: rid, Kind: kind, Heads: []string{vid}})
	}
	return out, rows.Err()
}
