package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// Deleting a record needs two people (S1): one asks, with a reason; a
// second authorised person approves; only then is a tombstone version
// written. Nothing is erased: the tombstone carries the last body, every
// earlier version stays, and a restore is one more version.

// DeletionRequest is a pending request to delete a record.
type DeletionRequest struct {
	ID          string
	RecordID    string
	Kind        string
	PatientID   string
	RequestedBy string // username
	Reason      string
	At          time.Time
}

// recordFacts returns the kind and patient of a record's current head.
func (s *Store) recordFacts(ctx context.Context, q querier, id string) (ver ehr.Version, patientID string, err error) {
	hs, err := heads(ctx, q, id)
	if err != nil {
		return ehr.Version{}, "", err
	}
	if len(hs) == 0 {
		return ehr.Version{}, "", ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	if len(hs) > 1 {
		return ehr.Version{}, "", ehr.Errorf(ehr.EConflict, "This record has a conflict to resolve first.")
	}
	row := q.QueryRowContext(ctx, `SELECT version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body
		FROM versions WHERE version_id = ?`, hs[0])
	if ver, err = scanVersion(row); err != nil {
		return ehr.Version{}, "", err
	}
	if ver.Kind == ehr.KindAccount { // not a record anyone may read or delete here
		return ehr.Version{}, "", ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	if ver.Kind == ehr.KindPatient {
		return ver, id, nil
	}
	err = q.QueryRowContext(ctx, "SELECT patient_id FROM chart WHERE record_id = ?", id).Scan(&patientID)
	return ver, patientID, err
}

func checkReason(reason string, min int) (string, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	if n := utf8.RuneCountInString(reason); n < min || n > maxReason || strings.ContainsFunc(reason, isControl) {
		return "", &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{"reason": fmt.Sprintf("Give the reason (%d to %d characters).", min, maxReason)}}
	}
	return reason, nil
}

// RequestDeletion asks for a record to be deleted. Nothing changes until a
// second person approves.
func (s *Store) RequestDeletion(ctx context.Context, a Actor, id, reason string) (DeletionRequest, error) {
	reason, err := checkReason(reason, 5)
	if err != nil {
		return DeletionRequest{}, err
	}
	if !ehr.ValidID(id) {
		return DeletionRequest{}, ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	rid, err := s.ids.New()
	if err != nil {
		return DeletionRequest{}, err
	}
	now := s.cfg.Now().UTC()
	var req DeletionRequest
	err = s.tx(ctx, func(tx *sql.Tx) error {
		ver, patientID, err := s.recordFacts(ctx, tx, id)
		if err != nil {
			return err
		}
		if ver.Deleted {
			return ehr.Errorf(ehr.EConflict, "This record is already deleted.")
		}
		if err := s.checkAccess(ctx, tx, a, patientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO approvals (id, kind, target_id, requested_by, reason, at) VALUES (?,?,?,?,?,?)",
			rid, "record.delete", id, a.UserID, reason, now.Format(time.RFC3339Nano)); err != nil {
			return err
		}
		req = DeletionRequest{ID: rid, RecordID: id, Kind: ver.Kind, PatientID: patientID, RequestedBy: a.Username, Reason: reason, At: now}
		_, err = s.cfg.Audit.Append(ctx, tx, audit.Event{Username: a.Username, Roles: a.Roles, Session: a.Session, Action: "record.delete_request",
			Outcome: audit.Success, PatientID: patientID, RecordID: id, Detail: "request " + rid})
		return err
	})
	if err != nil {
		return DeletionRequest{}, fmt.Errorf("request deletion: %w", err)
	}
	return req, nil
}

// PendingDeletions lists record deletions waiting for a second person.
func (s *Store) PendingDeletions(ctx context.Context) ([]DeletionRequest, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT a.id, a.target_id, v.kind, COALESCE(c.patient_id, a.target_id), u.username, a.reason, a.at
		FROM approvals a JOIN heads h ON h.record_id = a.target_id JOIN versions v ON v.version_id = h.version_id
		LEFT JOIN chart c ON c.record_id = a.target_id LEFT JOIN users u ON u.id = a.requested_by
		WHERE a.kind = 'record.delete' AND a.approved_by = '' ORDER BY a.at`)
	if err != nil {
		return nil, fmt.Errorf("pending deletions: %w", err)
	}
	defer rows.Close()
	var out []DeletionRequest
	for rows.Next() {
		var d DeletionRequest
		var at string
		var by sql.NullString
		if err := rows.Scan(&d.ID, &d.RecordID, &d.Kind, &d.PatientID, &by, &d.Reason, &at); err != nil {
			return nil, err
		}
		d.RequestedBy = by.String
		d.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ApproveDeletion carries out a request made by someone else: a tombstone
// version is written and the record leaves the chart and search.
func (s *Store) ApproveDeletion(ctx context.Context, a Actor, requestID string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var target, requester, approved, reason, asker string
		err := tx.QueryRowContext(ctx, `SELECT a.target_id, a.requested_by, a.approved_by, a.reason, COALESCE(u.username, '')
			FROM approvals a LEFT JOIN users u ON u.id = a.requested_by WHERE a.id = ? AND a.kind = 'record.delete'`, requestID).
			Scan(&target, &requester, &approved, &reason, &asker)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && approved != "") {
			return ehr.Errorf(ehr.ENotFound, "No such pending request.")
		}
		if err != nil {
			return err
		}
		if requester == a.UserID {
			return ehr.Errorf(ehr.EForbidden, "A second person must approve this deletion; you asked for it.")
		}
		if _, err := tx.ExecContext(ctx, "UPDATE approvals SET approved_by = ?, approved_at = ? WHERE id = ?",
			a.UserID, s.cfg.Now().UTC().Format(time.RFC3339Nano), requestID); err != nil {
			return err
		}
		return s.setDeleted(ctx, tx, a, target, true, fmt.Sprintf("deleted: %s (asked by %s, approved by %s)", reason, asker, a.Username),
			"record.delete_approve")
	})
	if err != nil {
		return fmt.Errorf("approve deletion: %w", err)
	}
	return nil
}

// Restore brings a deleted record back as a new version with a reason.
func (s *Store) Restore(ctx context.Context, a Actor, id, reason string) error {
	reason, err := checkReason(reason, 5)
	if err != nil {
		return err
	}
	if !ehr.ValidID(id) {
		return ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		return s.setDeleted(ctx, tx, a, id, false, "restored: "+reason, "record.restore")
	})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// setDeleted writes a tombstone (or a restoring version) carrying the last
// body, and updates the projection.
func (s *Store) setDeleted(ctx context.Context, tx *sql.Tx, a Actor, id string, deleted bool, reason, action string) error {
	cur, patientID, err := s.recordFacts(ctx, tx, id)
	if err != nil {
		return err
	}
	if cur.Deleted == deleted {
		return ehr.Errorf(ehr.EConflict, "The record is already in that state.")
	}
	if err := s.checkAccess(ctx, tx, a, patientID); err != nil {
		return err
	}
	v, err := s.newVersion(a, cur.Kind, id, []string{cur.VersionID}, reason, cur.Body)
	if err != nil {
		return err
	}
	v.Deleted = deleted
	if err := s.put(ctx, tx, a, v, action, patientID); err != nil {
		return err
	}
	return s.reproject(ctx, tx, v)
}

// reproject updates the projection of any kind after a new version.
func (s *Store) reproject(ctx context.Context, tx *sql.Tx, v ehr.Version) error {
	if v.Kind == ehr.KindAccount { // every head, merged by auth (account.go)
		return s.projectAccount(ctx, tx, v.RecordID)
	}
	if v.Kind == ehr.KindPatient {
		p, err := ehr.ParsePatientBody(v.Body)
		if err != nil {
			return err
		}
		by, err := restrictedBy(ctx, tx, v.RecordID)
		if err != nil {
			return err
		}
		return project(ctx, tx, v, p, by)
	}
	pj, ok := projectors[v.Kind]
	if !ok {
		return fmt.Errorf("reproject: unknown kind %q", v.Kind)
	}
	patientID, facts, err := pj(v.Body)
	if err != nil {
		return err
	}
	return projectChart(ctx, tx, v, patientID, facts)
}

type projector func(body []byte) (string, Facts, error)

func projectorOf[T any](k Kind[T]) projector {
	return func(body []byte) (string, Facts, error) {
		x, err := k.Parse(body)
		if err != nil {
			return "", Facts{}, err
		}
		return k.Patient(x), k.Facts(x), nil
	}
}

var projectors = map[string]projector{
	ehr.KindEncounter:    projectorOf(Encounters),
	ehr.KindObservation:  projectorOf(Observations),
	ehr.KindCondition:    projectorOf(Conditions),
	ehr.KindMedication:   projectorOf(Medications),
	ehr.KindAllergy:      projectorOf(Allergies),
	ehr.KindImmunization: projectorOf(Immunizations),
	ehr.KindNote:         projectorOf(Notes),
}

// Decode parses a version body of any kind into its domain value.
func Decode(kind string, body []byte) (any, error) {
	if kind == ehr.KindPatient {
		return ehr.ParsePatientBody(body)
	}
	d, ok := decoders[kind]
	if !ok {
		return nil, fmt.Errorf("decode: unknown kind %q", kind)
	}
	return d(body)
}

func decoderOf[T any](k Kind[T]) func([]byte) (any, error) {
	return func(b []byte) (any, error) { return k.Parse(b) }
}

var decoders = map[string]func([]byte) (any, error){
	ehr.KindEncounter:    decoderOf(Encounters),
	ehr.KindObservation:  decoderOf(Observations),
	ehr.KindCondition:    decoderOf(Conditions),
	ehr.KindMedication:   decoderOf(Medications),
	ehr.KindAllergy:      decoderOf(Allergies),
	ehr.KindImmunization: decoderOf(Immunizations),
	ehr.KindNote:         decoderOf(Notes),
	ehr.KindDocument:     decoderOf(Documents),
	ehr.KindAccount:      func(b []byte) (any, error) { return ehr.ParseAccountBody(b) },
}
