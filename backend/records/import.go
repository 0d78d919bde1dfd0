package records

import (
	"context"
	"database/sql"
	"fmt"

	"outpost/backend/ehr"
)

// ImportPatients registers many patients in one transaction: each gets a
// clinic number, a first version, an outbox entry, an audit event
// ("patient.import") and its search projection, exactly as RegisterPatient
// does for one. Either every patient is stored or, on the first failure,
// none is. The records are returned in the order of ps.
//
// One transaction means one commit (one fsync) for the whole batch, so a
// caller importing a large register should pass batches of a few thousand
// patients: the transaction holds the writer for its whole duration.
func (s *Store) ImportPatients(ctx context.Context, a Actor, ps []ehr.Patient) ([]PatientRecord, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	recs := make([]PatientRecord, 0, len(ps))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for i, p := range ps {
			rec, err := s.importOne(ctx, tx, a, p)
			if err != nil {
				return fmt.Errorf("patient %d of %d: %w", i+1, len(ps), err)
			}
			recs = append(recs, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import patients: %w", err)
	}
	return recs, nil
}

// importOne stores one imported patient inside tx.
func (s *Store) importOne(ctx context.Context, tx *sql.Tx, a Actor, p ehr.Patient) (PatientRecord, error) {
	if err := ctx.Err(); err != nil {
		return PatientRecord{}, err
	}
	id, err := s.ids.New()
	if err != nil {
		return PatientRecord{}, err
	}
	no, err := s.nextClinicNo(ctx, tx)
	if err != nil {
		return PatientRecord{}, err
	}
	p.ClinicNo = no
	body, err := ehr.PatientBody(id, p)
	if err != nil {
		return PatientRecord{}, err
	}
	v, err := s.newVersion(a, ehr.KindPatient, id, nil, "imported", body)
	if err != nil {
		return PatientRecord{}, err
	}
	if err := s.put(ctx, tx, a, v, "patient.import", id); err != nil {
		return PatientRecord{}, err
	}
	if err := project(ctx, tx, v, p, ""); err != nil {
		return PatientRecord{}, err
	}
	return PatientRecord{ID: id, VersionID: v.VersionID, Patient: p, HLC: v.HLC, Author: v.Author}, nil
}

// ImportPatientAs stores an imported patient under a given id, with a new
// clinic number. It reports false, and writes nothing, when the id exists,
// so importing the same data twice creates nothing new.
func (s *Store) ImportPatientAs(ctx context.Context, a Actor, id string, p ehr.Patient) (bool, PatientRecord, error) {
	if !ehr.ValidID(id) {
		return false, PatientRecord{}, fmt.Errorf("import patient: bad id")
	}
	if ok, err := s.Exists(ctx, id); err != nil || ok {
		return false, PatientRecord{}, err
	}
	var rec PatientRecord
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		rec, err = s.importOneAs(ctx, tx, a, id, p)
		return err
	})
	if err != nil {
		return false, PatientRecord{}, fmt.Errorf("import patient: %w", err)
	}
	return true, rec, nil
}

// importOneAs stores an imported patient under id inside tx.
func (s *Store) importOneAs(ctx context.Context, tx *sql.Tx, a Actor, id string, p ehr.Patient) (PatientRecord, error) {
	no, err := s.nextClinicNo(ctx, tx)
	if err != nil {
		return PatientRecord{}, err
	}
	p.ClinicNo = no
	body, err := ehr.PatientBody(id, p)
	if err != nil {
		return PatientRecord{}, err
	}
	v, err := s.newVersion(a, ehr.KindPatient, id, nil, "imported", body)
	if err != nil {
		return PatientRecord{}, err
	}
	if err := s.put(ctx, tx, a, v, "patient.import", id); err != nil {
		return PatientRecord{}, err
	}
	if err := project(ctx, tx, v, p, ""); err != nil {
		return PatientRecord{}, err
	}
	return PatientRecord{ID: id, VersionID: v.VersionID, Patient: p, HLC: v.HLC, Author: v.Author}, nil
}

// PatientIDs returns the ids of every current patient, for a whole-clinic
// export.
func (s *Store) PatientIDs(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT record_id FROM patients WHERE deleted = 0 ORDER BY clinic_no")
	if err != nil {
		return nil, fmt.Errorf("patient ids: %w", err)
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
