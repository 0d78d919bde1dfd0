package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"outpost/backend/ehr"
)

// Resolving a conflict: two laptops changed one record offline, so after
// sync it has two (or more) heads. A clinician looks at them and keeps
// one, or merges them; either way one new version is written whose
// parents are all the heads, so the conflict ends on every laptop once it
// syncs, and no version is ever removed.

// Resolution is a clinician's decision about a conflicted record: one of
// Keep (a head as it is), Choose (a merge field by field) or Body (a
// merged body made elsewhere).
type Resolution struct {
	RecordID string
	Heads    []string // the head version ids the clinician saw
	Keep     string   // the head kept as it is; "" for a merge
	// Choose merges by the record's meaning: domain field name (its JSON
	// name in the ehr type, e.g. "findings", "plan", "phone") → the head
	// version id whose value is taken. The other fields come from Base.
	Choose map[string]string
	Base   string // the live head a Choose merge starts from; "" for the newest
	Body   []byte // the merged body (canonical JSON of the kind), when neither Keep nor Choose
	Reason string
}

// ConflictDetail is a conflicted clinical record with its heads.
type ConflictDetail struct {
	RecordID    string
	Kind        string
	PatientID   string
	PatientName string        // "Family, Given" from the patient projection
	Heads       []ehr.Version // ordered by version id
}

// resolver checks a body offered as a record's next version against its
// kind (Decode, the kind's validation, the patient, and the kind's guard
// against each live head) and returns the body to store and its patient.
// verbatim keeps the body's bytes (a head kept as it is).
type resolver func(id string, body []byte, heads []ehr.Version, reason string, now time.Time, verbatim bool) ([]byte, string, error)

func resolverOf[T any](k Kind[T]) resolver {
	return func(id string, body []byte, heads []ehr.Version, reason string, now time.Time, verbatim bool) ([]byte, string, error) {
		v, err := k.Parse(body)
		if err != nil {
			return nil, "", &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
				Fields: map[string]string{"body": "The merged record cannot be read as a " + k.Name + "."}, Err: err}
		}
		if err := k.Validate(&v, now); err != nil {
			return nil, "", err
		}
		patientID := k.Patient(v)
		for _, h := range heads {
			old, err := k.Parse(h.Body)
			if err != nil {
				return nil, "", fmt.Errorf("resolve: head %s: %w", h.VersionID, err)
			}
			if k.Patient(old) != patientID {
				return nil, "", &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
					Fields: map[string]string{"patientId": "A record cannot move to another patient."}}
			}
			if k.Guard != nil && !h.Deleted {
				if err := k.Guard(&old, &v, reason); err != nil {
					return nil, "", mergeRefused(err)
				}
			}
		}
		if verbatim {
			return body, patientID, nil
		}
		out, err := k.Body(id, v)
		return out, patientID, err
	}
}

// resolvePatient checks a patient's merged demographics: valid like a
// registration, the clinic number unchanged, and restricted when any head
// is (a merge never lifts a restriction; SetRestricted does, audited).
func resolvePatient(id string, body []byte, heads []ehr.Version, _ string, now time.Time, verbatim bool) ([]byte, string, error) {
	p, err := ehr.ParsePatientBody(body)
	if err != nil {
		return nil, "", &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{"body": "The merged record cannot be read as a patient."}, Err: err}
	}
	clinicNo, restricted := p.ClinicNo, p.Restricted
	for _, h := range heads {
		old, err := ehr.ParsePatientBody(h.Body)
		if err != nil {
			return nil, "", fmt.Errorf("resolve: head %s: %w", h.VersionID, err)
		}
		if old.ClinicNo != clinicNo {
			return nil, "", &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
				Fields: map[string]string{"clinicNo": "The clinic number of a patient never changes."}}
		}
		restricted = restricted || old.Restricted
	}
	checked, err := p.Input(now).Patient(now)
	if err != nil {
		return nil, "", err
	}
	checked.ClinicNo, checked.Restricted = clinicNo, restricted
	if verbatim && checked.Restricted == p.Restricted {
		return body, id, nil
	}
	out, err := ehr.PatientBody(id, checked)
	return out, id, err
}

// fieldsError is a refusal of a Choose merge (an unknown field or head).
func fieldsError(field, msg string) error {
	return &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.", Fields: map[string]string{field: msg}}
}

// merger builds the merged body of a Choose merge from the live heads
// (unchecked: the resolver then checks it like any merged body).
type merger func(id string, live []ehr.Version, base string, choose map[string]string) ([]byte, error)

// mergerOf merges a kind on its decoded domain value: each live head as
// its domain type, through JSON to its top-level fields; the base head's
// fields, each chosen field replaced by the chosen head's; back to the
// domain type and encoded with the kind's body.
func mergerOf[T any](name string, parse func([]byte) (T, error), body func(string, T) ([]byte, error)) merger {
	return func(id string, live []ehr.Version, base string, choose map[string]string) ([]byte, error) {
		fields := map[string]map[string]json.RawMessage{}
		for _, h := range live {
			v, err := parse(h.Body)
			if err != nil {
				return nil, fmt.Errorf("resolve: head %s: %w", h.VersionID, err)
			}
			m, err := domainFields(v)
			if err != nil {
				return nil, fmt.Errorf("resolve: head %s: %w", h.VersionID, err)
			}
			fields[h.VersionID] = m
		}
		if len(live) == 0 {
			return nil, fieldsError("choose", "A deleted version has nothing to merge; keep a version instead.")
		}
		if base == "" {
			newest := live[0]
			for _, h := range live[1:] {
				if h.HLC > newest.HLC {
					newest = h
				}
			}
			base = newest.VersionID
		}
		start, ok := fields[base]
		if !ok {
			return nil, fieldsError("base", "Start the merge from one of the versions shown (not a deleted one).")
		}
		merged := make(map[string]json.RawMessage, len(start))
		for k, v := range start {
			merged[k] = v
		}
		names := make([]string, 0, len(choose))
		for f := range choose {
			names = append(names, f)
		}
		sort.Strings(names)
		for _, f := range names {
			known := false
			for _, m := range fields {
				_, in := m[f]
				known = known || in
			}
			if !known {
				return nil, fieldsError("choose", fmt.Sprintf("A %s has no field %q.", name, f))
			}
			from, ok := fields[choose[f]]
			if !ok {
				return nil, fieldsError("choose", fmt.Sprintf("Choose the value of %q from one of the versions shown (not a deleted one).", f))
			}
			if v, in := from[f]; in {
				merged[f] = v
			} else { // left out by the chosen head (omitempty): its zero value
				delete(merged, f)
			}
		}
		raw, err := json.Marshal(merged)
		if err != nil {
			return nil, fmt.Errorf("resolve: merge: %w", err)
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("resolve: merge: %w", err)
		}
		return body(id, v)
	}
}

// domainFields is a domain value's top-level fields by their JSON names.
func domainFields(v any) (map[string]json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func kindMerger[T any](k Kind[T]) merger { return mergerOf(k.Name, k.Parse, k.Body) }

// mergers build Choose merges, per kind resolved here.
var mergers = map[string]merger{
	ehr.KindPatient:      mergerOf("patient", ehr.ParsePatientBody, ehr.PatientBody),
	ehr.KindEncounter:    kindMerger(Encounters),
	ehr.KindObservation:  kindMerger(Observations),
	ehr.KindCondition:    kindMerger(Conditions),
	ehr.KindMedication:   kindMerger(Medications),
	ehr.KindAllergy:      kindMerger(Allergies),
	ehr.KindImmunization: kindMerger(Immunizations),
	ehr.KindNote:         kindMerger(Notes),
	ehr.KindDocument:     kindMerger(Documents),
}

// resolvers are the kinds a clinician resolves in the Conflicts list:
// patients' demographics and the clinical kinds (accounts merge on their
// own, see account.go).
var resolvers = map[string]resolver{
	ehr.KindPatient:      resolvePatient,
	ehr.KindEncounter:    resolverOf(Encounters),
	ehr.KindObservation:  resolverOf(Observations),
	ehr.KindCondition:    resolverOf(Conditions),
	ehr.KindMedication:   resolverOf(Medications),
	ehr.KindAllergy:      resolverOf(Allergies),
	ehr.KindImmunization: resolverOf(Immunizations),
	ehr.KindNote:         resolverOf(Notes),
	ehr.KindDocument:     resolverOf(Documents),
}

// IsClinical reports whether kind is a patient or clinical record kind
// (one the Conflicts list shows and Resolve writes).
func IsClinical(kind string) bool { _, ok := resolvers[kind]; return ok }

// ClinicalConflicts counts the clinical records with more than one head.
func (s *Store) ClinicalConflicts(ctx context.Context) (int, error) {
	cs, err := s.Conflicts(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cs {
		if IsClinical(c.Kind) {
			n++
		}
	}
	return n, nil
}

// ConflictDetails returns the clinical conflicts of one patient (or of
// all patients when patientID is ""), with every head, leaving out the
// charts the actor may not open (restricted ones). Each record listed is
// an audited read.
func (s *Store) ConflictDetails(ctx context.Context, a Actor, patientID string) ([]ConflictDetail, error) {
	if patientID != "" && !ehr.ValidID(patientID) {
		return nil, ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	cs, err := s.Conflicts(ctx)
	if err != nil {
		return nil, err
	}
	out := []ConflictDetail{}
	for _, c := range cs {
		if !IsClinical(c.Kind) {
			continue
		}
		d := ConflictDetail{RecordID: c.RecordID, Kind: c.Kind, PatientID: c.RecordID}
		if c.Kind != ehr.KindPatient {
			err := s.r.QueryRowContext(ctx, "SELECT patient_id FROM chart WHERE record_id = ?", c.RecordID).Scan(&d.PatientID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("conflicts: %w", err)
			}
		}
		if patientID != "" && d.PatientID != patientID {
			continue
		}
		if err := s.checkAccess(ctx, s.r, a, d.PatientID); err != nil {
			if ehr.ErrorCode(err) == ehr.ERestricted {
				continue
			}
			return nil, err
		}
		var family, given string
		err := s.r.QueryRowContext(ctx, "SELECT family, given FROM patients WHERE record_id = ?", d.PatientID).Scan(&family, &given)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("conflicts: %w", err)
		}
		d.PatientName = family
		if given != "" {
			d.PatientName += ", " + given
		}
		if d.Heads, err = loadVersions(ctx, s.r, c.Heads); err != nil {
			return nil, fmt.Errorf("conflicts: %w", err)
		}
		if err := s.auditRead(ctx, a, "conflict.read", d.PatientID, d.RecordID); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func loadVersions(ctx context.Context, q querier, ids []string) ([]ehr.Version, error) {
	out := make([]ehr.Version, 0, len(ids))
	for _, id := range ids {
		v, err := scanVersion(q.QueryRowContext(ctx, `SELECT version_id, record_id, kind, parents, hlc, author, device, reason, deleted, body
			FROM versions WHERE version_id = ?`, id))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Resolve ends a conflict with one version whose parents are all the
// record's heads: the kept head's body (deleted if that head was a
// tombstone; a live head kept over a tombstone restores the record), or
// the merged body, validated like any write of the kind. It is refused
// when the heads are no longer those the clinician saw. The version is
// audited, queued for sync and projected, in one transaction.
func (s *Store) Resolve(ctx context.Context, a Actor, r Resolution) (ehr.Version, error) {
	reason, err := checkReason(r.Reason, 5)
	if err != nil {
		return ehr.Version{}, err
	}
	if !ehr.ValidID(r.RecordID) {
		return ehr.Version{}, ehr.Errorf(ehr.ENotFound, "No such record.")
	}
	ways := 0
	for _, set := range []bool{r.Keep != "", len(r.Choose) > 0, len(r.Body) > 0} {
		if set {
			ways++
		}
	}
	if ways != 1 {
		return ehr.Version{}, fieldsError("keep", "Keep one of the versions, or merge them (one way, not several).")
	}
	if r.Base != "" && len(r.Choose) == 0 {
		return ehr.Version{}, fieldsError("base", "A base version is given only with the fields chosen.")
	}
	var out ehr.Version
	err = s.tx(ctx, func(tx *sql.Tx) error {
		hs, err := heads(ctx, tx, r.RecordID)
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			return ehr.Errorf(ehr.ENotFound, "No such record.")
		}
		saw := slices.Clone(r.Heads)
		slices.Sort(saw)
		if len(hs) < 2 || !slices.Equal(saw, hs) {
			return ehr.Errorf(ehr.EConflict, "This record changed since you looked at it (a version arrived or the conflict was resolved). Look at it again.")
		}
		vs, err := loadVersions(ctx, tx, hs)
		if err != nil {
			return err
		}
		check, ok := resolvers[vs[0].Kind]
		for _, v := range vs {
			if v.Kind != vs[0].Kind {
				ok = false
			}
		}
		if !ok {
			return ehr.Errorf(ehr.EInvalid, "Only clinical records are resolved here.")
		}
		body, deleted, verbatim := r.Body, false, false
		if r.Keep != "" {
			i := slices.IndexFunc(vs, func(v ehr.Version) bool { return v.VersionID == r.Keep })
			if i < 0 {
				return &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
					Fields: map[string]string{"keep": "Choose one of the versions shown."}}
			}
			body, deleted, verbatim = vs[i].Body, vs[i].Deleted, true
		}
		if len(r.Choose) > 0 {
			live := slices.DeleteFunc(slices.Clone(vs), func(v ehr.Version) bool { return v.Deleted })
			if body, err = mergers[vs[0].Kind](r.RecordID, live, r.Base, r.Choose); err != nil {
				return err
			}
		}
		others := vs
		if deleted { // keeping a tombstone: nothing to guard, the record stays deleted
			others = nil
		}
		body, patientID, err := check(r.RecordID, body, others, reason, s.cfg.Now(), verbatim)
		if err != nil {
			return err
		}
		if err := s.checkAccess(ctx, tx, a, patientID); err != nil {
			return err
		}
		v, err := s.newVersion(a, vs[0].Kind, r.RecordID, hs, reason, body)
		if err != nil {
			return err
		}
		v.Deleted = deleted
		if err := s.put(ctx, tx, a, v, vs[0].Kind+".resolve", patientID); err != nil {
			return err
		}
		if err := s.reproject(ctx, tx, v); err != nil {
			return err
		}
		out = v
		return nil
	})
	if err != nil {
		return ehr.Version{}, fmt.Errorf("resolve conflict: %w", err)
	}
	return out, nil
}

// mergeRefused turns a kind's guard refusing the merged record (a signed
// visit reopened, say) into a refusal of the merge itself: the versions
// did not change meanwhile (EConflict says that), the choice is what
// needs attention.
func mergeRefused(err error) error {
	if ehr.ErrorCode(err) != ehr.EConflict {
		return err
	}
	msg := err.Error()
	var e *ehr.Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	return &ehr.Error{Code: ehr.EInvalid, Message: msg, Fields: map[string]string{"choose": msg}, Err: err}
}
