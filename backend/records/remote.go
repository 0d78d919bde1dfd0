package records

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

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
	// CROSS JOIN keeps the outbox (small, usually empty) as the outer
	// loop: with a plain JOIN, SQLite walked every version in seq order
	// to find the few queued, which read and decrypted the whole table
	// at every sync (25 ms on 60,000 versions, growing with the vault).
	rows, err := s.r.QueryContext(ctx, `SELECT v.version_id, v.record_id, v.kind, v.parents, v.hlc, v.author, v.device, v.reason, v.deleted, v.body
		FROM outbox o CROSS JOIN versions v ON v.version_id = o.version_id ORDER BY o.queued_hlc, v.seq LIMIT ?`, limit)
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
		st := &pageStmts{tx: tx}
		defer st.release()
		for _, id := range versionIDs {
			if _, err := st.ExecContext(ctx, "DELETE FROM outbox WHERE version_id = ?", id); err != nil {
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

// AnchorKey names, beside a cursor, the anchor of the version at the
// cursor: the last version of the last page applied (see Anchor).
func AnchorKey(cursorKey string) string { return cursorKey + "/anchor" }

// Anchor is a 63-bit digest of a version id, never 0. ApplyPage keeps the
// anchor of the version at the cursor, so that a client can check that
// the server still holds that version at that sequence number: a server
// restored from an older backup that has since taken new versions has a
// head above the cursor again, but not the same versions under the same
// numbers.
func Anchor(versionID string) int64 {
	h := sha256.Sum256([]byte("outpost-sync-anchor/1\n" + versionID))
	return int64(binary.BigEndian.Uint64(h[:8])>>1) | 1
}

// Applied says what a pulled page did.
type Applied struct {
	New       int // versions stored
	Present   int // versions already here
	Conflicts int // records left with more than one head by this page
}

// RemotePage is a pulled page whose versions were checked and decoded
// (CheckRemote), ready for ApplyPage.
type RemotePage struct {
	vs      []ehr.Version
	decoded []any
}

// Len returns the number of versions in the page.
func (p *RemotePage) Len() int { return len(p.vs) }

// CheckRemote checks pulled versions before they are stored: each id must
// be well formed and each body must decode as its kind; a version that
// does not refuses the whole page, and the sync stops there (it came
// sealed with the clinic key, so a client has a bug or the key is
// compromised; nothing is stored and the cursor does not move). It does
// not touch the vault, so a client checks the next page while ApplyPage
// stores the current one.
func CheckRemote(vs []ehr.Version) (*RemotePage, error) {
	p := &RemotePage{vs: vs, decoded: make([]any, len(vs))}
	for i, v := range vs {
		if !ehr.ValidID(v.VersionID) || !ehr.ValidID(v.RecordID) {
			return nil, ehr.Errorf(ehr.EInvalid, "A pulled version has a malformed id.")
		}
		x, err := Decode(v.Kind, v.Body)
		if err != nil {
			return nil, ehr.Wrap(ehr.EInvalid, "A pulled version does not decode as its kind.", err)
		}
		p.decoded[i] = x
	}
	return p, nil
}

// ApplyRemote stores versions pulled from the server and advances the
// cursor under key to cursor, in one transaction: after a crash either
// both happened or neither. It is CheckRemote then ApplyPage.
func (s *Store) ApplyRemote(ctx context.Context, device string, vs []ehr.Version, key string, cursor int64) (Applied, error) {
	p, err := CheckRemote(vs)
	if err != nil {
		return Applied{}, fmt.Errorf("apply remote: %w", err)
	}
	return s.ApplyPage(ctx, device, p, key, cursor)
}

// ApplyPage stores a checked page and advances the cursor under key to
// cursor, with the Anchor of the page's last version under AnchorKey(key),
// in one transaction. A version whose id is already here is
// left as it is (idempotent by id); each new version replaces its
// parents among the heads; two edits of one record leave two heads. The
// write is audited as one event per page.
//
// A page costs few statements (a page of 1,000 versions took about 6,000
// before, each prepared anew): the insert itself says whether a version
// is new; the heads of a record new to this laptop (most records of a
// first sync) are worked out in memory, and only a record that had
// versions before is checked for stored children; the heads after the
// page are the heads before it, less the parents the page replaces, and
// the new versions no version names; each record touched
// is reprojected once, from the body CheckRemote decoded when its newest
// head came in this page. Statements are prepared once per phase
// (pageStmts).
func (s *Store) ApplyPage(ctx context.Context, device string, p *RemotePage, key string, cursor int64) (Applied, error) {
	vs, decoded := p.vs, p.decoded
	var res Applied
	err := s.tx(ctx, func(tx *sql.Tx) error {
		st := &pageStmts{tx: tx}
		defer st.release()
		fresh := map[string]int{}  // version id -> index in vs, for the versions this page stored
		named := map[string]bool{} // version ids a new version of this page names as parent
		var records []string       // records touched, in page order
		byRecord := map[string][]int{}
		for i, v := range vs {
			if _, dup := fresh[v.VersionID]; dup {
				res.Present++
				continue
			}
			stored, err := insertRemote(ctx, st, v)
			if err != nil {
				return err
			}
			if !stored {
				res.Present++
				continue
			}
			fresh[v.VersionID] = i
			for _, p := range v.Parents {
				named[p] = true
			}
			if _, ok := byRecord[v.RecordID]; !ok {
				records = append(records, v.RecordID)
			}
			byRecord[v.RecordID] = append(byRecord[v.RecordID], i)
			s.clock.Observe(v.HLC)
			res.New++
		}
		st.release()
		// Which records had versions before this page (a record with
		// versions always has a head), and their heads.
		before := map[string][]string{}
		for _, rid := range records {
			hs, err := heads(ctx, st, rid)
			if err != nil {
				return err
			}
			before[rid] = hs
		}
		st.release()
		// Heads: each new version replaces its parents; it is a head
		// itself unless a version names it: one of this page (named), or,
		// for a record known before, one stored before it (pages arrive in
		// server order, so that is rare, but a laptop may hold a child
		// whose parent reaches the server later).
		newest := make([]head, 0, len(records))
		for _, rid := range records {
			old := before[rid]
			known := len(old) > 0
			var hs []string
			for _, h := range old {
				if !named[h] {
					hs = append(hs, h)
				}
			}
			for _, i := range byRecord[rid] {
				v := vs[i]
				for _, p := range v.Parents {
					if !slices.Contains(old, p) {
						continue // not a head here: nothing to replace
					}
					if _, err := st.ExecContext(ctx, "DELETE FROM heads WHERE record_id = ? AND version_id = ?", v.RecordID, p); err != nil {
						return fmt.Errorf("move heads: %w", err)
					}
				}
				if named[v.VersionID] {
					continue
				}
				if known {
					var children int
					// parents is a JSON array of ids (the vault's SQLite
					// has no JSON functions): a child names this id in
					// quotes.
					if err := st.QueryRowContext(ctx, "SELECT count(*) FROM versions WHERE record_id = ? AND instr(parents, ?) > 0",
						v.RecordID, `"`+v.VersionID+`"`).Scan(&children); err != nil {
						return fmt.Errorf("move heads: %w", err)
					}
					if children > 0 {
						continue
					}
				}
				if _, err := st.ExecContext(ctx, "INSERT INTO heads (record_id, version_id) VALUES (?, ?)", v.RecordID, v.VersionID); err != nil {
					return fmt.Errorf("move heads: %w", err)
				}
				hs = append(hs, v.VersionID)
			}
			// The projection shows each record's newest head; a conflict
			// is shown apart (Conflicts) until a merge resolves it.
			if len(hs) > 1 {
				res.Conflicts++
			}
			h, err := newestOf(ctx, st, hs, vs, decoded, fresh)
			if err != nil {
				return err
			}
			newest = append(newest, h)
		}
		st.release()
		if err := s.reprojectPage(ctx, st, newest); err != nil {
			return err
		}
		st.release()
		if _, err := tx.ExecContext(ctx, "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			key, cursor); err != nil {
			return err
		}
		if len(vs) > 0 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
				AnchorKey(key), Anchor(vs[len(vs)-1].VersionID)); err != nil {
				return err
			}
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

// insertRemote stores a version made elsewhere unless its id is already
// here, and reports whether it stored it. It is not queued for pushing;
// ApplyPage moves the heads.
func insertRemote(ctx context.Context, st execer, v ehr.Version) (bool, error) {
	if v.Parents == nil {
		v.Parents = []string{}
	}
	parents, err := json.Marshal(v.Parents)
	if err != nil {
		return false, err
	}
	r, err := st.ExecContext(ctx, `INSERT INTO versions (version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body)
		VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (version_id) DO NOTHING`,
		v.VersionID, v.RecordID, v.Kind, string(parents), int64(v.HLC), v.Author, v.Device, v.Reason, v.Deleted, v.Body)
	if err != nil {
		return false, fmt.Errorf("insert version: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert version: %w", err)
	}
	return n == 1, nil
}

// A head to project: the version, and its decoded body when it came in
// the page being applied.
type head struct {
	v ehr.Version
	x any
}

// newestOf returns the newest of a record's heads.
func newestOf(ctx context.Context, st *pageStmts, hs []string, vs []ehr.Version, decoded []any, fresh map[string]int) (head, error) {
	var best head
	for _, h := range hs {
		var c head
		if i, ok := fresh[h]; ok {
			c = head{vs[i], decoded[i]}
		} else {
			v, err := scanVersion(st.QueryRowContext(ctx, `SELECT version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body
				FROM versions WHERE version_id = ?`, h))
			if err != nil {
				return head{}, err
			}
			c = head{v: v}
		}
		if best.v.VersionID == "" || c.v.HLC > best.v.HLC || (c.v.HLC == best.v.HLC && c.v.VersionID > best.v.VersionID) {
			best = c
		}
	}
	return best, nil
}

// reprojectPage projects the newest head of every record a page touched:
// the chart's kinds first, then patients, each from the body decoded
// when it came in this page; anything else (and a head stored before
// the page) through reproject. Grouped by statement so that few
// prepared statements are alive at once (see pageStmts).
func (s *Store) reprojectPage(ctx context.Context, st *pageStmts, hs []head) error {
	var patients, others []head
	for _, h := range hs {
		f, chart := chartFacts[h.v.Kind]
		switch {
		case h.v.VersionID == "":
		case h.x != nil && chart:
			patientID, facts := f(h.x)
			if err := projectChart(ctx, st, h.v, patientID, facts); err != nil {
				return fmt.Errorf("apply %s: %w", h.v.Kind, err)
			}
		case h.x != nil && h.v.Kind == ehr.KindPatient:
			patients = append(patients, h)
		default:
			others = append(others, h)
		}
	}
	st.release()
	for _, h := range patients {
		p, ok := h.x.(ehr.Patient)
		if !ok {
			others = append(others, h)
			continue
		}
		by, err := restrictedBy(ctx, st, h.v.RecordID)
		if err != nil {
			return err
		}
		if err := project(ctx, st, h.v, p, by); err != nil {
			return fmt.Errorf("apply %s: %w", h.v.Kind, err)
		}
	}
	st.release()
	for _, h := range others {
		if err := s.reproject(ctx, st.tx, h.v); err != nil {
			return fmt.Errorf("apply %s: %w", h.v.Kind, err)
		}
	}
	return nil
}

// chartFacts projects a decoded body of the chart's kinds, as
// reproject's projectors do from the body; any other kind goes through
// reproject.
var chartFacts = map[string]func(any) (string, Facts){
	ehr.KindEncounter:    factsOf(Encounters),
	ehr.KindObservation:  factsOf(Observations),
	ehr.KindCondition:    factsOf(Conditions),
	ehr.KindMedication:   factsOf(Medications),
	ehr.KindAllergy:      factsOf(Allergies),
	ehr.KindImmunization: factsOf(Immunizations),
	ehr.KindNote:         factsOf(Notes),
}

func factsOf[T any](k Kind[T]) func(any) (string, Facts) {
	return func(x any) (string, Facts) {
		t := x.(T)
		return k.Patient(t), k.Facts(t)
	}
}

// execer is what projections write through: a transaction, or a page's
// prepared statements.
type execer interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// pageStmts runs statements inside one transaction, preparing each query
// once: applying a page runs the same few statements thousands of times,
// and preparing them (SQLite compiles every statement) cost more than
// running them. Callers pass constant queries, as everywhere.
type pageStmts struct {
	tx *sql.Tx
	m  map[string]*sql.Stmt
}

func (p *pageStmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.m[query]; ok {
		return st, nil
	}
	// Callers pass constant queries to the methods below, where the
	// arch test checks them.
	st, err := p.tx.PrepareContext(ctx, query) // sqlcheck: a caller's constant query
	if err != nil {
		return nil, err
	}
	if p.m == nil {
		p.m = map[string]*sql.Stmt{}
	}
	p.m[query] = st
	return st, nil
}

func (p *pageStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	// sqlcheck: a prepared statement; these are its values.
	return st.ExecContext(ctx, args...)
}

func (p *pageStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	// sqlcheck: a prepared statement; these are its values.
	return st.QueryContext(ctx, args...)
}

func (p *pageStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		// The same constant query, run unprepared so that the row
		// carries the error.
		return p.tx.QueryRowContext(ctx, query, args...) // sqlcheck: a caller's constant query

	}
	// sqlcheck: a prepared statement; these are its values.
	return st.QueryRowContext(ctx, args...)
}

// release closes the statements prepared so far. Every prepared
// statement holds some of the connection's lookaside memory; once it is
// used up, SQLite allocates from the heap, which SQLCipher's memory
// security (every allocation locked in RAM, every free wiped and
// unlocked: two system calls) makes several times slower. A dozen
// statements alive at once made every insert about four times slower,
// so ApplyRemote releases them between its phases.
func (p *pageStmts) release() {
	for _, st := range p.m {
		st.Close()
	}
	clear(p.m)
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
		WHERE v.kind <> 'account' AND h.record_id IN (SELECT record_id FROM heads GROUP BY record_id HAVING count(*) > 1)
		ORDER BY h.record_id, h.version_id`)
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
