package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"outpost/backend/ehr"
)

// Visit is a visit with what was recorded at it.
type Visit struct {
	Encounter   Item[ehr.Encounter]
	Vitals      []Item[ehr.Observation] // oldest first
	Medications []Item[ehr.Medication]  // prescribed or reported at the visit, any status
	Notes       []Item[ehr.Note]
}

// VisitRecords reads a visit and every current record made at it, audited
// as one read of the visit.
func VisitRecords(ctx context.Context, s *Store, a Actor, encounterID string) (Visit, error) {
	if !ehr.ValidID(encounterID) {
		return Visit{}, ehr.Errorf(ehr.ENotFound, "No such visit.")
	}
	var vid, patientID, kind string
	err := s.r.QueryRowContext(ctx, "SELECT version_id, patient_id, kind FROM chart WHERE record_id = ? AND deleted = 0", encounterID).
		Scan(&vid, &patientID, &kind)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != Encounters.Name) {
		return Visit{}, ehr.Errorf(ehr.ENotFound, "No such visit.")
	}
	if err != nil {
		return Visit{}, fmt.Errorf("visit: %w", err)
	}
	if err := s.checkAccess(ctx, s.r, a, patientID); err != nil {
		return Visit{}, err
	}
	if err := s.auditRead(ctx, a, "encounter.read", patientID, encounterID); err != nil {
		return Visit{}, err
	}
	var v Visit
	if v.Encounter, err = getVersion(ctx, s.r, Encounters, vid); err != nil {
		return Visit{}, fmt.Errorf("visit: %w", err)
	}
	if v.Vitals, err = atVisit(ctx, s, Observations, encounterID); err != nil {
		return Visit{}, err
	}
	if v.Medications, err = atVisit(ctx, s, Medications, encounterID); err != nil {
		return Visit{}, err
	}
	if v.Notes, err = atVisit(ctx, s, Notes, encounterID); err != nil {
		return Visit{}, err
	}
	return v, nil
}

// atVisit lists the current records of a kind made at a visit, oldest
// first, at most 500 (the caller audits).
func atVisit[T any](ctx context.Context, s *Store, k Kind[T], encounterID string) ([]Item[T], error) {
	rows, err := s.r.QueryContext(ctx, `SELECT v.version_id, v.record_id, v.kind, v.parents, v.hlc, v.author, v.device, v.reason, v.deleted, v.body
		FROM chart c JOIN versions v ON v.version_id = c.version_id
		WHERE c.encounter_id = ? AND c.kind = ? AND c.deleted = 0
		ORDER BY c.at, c.record_id LIMIT 500`, encounterID, k.Name)
	if err != nil {
		return nil, fmt.Errorf("visit %s: %w", k.Name, err)
	}
	return scanItems(rows, k)
}
