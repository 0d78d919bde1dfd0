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
	"outpost/backend/phonetic"
)

// PatientRecord is a patient at one version.
type PatientRecord struct {
	ID        string
	VersionID string
	Patient   ehr.Patient
	HLC       ehr.HLC // when this version was written
	Author    string
	Deleted   bool
	// RestrictedBy is the responsible clinician of a restricted chart.
	RestrictedBy string
}

const maxReason = 200

// RegisterPatient stores a new patient and assigns its clinic number.
func (s *Store) RegisterPatient(ctx context.Context, a Actor, p ehr.Patient) (PatientRecord, error) {
	id, err := s.ids.New()
	if err != nil {
		return PatientRecord{}, err
	}
	var rec PatientRecord
	err = s.tx(ctx, func(tx *sql.Tx) error {
		no, err := s.nextClinicNo(ctx, tx)
		if err != nil {
			return err
		}
		p.ClinicNo = no
		body, err := ehr.PatientBody(id, p)
		if err != nil {
			return err
		}
		v, err := s.newVersion(a, ehr.KindPatient, id, nil, "registered", body)
		if err != nil {
			return err
		}
		if err := s.put(ctx, tx, a, v, "patient.register", id); err != nil {
			return err
		}
		if err := project(ctx, tx, v, p, ""); err != nil {
			return err
		}
		rec = PatientRecord{ID: id, VersionID: v.VersionID, Patient: p, HLC: v.HLC, Author: v.Author}
		return nil
	})
	if err != nil {
		return PatientRecord{}, fmt.Errorf("register patient: %w", err)
	}
	return rec, nil
}

// UpdatePatient writes a new version of a patient. base is the version
// the user edited: when it is no longer the only head, the update is
// refused with EConflict so nothing is silently overwritten. The clinic
// number never changes.
func (s *Store) UpdatePatient(ctx context.Context, a Actor, id, base string, p ehr.Patient, reason string) (PatientRecord, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	switch {
	case reason == "":
		return PatientRecord{}, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.", Fields: map[string]string{"reason": "Say why the record is changed."}}
	case utf8.RuneCountInString(reason) > maxReason || strings.ContainsFunc(reason, isControl):
		return PatientRecord{}, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.", Fields: map[string]string{"reason": fmt.Sprintf("Use at most %d printable characters.", maxReason)}}
	case !ehr.ValidID(id):
		return PatientRecord{}, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	var rec PatientRecord
	err := s.tx(ctx, func(tx *sql.Tx) error {
		hs, err := heads(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			return ehr.Errorf(ehr.ENotFound, "No such patient.")
		}
		if len(hs) != 1 || hs[0] != base {
			return ehr.Errorf(ehr.EConflict, "This patient was changed by someone else since you opened it. Reopen the record and make your change again.")
		}
		cur, err := s.patientVersion(ctx, tx, base)
		if err != nil {
			return err
		}
		if cur.Deleted {
			return ehr.Errorf(ehr.EConflict, "This patient's record was deleted.")
		}
		if err := s.checkAccess(ctx, tx, a, id); err != nil {
			return err
		}
		p.ClinicNo = cur.Patient.ClinicNo
		p.Restricted = cur.Patient.Restricted // changed only by SetRestricted
		if p == cur.Patient {
			rec = cur // nothing changed: no new version
			return nil
		}
		body, err := ehr.PatientBody(id, p)
		if err != nil {
			return err
		}
		v, err := s.newVersion(a, ehr.KindPatient, id, []string{base}, reason, body)
		if err != nil {
			return err
		}
		if err := s.put(ctx, tx, a, v, "patient.update", id); err != nil {
			return err
		}
		by, err := restrictedBy(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := project(ctx, tx, v, p, by); err != nil {
			return err
		}
		rec = PatientRecord{ID: id, VersionID: v.VersionID, Patient: p, HLC: v.HLC, Author: v.Author}
		return nil
	})
	if err != nil {
		return PatientRecord{}, fmt.Errorf("update patient: %w", err)
	}
	return rec, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// Patient returns the current version of a patient and audits the read.
func (s *Store) Patient(ctx context.Context, a Actor, id string) (PatientRecord, error) {
	if !ehr.ValidID(id) {
		return PatientRecord{}, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	if err := s.checkAccess(ctx, s.r, a, id); err != nil {
		return PatientRecord{}, err
	}
	if err := s.auditRead(ctx, a, "patient.read", id, id); err != nil {
		return PatientRecord{}, err
	}
	var vid string
	err := s.r.QueryRowContext(ctx, "SELECT version_id FROM patients WHERE record_id = ?", id).Scan(&vid)
	if errors.Is(err, sql.ErrNoRows) {
		return PatientRecord{}, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	if err != nil {
		return PatientRecord{}, fmt.Errorf("read patient: %w", err)
	}
	rec, err := s.patientVersion(ctx, s.r, vid)
	if err != nil {
		return PatientRecord{}, err
	}
	rec.RestrictedBy, err = restrictedBy(ctx, s.r, id)
	return rec, err
}

// PatientAsOf returns a patient as it was at t, and audits the read.
func (s *Store) PatientAsOf(ctx context.Context, a Actor, id string, t time.Time) (PatientRecord, error) {
	if !ehr.ValidID(id) {
		return PatientRecord{}, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	if err := s.checkAccess(ctx, s.r, a, id); err != nil {
		return PatientRecord{}, err
	}
	if err := s.auditRead(ctx, a, "patient.read_as_of", id, id); err != nil {
		return PatientRecord{}, err
	}
	v, err := s.versionAsOf(ctx, id, t)
	if err != nil {
		return PatientRecord{}, err
	}
	return patientFromVersion(v)
}

func (s *Store) patientVersion(ctx context.Context, q querier, versionID string) (PatientRecord, error) {
	row := q.QueryRowContext(ctx, `SELECT version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body
		FROM versions WHERE version_id = ?`, versionID)
	v, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		return PatientRecord{}, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	if err != nil {
		return PatientRecord{}, fmt.Errorf("read patient: %w", err)
	}
	return patientFromVersion(v)
}

func patientFromVersion(v ehr.Version) (PatientRecord, error) {
	if v.Kind != ehr.KindPatient {
		return PatientRecord{}, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	p, err := ehr.ParsePatientBody(v.Body)
	if err != nil {
		return PatientRecord{}, err
	}
	return PatientRecord{ID: v.RecordID, VersionID: v.VersionID, Patient: p, HLC: v.HLC, Author: v.Author, Deleted: v.Deleted}, nil
}

// nextClinicNo assigns the next clinic number of this device: its code,
// a hyphen and a five-digit serial (K7Q-00042). Devices have distinct
// codes, so numbers made offline on two laptops never collide.
func (s *Store) nextClinicNo(ctx context.Context, tx *sql.Tx) (string, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ('clinic_no', 1)
		ON CONFLICT(name) DO UPDATE SET value = value + 1`); err != nil {
		return "", fmt.Errorf("clinic number: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT value FROM counters WHERE name = 'clinic_no'").Scan(&n); err != nil {
		return "", fmt.Errorf("clinic number: %w", err)
	}
	return fmt.Sprintf("%s-%05d", s.cfg.DeviceCode, n), nil
}

// project writes the patient's current state into the search tables.
// restrictedBy is the responsible clinician of a restricted chart.
func project(ctx context.Context, tx execer, v ehr.Version, p ehr.Patient, restrictedBy string) error {
	if !p.Restricted {
		restrictedBy = ""
	}
	sortKey := phonetic.Fold(p.Family + " " + p.Given)
	if _, err := tx.ExecContext(ctx, `INSERT INTO patients (record_id, version_id, clinic_no, family, given, other, sort_key, sex,
		birth_date, birth_year, birth_estimated, national_id_norm, village, deleted, updated_hlc, restricted_by)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(record_id) DO UPDATE SET version_id = excluded.version_id, clinic_no = excluded.clinic_no,
		family = excluded.family, given = excluded.given, other = excluded.other, sort_key = excluded.sort_key,
		sex = excluded.sex, birth_date = excluded.birth_date, birth_year = excluded.birth_year,
		birth_estimated = excluded.birth_estimated, national_id_norm = excluded.national_id_norm,
		village = excluded.village, deleted = excluded.deleted, updated_hlc = excluded.updated_hlc,
		restricted_by = excluded.restricted_by`,
		v.RecordID, v.VersionID, p.ClinicNo, p.Family, p.Given, p.Other, sortKey, p.Sex,
		p.BirthDate, p.BirthYear(), p.BirthEstimated, ehr.NormalizeNationalID(p.NationalID), p.Village, v.Deleted, int64(v.HLC), restrictedBy); err != nil {
		return fmt.Errorf("project patient: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM patient_words WHERE record_id = ?", v.RecordID); err != nil {
		return fmt.Errorf("project patient: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM patient_sounds WHERE record_id = ?", v.RecordID); err != nil {
		return fmt.Errorf("project patient: %w", err)
	}
	for field, name := range []string{p.Family, p.Given, p.Other} {
		for _, w := range phonetic.Tokens(name) {
			if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO patient_words (word, record_id, field, sort_key) VALUES (?, ?, ?, ?)", w, v.RecordID, field, sortKey); err != nil {
				return fmt.Errorf("project patient: %w", err)
			}
			for _, k := range phonetic.Keys(w) {
				if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO patient_sounds (code, record_id, field) VALUES (?, ?, ?)", k, v.RecordID, field); err != nil {
					return fmt.Errorf("project patient: %w", err)
				}
			}
		}
	}
	return nil
}
