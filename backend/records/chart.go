package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/backend/ehr"
)

// Kind describes one clinical record kind to the generic store: how to
// validate, serialise and parse it, which patient it belongs to, what the
// chart projection keeps of it, and what a change of it must respect.
type Kind[T any] struct {
	Name     string
	Validate func(*T, time.Time) error
	Body     func(id string, v T) ([]byte, error)
	Parse    func([]byte) (T, error)
	Patient  func(T) string
	Facts    func(T) Facts
	// Guard checks a new version against the current one (nil for a new
	// record) and may fill in fields; reason is the user's reason.
	Guard func(old *T, v *T, reason string) error
}

// Facts are what the chart projection keeps of a record.
type Facts struct {
	Status      string
	At          string // RFC 3339 time or date
	EncounterID string
	Vital       string // for observations: the ehr.Vitals key
	Value       float64
	Unit        string
}

// Item is a clinical record at one version.
type Item[T any] struct {
	ID        string
	VersionID string
	Value     T
	HLC       ehr.HLC
	Author    string
	Deleted   bool
}

// Save stores v: a new record when id is "", else a new version of id made
// from base (refused with EConflict when base is no longer the only head).
// The patient must exist and be open to the actor (restricted charts).
func Save[T any](ctx context.Context, s *Store, a Actor, k Kind[T], id, base string, v T, reason string) (Item[T], error) {
	return save(ctx, s, a, k, id, base, v, reason, false)
}

// CreateAs stores v as a new record with a given id (an importer derives
// ids from the source, so importing the same data twice creates nothing
// new). It reports false, and writes nothing, when the id exists.
func CreateAs[T any](ctx context.Context, s *Store, a Actor, k Kind[T], id string, v T, reason string) (bool, Item[T], error) {
	if !ehr.ValidID(id) {
		return false, Item[T]{}, fmt.Errorf("create %s: bad id", k.Name)
	}
	if ok, err := s.Exists(ctx, id); err != nil || ok {
		return false, Item[T]{}, err
	}
	it, err := save(ctx, s, a, k, id, "", v, reason, true)
	return err == nil, it, err
}

// Exists reports whether any version of a record is stored.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	var n int
	if err := s.w.QueryRowContext(ctx, "SELECT count(*) FROM heads WHERE record_id = ?", id).Scan(&n); err != nil {
		return false, fmt.Errorf("record exists: %w", err)
	}
	return n > 0, nil
}

func save[T any](ctx context.Context, s *Store, a Actor, k Kind[T], id, base string, v T, reason string, create bool) (Item[T], error) {
	var item Item[T]
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		item, err = saveIn(ctx, s, tx, a, k, id, base, v, reason, create)
		return err
	})
	if err != nil {
		return Item[T]{}, fmt.Errorf("save %s: %w", k.Name, err)
	}
	return item, nil
}

// saveIn is save inside a transaction the caller holds.
func saveIn[T any](ctx context.Context, s *Store, tx *sql.Tx, a Actor, k Kind[T], id, base string, v T, reason string, create bool) (Item[T], error) {
	w, item, err := checkSave(ctx, s, tx, a, k, id, base, v, reason, create)
	if err != nil {
		return Item[T]{}, err
	}
	if err := w.write(ctx, s, tx, a); err != nil {
		return Item[T]{}, err
	}
	return item, nil
}

// checkedWrite is one record's write once every check has passed: the
// version, its audit action, and what the chart projection keeps.
type checkedWrite struct {
	ver       ehr.Version
	action    string
	patientID string
	facts     Facts
}

// write stores the version, its heads, outbox entry and audit event, and
// the projection, in tx.
func (w checkedWrite) write(ctx context.Context, s *Store, tx *sql.Tx, a Actor) error {
	if err := s.put(ctx, tx, a, w.ver, w.action, w.patientID); err != nil {
		return err
	}
	return projectChart(ctx, tx, w.ver, w.patientID, w.facts)
}

// checkSave does every check of a save that may refuse it (validation,
// the patient, access, conflicts, the kind's guard) and builds the
// version. It only reads tx: a refused record has written nothing.
func checkSave[T any](ctx context.Context, s *Store, tx *sql.Tx, a Actor, k Kind[T], id, base string, v T, reason string, create bool) (checkedWrite, Item[T], error) {
	if err := k.Validate(&v, s.cfg.Now()); err != nil {
		return checkedWrite{}, Item[T]{}, err
	}
	reason = strings.Join(strings.Fields(reason), " ")
	if utf8.RuneCountInString(reason) > maxReason || strings.ContainsFunc(reason, isControl) {
		return checkedWrite{}, Item[T]{}, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{"reason": fmt.Sprintf("Use at most %d printable characters.", maxReason)}}
	}
	patientID := k.Patient(v)
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM patients WHERE record_id = ? AND deleted = 0", patientID).Scan(&n); err != nil {
		return checkedWrite{}, Item[T]{}, err
	}
	if n == 0 {
		return checkedWrite{}, Item[T]{}, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.", Fields: map[string]string{"patientId": "No such patient."}}
	}
	if err := s.checkAccess(ctx, tx, a, patientID); err != nil {
		return checkedWrite{}, Item[T]{}, err
	}
	var parents []string
	var old *T
	action := k.Name + ".create"
	if id == "" || create {
		if id == "" {
			var err error
			if id, err = s.ids.New(); err != nil {
				return checkedWrite{}, Item[T]{}, err
			}
		}
		if reason == "" {
			reason = "recorded"
		}
	} else {
		if !ehr.ValidID(id) {
			return checkedWrite{}, Item[T]{}, ehr.Errorf(ehr.ENotFound, "No such record.")
		}
		hs, err := heads(ctx, tx, id)
		if err != nil {
			return checkedWrite{}, Item[T]{}, err
		}
		if len(hs) == 0 {
			return checkedWrite{}, Item[T]{}, ehr.Errorf(ehr.ENotFound, "No such record.")
		}
		if len(hs) != 1 || hs[0] != base {
			return checkedWrite{}, Item[T]{}, ehr.Errorf(ehr.EConflict, "This record was changed by someone else since you opened it. Reopen it and make your change again.")
		}
		cur, err := getVersion(ctx, tx, k, base)
		if err != nil {
			return checkedWrite{}, Item[T]{}, err
		}
		if cur.Deleted {
			return checkedWrite{}, Item[T]{}, ehr.Errorf(ehr.EConflict, "This record was deleted. Restore it before changing it.")
		}
		if k.Patient(cur.Value) != patientID {
			return checkedWrite{}, Item[T]{}, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.", Fields: map[string]string{"patientId": "A record cannot move to another patient."}}
		}
		if reason == "" {
			return checkedWrite{}, Item[T]{}, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.", Fields: map[string]string{"reason": "Say why the record is changed."}}
		}
		old, parents, action = &cur.Value, []string{base}, k.Name+".update"
	}
	if k.Guard != nil {
		if err := k.Guard(old, &v, reason); err != nil {
			return checkedWrite{}, Item[T]{}, err
		}
	}
	body, err := k.Body(id, v)
	if err != nil {
		return checkedWrite{}, Item[T]{}, err
	}
	ver, err := s.newVersion(a, k.Name, id, parents, reason, body)
	if err != nil {
		return checkedWrite{}, Item[T]{}, err
	}
	return checkedWrite{ver: ver, action: action, patientID: patientID, facts: k.Facts(v)},
		Item[T]{ID: id, VersionID: ver.VersionID, Value: v, HLC: ver.HLC, Author: ver.Author}, nil
}

func getVersion[T any](ctx context.Context, q querier, k Kind[T], versionID string) (Item[T], error) {
	row := q.QueryRowContext(ctx, `SELECT version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body
		FROM versions WHERE version_id = ?`, versionID)
	ver, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && ver.Kind != k.Name) {
		return Item[T]{}, ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	if err != nil {
		return Item[T]{}, err
	}
	v, err := k.Parse(ver.Body)
	if err != nil {
		return Item[T]{}, err
	}
	return Item[T]{ID: ver.RecordID, VersionID: ver.VersionID, Value: v, HLC: ver.HLC, Author: ver.Author, Deleted: ver.Deleted}, nil
}

// Get returns the current version of a clinical record, audited.
func Get[T any](ctx context.Context, s *Store, a Actor, k Kind[T], id string) (Item[T], error) {
	if !ehr.ValidID(id) {
		return Item[T]{}, ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	var vid, patientID, kind string
	err := s.r.QueryRowContext(ctx, "SELECT version_id, patient_id, kind FROM chart WHERE record_id = ?", id).Scan(&vid, &patientID, &kind)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != k.Name) {
		return Item[T]{}, ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	if err != nil {
		return Item[T]{}, fmt.Errorf("read %s: %w", k.Name, err)
	}
	if err := s.checkAccess(ctx, s.r, a, patientID); err != nil {
		return Item[T]{}, err
	}
	if err := s.auditRead(ctx, a, k.Name+".read", patientID, id); err != nil {
		return Item[T]{}, err
	}
	return getVersion(ctx, s.r, k, vid)
}

// List returns a patient's current records of kind k, newest first (by
// their clinical time), at most limit, audited as one read.
func List[T any](ctx context.Context, s *Store, a Actor, k Kind[T], patientID string, limit int) ([]Item[T], error) {
	if !ehr.ValidID(patientID) {
		return nil, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	if err := s.checkAccess(ctx, s.r, a, patientID); err != nil {
		return nil, err
	}
	if err := s.auditRead(ctx, a, k.Name+".list", patientID, ""); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT v.version_id, v.record_id, v.kind, v.parents, v.hlc, v.author, v.device, v.reason, v.deleted, v.body
		FROM chart c JOIN versions v ON v.version_id = c.version_id
		WHERE c.patient_id = ? AND c.kind = ? AND c.deleted = 0 ORDER BY c.at DESC, c.record_id LIMIT ?`, patientID, k.Name, limit)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", k.Name, err)
	}
	defer rows.Close()
	var out []Item[T]
	for rows.Next() {
		ver, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", k.Name, err)
		}
		v, err := k.Parse(ver.Body)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", k.Name, err)
		}
		out = append(out, Item[T]{ID: ver.RecordID, VersionID: ver.VersionID, Value: v, HLC: ver.HLC, Author: ver.Author})
	}
	return out, rows.Err()
}

// projectChart writes a record's current state into the chart tables.
func projectChart(ctx context.Context, tx execer, v ehr.Version, patientID string, f Facts) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO chart (record_id, patient_id, kind, version_id, status, at, encounter_id, deleted, updated_hlc)
		VALUES (?,?,?,?,?,?,?,?,?)
		ON CONFLICT(record_id) DO UPDATE SET version_id = excluded.version_id, status = excluded.status, at = excluded.at,
		encounter_id = excluded.encounter_id, deleted = excluded.deleted, updated_hlc = excluded.updated_hlc`,
		v.RecordID, patientID, v.Kind, v.VersionID, f.Status, f.At, f.EncounterID, v.Deleted, int64(v.HLC)); err != nil {
		return fmt.Errorf("project chart: %w", err)
	}
	if f.Vital == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO vitals (record_id, patient_id, vital, at, value, unit) VALUES (?,?,?,?,?,?)
		ON CONFLICT(record_id) DO UPDATE SET vital = excluded.vital, at = excluded.at, value = excluded.value, unit = excluded.unit`,
		v.RecordID, patientID, f.Vital, f.At, f.Value, f.Unit); err != nil {
		return fmt.Errorf("project vitals: %w", err)
	}
	return nil
}
