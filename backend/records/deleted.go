package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"outpost/backend/ehr"
)

// DeletedRecord is a record deleted by two people, which can be restored.
type DeletedRecord struct {
	DeletionRequest
	ApprovedBy string // username
	ApprovedAt time.Time
}

// DeletedRecords lists the records whose deletion was approved and that
// are still deleted, the most recent first, at most limit.
func (s *Store) DeletedRecords(ctx context.Context, limit int) ([]DeletedRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT a.id, a.target_id, v.kind, COALESCE(c.patient_id, a.target_id), COALESCE(u.username, ''),
			a.reason, a.at, COALESCE(w.username, ''), a.approved_at
		FROM approvals a JOIN heads h ON h.record_id = a.target_id JOIN versions v ON v.version_id = h.version_id
		LEFT JOIN chart c ON c.record_id = a.target_id LEFT JOIN users u ON u.id = a.requested_by LEFT JOIN users w ON w.id = a.approved_by
		WHERE a.kind = 'record.delete' AND a.approved_by <> '' AND v.deleted = 1
		ORDER BY a.approved_at DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("deleted records: %w", err)
	}
	defer rows.Close()
	var out []DeletedRecord
	seen := map[string]bool{}
	for rows.Next() {
		var d DeletedRecord
		var at, approvedAt string
		if err := rows.Scan(&d.ID, &d.RecordID, &d.Kind, &d.PatientID, &d.RequestedBy, &d.Reason, &at, &d.ApprovedBy, &approvedAt); err != nil {
			return nil, fmt.Errorf("deleted records: %w", err)
		}
		if seen[d.RecordID] { // deleted, restored and deleted again: the latest
			continue
		}
		seen[d.RecordID] = true
		d.At, _ = time.Parse(time.RFC3339Nano, at)
		d.ApprovedAt, _ = time.Parse(time.RFC3339Nano, approvedAt)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Head returns the current version of any record, deleted or not, with
// its patient: for showing what a deletion request is about. The read is
// access-checked and audited like any other.
func (s *Store) Head(ctx context.Context, a Actor, id string) (ehr.Version, string, error) {
	if !ehr.ValidID(id) {
		return ehr.Version{}, "", ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	v, patientID, err := s.recordFacts(ctx, s.r, id)
	if errors.Is(err, sql.ErrNoRows) {
		return ehr.Version{}, "", ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	if err != nil {
		return ehr.Version{}, "", fmt.Errorf("head: %w", err)
	}
	if err := s.checkAccess(ctx, s.r, a, patientID); err != nil {
		return ehr.Version{}, "", err
	}
	if err := s.auditRead(ctx, a, "record.read", patientID, id); err != nil {
		return ehr.Version{}, "", err
	}
	return v, patientID, nil
}
