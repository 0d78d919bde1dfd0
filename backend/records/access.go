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

// Emergency ("break-glass") access: a restricted chart opens only for its
// responsible clinician, or for another clinical user who gives a reason;
// the access is time-boxed, audited with the reason, and alerts the
// security officer.

// MinReason and MaxReason bound an emergency access reason.
const (
	MinReason = 10
	MaxReason = 300
)

func restrictedBy(ctx context.Context, q querier, id string) (string, error) {
	var by string
	err := q.QueryRowContext(ctx, "SELECT restricted_by FROM patients WHERE record_id = ?", id).Scan(&by)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return by, err
}

// checkAccess refuses a restricted chart to anyone but its responsible
// clinician, unless they hold an unexpired emergency access grant.
func (s *Store) checkAccess(ctx context.Context, q querier, a Actor, id string) error {
	by, err := restrictedBy(ctx, q, id)
	if err != nil {
		return fmt.Errorf("check access: %w", err)
	}
	if by == "" || by == a.Username {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM breakglass WHERE user_id = ? AND patient_id = ? AND until > ?",
		a.UserID, id, s.cfg.Now().UTC().Format(time.RFC3339Nano)).Scan(&n); err != nil {
		return fmt.Errorf("check access: %w", err)
	}
	if n == 0 {
		return ehr.Errorf(ehr.ERestricted, "This chart is restricted. Open it only in an emergency: give the reason, and the access is recorded and reported to the security officer.")
	}
	return nil
}

// BreakGlass grants a emergency access to a restricted chart for the
// configured time, and returns when it ends.
func (s *Store) BreakGlass(ctx context.Context, a Actor, id, reason string) (time.Time, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	if n := utf8.RuneCountInString(reason); n < MinReason || n > MaxReason || strings.ContainsFunc(reason, isControl) {
		return time.Time{}, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{"reason": fmt.Sprintf("Say why you need this chart now (%d to %d characters).", MinReason, MaxReason)}}
	}
	if !ehr.ValidID(id) {
		return time.Time{}, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	d := s.cfg.BreakGlass
	if d == 0 {
		d = time.Hour
	}
	now := s.cfg.Now().UTC()
	until := now.Add(d)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM patients WHERE record_id = ?", id).Scan(&exists); err != nil {
			return err
		}
		if exists == 0 {
			return ehr.Errorf(ehr.ENotFound, "No such patient.")
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO breakglass (user_id, patient_id, reason, granted, until) VALUES (?,?,?,?,?)",
			a.UserID, id, reason, now.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano)); err != nil {
			return err
		}
		if _, err := s.cfg.Audit.Append(ctx, tx, audit.Event{Username: a.Username, Roles: a.Roles, Session: a.Session,
			Action: "patient.breakglass", Outcome: audit.Success, PatientID: id, RecordID: id,
			Detail: "until " + until.Format(time.RFC3339), Reason: reason}); err != nil {
			return err
		}
		return s.cfg.Alerts.Raise(ctx, tx, audit.AlertBreakGlass, "emergency access to a restricted chart", a.Username, id)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("emergency access: %w", err)
	}
	return until, nil
}

// SetRestricted restricts a chart to the actor as its responsible
// clinician, or lifts the restriction; either is a new version with the
// reason.
func (s *Store) SetRestricted(ctx context.Context, a Actor, id string, restricted bool, reason string) (PatientRecord, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	if n := utf8.RuneCountInString(reason); n < 3 || n > maxReason || strings.ContainsFunc(reason, isControl) {
		return PatientRecord{}, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{"reason": fmt.Sprintf("Give a reason (3 to %d characters).", maxReason)}}
	}
	if !ehr.ValidID(id) {
		return PatientRecord{}, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	var rec PatientRecord
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		rec, err = s.setRestrictedIn(ctx, tx, a, id, restricted, reason)
		return err
	})
	if err != nil {
		return PatientRecord{}, fmt.Errorf("restrict patient: %w", err)
	}
	return rec, nil
}

// setRestrictedIn is SetRestricted inside a transaction the caller holds;
// reason is already checked.
func (s *Store) setRestrictedIn(ctx context.Context, tx *sql.Tx, a Actor, id string, restricted bool, reason string) (PatientRecord, error) {
	var rec PatientRecord
	err := func() error {
		if err := s.checkAccess(ctx, tx, a, id); err != nil {
			return err
		}
		hs, err := heads(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(hs) != 1 {
			return ehr.Errorf(ehr.EConflict, "This record has a conflict to resolve first.")
		}
		cur, err := s.patientVersion(ctx, tx, hs[0])
		if err != nil {
			return err
		}
		p := cur.Patient
		if p.Restricted == restricted {
			rec = cur
			rec.RestrictedBy, err = restrictedBy(ctx, tx, id)
			return err
		}
		p.Restricted = restricted
		body, err := ehr.PatientBody(id, p)
		if err != nil {
			return err
		}
		v, err := s.newVersion(a, ehr.KindPatient, id, hs, reason, body)
		if err != nil {
			return err
		}
		action := "patient.restrict"
		if !restricted {
			action = "patient.unrestrict"
		}
		if err := s.put(ctx, tx, a, v, action, id); err != nil {
			return err
		}
		if err := project(ctx, tx, v, p, a.Username); err != nil {
			return err
		}
		rec = PatientRecord{ID: id, VersionID: v.VersionID, Patient: p, HLC: v.HLC, Author: v.Author}
		if restricted {
			rec.RestrictedBy = a.Username
		}
		return nil
	}()
	return rec, err
}
