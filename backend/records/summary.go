package records

import (
	"context"
	"fmt"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// SignEncounter closes an open visit: it ends now (unless an end was
// given), and carries who signed it and when. From then on it changes only
// by amendment.
func SignEncounter(ctx context.Context, s *Store, a Actor, id, base string) (Item[ehr.Encounter], error) {
	cur, err := Get(ctx, s, a, Encounters, id)
	if err != nil {
		return Item[ehr.Encounter]{}, err
	}
	if cur.VersionID != base {
		return Item[ehr.Encounter]{}, ehr.Errorf(ehr.EConflict, "This visit was changed by someone else since you opened it. Reopen it first.")
	}
	e := cur.Value
	if e.Status == "signed" {
		return cur, nil
	}
	now := s.cfg.Now().UTC().Format(time.RFC3339)
	if e.End == "" {
		e.End = now
	}
	e.Status, e.SignedBy, e.SignedAt = "signed", a.Username, now
	return Save(ctx, s, a, Encounters, id, base, e, "signed")
}

// AllergyWarnings returns the patient's active allergies that match a
// drug by code or by name, for a warning before it is prescribed.
func AllergyWarnings(ctx context.Context, s *Store, a Actor, patientID string, drug ehr.Concept) ([]ehr.Allergy, error) {
	items, err := List(ctx, s, a, Allergies, patientID, 500)
	if err != nil {
		return nil, err
	}
	all := make([]ehr.Allergy, 0, len(items))
	for _, it := range items {
		all = append(all, it.Value)
	}
	return ehr.AllergyConflicts(drug, all), nil
}

// Summary is the front page of a chart.
type Summary struct {
	Problems      []Item[ehr.Condition]    // active
	Medications   []Item[ehr.Medication]   // active
	Allergies     []Item[ehr.Allergy]      // active
	Vitals        []Item[ehr.Observation]  // the latest of each vital sign
	Immunizations []Item[ehr.Immunization] // newest first
	Visits        []Item[ehr.Encounter]    // the most recent
	Notes         []Item[ehr.Note]         // the most recent
}

// SummaryVisits is how many recent visits a summary shows.
const SummaryVisits = 10

// ChartSummary reads a patient's chart front page, audited as one read.
// It reads only the current heads it shows, through the chart indexes, so
// its cost does not grow with the number of past visits.
func ChartSummary(ctx context.Context, s *Store, a Actor, patientID string) (Summary, error) {
	if !ehr.ValidID(patientID) {
		return Summary{}, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	if err := s.checkAccess(ctx, s.r, a, patientID); err != nil {
		return Summary{}, err
	}
	if err := s.cfg.Audit.Record(ctx, s.w, audit.Event{Username: a.Username, Roles: a.Roles, Session: a.Session,
		Action: "chart.summary", Outcome: audit.Success, PatientID: patientID}); err != nil {
		return Summary{}, ehr.Wrap(ehr.EInternal, "The access could not be recorded in the audit log, so it was refused. Tell your administrator.", err)
	}
	var sum Summary
	var err error
	if sum.Problems, err = current(ctx, s, Conditions, patientID, "active", 200); err != nil {
		return Summary{}, err
	}
	if sum.Medications, err = current(ctx, s, Medications, patientID, "active", 200); err != nil {
		return Summary{}, err
	}
	if sum.Allergies, err = current(ctx, s, Allergies, patientID, "active", 200); err != nil {
		return Summary{}, err
	}
	if sum.Immunizations, err = current(ctx, s, Immunizations, patientID, "", 100); err != nil {
		return Summary{}, err
	}
	if sum.Visits, err = current(ctx, s, Encounters, patientID, "", SummaryVisits); err != nil {
		return Summary{}, err
	}
	if sum.Notes, err = current(ctx, s, Notes, patientID, "", SummaryVisits); err != nil {
		return Summary{}, err
	}
	for _, vt := range ehr.Vitals {
		rows, err := s.r.QueryContext(ctx, `SELECT v.version_id, v.record_id, v.kind, v.parents, v.hlc, v.author, v.device, v.reason, v.deleted, v.body
			FROM vitals x JOIN chart c ON c.record_id = x.record_id JOIN versions v ON v.version_id = c.version_id
			WHERE x.patient_id = ? AND x.vital = ? AND c.deleted = 0 ORDER BY x.at DESC LIMIT 1`, patientID, vt.Key)
		if err != nil {
			return Summary{}, fmt.Errorf("chart summary: %w", err)
		}
		items, err := scanItems(rows, Observations)
		if err != nil {
			return Summary{}, err
		}
		sum.Vitals = append(sum.Vitals, items...)
	}
	return sum, nil
}

// current lists a patient's records of a kind, optionally of one status,
// newest first, without auditing (the caller audits).
func current[T any](ctx context.Context, s *Store, k Kind[T], patientID, status string, limit int) ([]Item[T], error) {
	rows, err := s.r.QueryContext(ctx, `SELECT v.version_id, v.record_id, v.kind, v.parents, v.hlc, v.author, v.device, v.reason, v.deleted, v.body
		FROM chart c JOIN versions v ON v.version_id = c.version_id
		WHERE c.patient_id = ? AND c.kind = ? AND c.deleted = 0 AND (? = '' OR c.status = ?)
		ORDER BY c.at DESC, c.record_id LIMIT ?`, patientID, k.Name, status, status, limit)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", k.Name, err)
	}
	return scanItems(rows, k)
}

type rowsScanner interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}

func scanItems[T any](rows rowsScanner, k Kind[T]) ([]Item[T], error) {
	defer rows.Close()
	var out []Item[T]
	for rows.Next() {
		ver, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", k.Name, err)
		}
		v, err := k.Parse(ver.Body)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", k.Name, err)
		}
		out = append(out, Item[T]{ID: ver.RecordID, VersionID: ver.VersionID, Value: v, HLC: ver.HLC, Author: ver.Author, Deleted: ver.Deleted})
	}
	return out, rows.Err()
}

// Point is one value of a vital sign over time.
type Point struct {
	At    string
	Value float64
	Unit  string
}

// VitalSeries returns a patient's values of one vital sign, oldest first,
// for a plot; audited.
func VitalSeries(ctx context.Context, s *Store, a Actor, patientID, vital string, limit int) ([]Point, error) {
	if _, ok := ehr.VitalByKey(vital); !ok {
		return nil, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.", Fields: map[string]string{"vital": "Choose a vital sign."}}
	}
	if !ehr.ValidID(patientID) {
		return nil, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	if err := s.checkAccess(ctx, s.r, a, patientID); err != nil {
		return nil, err
	}
	if err := s.auditRead(ctx, a, "vitals.series", patientID, ""); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT x.at, x.value, x.unit FROM vitals x JOIN chart c ON c.record_id = x.record_id
		WHERE x.patient_id = ? AND x.vital = ? AND c.deleted = 0 ORDER BY x.at DESC LIMIT ?`, patientID, vital, limit)
	if err != nil {
		return nil, fmt.Errorf("vital series: %w", err)
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var p Point
		if err := rows.Scan(&p.At, &p.Value, &p.Unit); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}
