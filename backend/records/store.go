// Package records is the versioned clinical record store. A write adds an
// immutable version, moves the record's heads, queues the version for
// sync and appends its audit event, all in one transaction, together with
// the typed projection that search and the chart read.
package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// Actor is the signed-in user on whose behalf the store acts.
type Actor struct {
	UserID   string
	Username string
	Roles    []string
	Session  string
}

// Config wires a Store.
type Config struct {
	Device     string // device id, written into every version
	DeviceCode string // three characters that prefix this device's clinic numbers
	Now        func() time.Time
	Rand       io.Reader
	Audit      *audit.Log
	Alerts     *audit.Alerts
	BreakGlass time.Duration // how long an emergency access lasts; zero: one hour
	// Accounts projects account versions (ehr.KindAccount) into the
	// users table: backend/auth. Nil: they are stored, not projected.
	Accounts AccountProjector
}

// Store reads and writes records in a vault's database: w is the single
// writer, r the read pool.
type Store struct {
	w, r *sql.DB
	// hot serves name search from the writer connection: every commit
	// empties the page caches of the other connections, and SQLCipher
	// decrypts every page it reads again, so searches (which follow the
	// audit write of the previous search) run several times faster on the
	// connection that wrote. Nothing holds a transaction on it across a
	// search.
	hot   *sql.DB
	cfg   Config
	clock *ehr.Clock
	ids   *ehr.IDs
}

// New returns a Store whose clock starts after the newest stored version.
func New(ctx context.Context, w, r *sql.DB, cfg Config) (*Store, error) {
	var last sql.NullInt64
	if err := r.QueryRowContext(ctx, "SELECT MAX(hlc) FROM versions").Scan(&last); err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	return &Store{
		w: w, r: r, hot: w, cfg: cfg,
		clock: ehr.NewClock(cfg.Now, ehr.HLC(last.Int64)),
		ids:   &ehr.IDs{Now: cfg.Now, Rand: cfg.Rand},
	}, nil
}

// put stores v as the new head of its record, replacing its parents, and
// writes its outbox entry and audit event. It runs inside tx.
func (s *Store) put(ctx context.Context, tx *sql.Tx, a Actor, v ehr.Version, action, patientID string) error {
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
	if _, err := tx.ExecContext(ctx, "INSERT INTO heads (record_id, version_id) VALUES (?, ?)", v.RecordID, v.VersionID); err != nil {
		return fmt.Errorf("move heads: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO outbox (version_id, queued_hlc) VALUES (?, ?)", v.VersionID, int64(v.HLC)); err != nil {
		return fmt.Errorf("queue version: %w", err)
	}
	if _, err := s.cfg.Audit.Append(ctx, tx, audit.Event{
		Username: a.Username, Roles: a.Roles, Session: a.Session, Action: action, Outcome: audit.Success,
		PatientID: patientID, RecordID: v.RecordID, Detail: "version " + v.VersionID,
	}); err != nil {
		return err
	}
	return nil
}

// newVersion fills the identity, clock, author and device of a version.
func (s *Store) newVersion(a Actor, kind, recordID string, parents []string, reason string, body []byte) (ehr.Version, error) {
	id, err := s.ids.New()
	if err != nil {
		return ehr.Version{}, err
	}
	if parents == nil {
		parents = []string{}
	}
	return ehr.Version{
		VersionID: id, RecordID: recordID, Kind: kind, Parents: parents, HLC: s.clock.Now(),
		Author: a.Username, Device: s.cfg.Device, Reason: reason, Body: body,
	}, nil
}

// heads returns the current head version ids of a record.
func heads(ctx context.Context, q querier, recordID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT version_id FROM heads WHERE record_id = ? ORDER BY version_id", recordID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// History returns every version of a record, oldest first, and audits
// the read.
func (s *Store) History(ctx context.Context, a Actor, recordID string) ([]ehr.Version, error) {
	if !ehr.ValidID(recordID) {
		return nil, ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	// A clinical record belongs to its patient's chart: the restriction
	// checked and the patient audited are the patient's.
	patientID := recordID
	err := s.r.QueryRowContext(ctx, "SELECT patient_id FROM chart WHERE record_id = ?", recordID).Scan(&patientID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("history: %w", err)
	}
	if err := s.checkAccess(ctx, s.r, a, patientID); err != nil {
		return nil, err
	}
	if err := s.auditRead(ctx, a, "record.history", patientID, recordID); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body
		FROM versions WHERE record_id = ? AND kind <> 'account' ORDER BY hlc, seq`, recordID)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	var out []ehr.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	if len(out) == 0 {
		return nil, ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	return out, nil
}

// VersionAsOf returns the version of a record that was current at t: the
// newest whose clock time is not after t.
func (s *Store) versionAsOf(ctx context.Context, recordID string, t time.Time) (ehr.Version, error) {
	row := s.r.QueryRowContext(ctx, `SELECT version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body
		FROM versions WHERE record_id = ? AND hlc <= ? ORDER BY hlc DESC, seq DESC LIMIT 1`,
		recordID, int64(ehr.MakeHLC(t, 0xffff)))
	v, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ehr.Version{}, ehr.Errorf(ehr.ENotFound, "The record did not exist at that time.")
	}
	return v, err
}

type scanner interface{ Scan(dest ...any) error }

func scanVersion(sc scanner) (ehr.Version, error) {
	var v ehr.Version
	var parents string
	var hlc int64
	if err := sc.Scan(&v.VersionID, &v.RecordID, &v.Kind, &parents, &hlc, &v.Author, &v.Device, &v.Reason, &v.Deleted, &v.Body); err != nil {
		return ehr.Version{}, err
	}
	v.HLC = ehr.HLC(hlc)
	if err := json.Unmarshal([]byte(parents), &v.Parents); err != nil {
		return ehr.Version{}, fmt.Errorf("version %s parents: %w", v.VersionID, err)
	}
	return v, nil
}

// auditRead records a read of patient data before it happens: when the
// event cannot be written, the read is refused.
func (s *Store) auditRead(ctx context.Context, a Actor, action, patientID, recordID string) error {
	err := s.cfg.Audit.Record(ctx, s.w, audit.Event{
		Username: a.Username, Roles: a.Roles, Session: a.Session, Action: action, Outcome: audit.Success,
		PatientID: patientID, RecordID: recordID,
	})
	if err != nil {
		return ehr.Wrap(ehr.EInternal, "The access could not be recorded in the audit log, so it was refused. Tell your administrator.", err)
	}
	return nil
}

// tx runs fn in a write transaction and commits it.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Outbox returns the number of versions waiting to be sent.
func (s *Store) Outbox(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM outbox").Scan(&n)
	return n, err
}
