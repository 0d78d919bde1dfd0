package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// importReason is the reason written into every imported version.
const importReason = "imported from FHIR"

// modelled lists the resource types Import stores.
var modelled = map[string]bool{
	"Patient": true, "Encounter": true, "Observation": true, "Condition": true,
	"MedicationRequest": true, "MedicationStatement": true, "AllergyIntolerance": true,
	"Immunization": true, "DocumentReference": true,
}

// Bundle types whose entries are resources to take in.
var importableTypes = map[string]bool{
	"transaction": true, "batch": true, "collection": true, "searchset": true, "document": true,
}

type entryState int

const (
	pending entryState = iota
	stored             // imported now, or already present
	skipped
)

type entry struct {
	index   int
	fullURL string
	rtype   string
	rid     string
	raw     json.RawMessage
	key     string // what the id is derived from
	id      string // derived record id
	state   entryState
}

// label names the entry in a Skip: its id, else its fullUrl (clipped,
// without control characters: reports are printed on terminals).
func (e *entry) label() string {
	if e.rid != "" {
		return quote(e.rid)
	}
	return quote(e.fullURL)
}

// resourceTypeRE is the form of FHIR's resource type names.
var resourceTypeRE = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)

type importer struct {
	ctx      context.Context
	s        *records.Store
	b        *records.Batch // every write of the import goes through it
	a        records.Actor
	rep      Report
	entries  []*entry
	byURL    map[string]*entry
	byTypeID map[string]*entry
	outside  map[string]string // resolved references to records outside the Bundle
	done     int
	progress func(done, total int)
	now      time.Time
}

// Import reads one FHIR R4 Bundle from r (at most MaxImportBytes) and
// stores the resources Outpost models, on behalf of a. It refuses input
// that is not JSON, not a Bundle, or a Bundle of a type whose entries are
// not resources to store (history, message, responses), with an error
// wrapping ErrMalformed, ErrNotBundle or ErrTooLarge.
//
// Patients are stored first, then encounters, then everything else, so
// references resolve whatever the order of the entries. A reference
// (urn:uuid:…, Patient/…, Encounter/…, or an absolute URL) resolves to an
// entry of the Bundle by fullUrl or by type and id; else to a record an
// earlier import derived from the same reference; else to a record of
// this vault with that id. A resource whose patient resolves to nothing
// is skipped; an encounter link that resolves to nothing is dropped.
//
// A resource that does not validate is skipped with the field messages
// as the reason, and so are types Outpost does not model (NotModelled).
// Only a failure of the store itself (or ctx) stops the import; the
// report then holds what was done so far. progress, when not nil, is
// called after each entry with the entries done and their total.
func Import(ctx context.Context, s *records.Store, a records.Actor, r io.Reader, progress func(done, total int)) (Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(maxImportBytes)+1))
	if err != nil {
		return Report{}, fmt.Errorf("import: read: %w", err)
	}
	if len(data) > maxImportBytes {
		return Report{}, fmt.Errorf("%w: the limit is %s", ErrTooLarge, sizeText(maxImportBytes))
	}
	raw, err := parseBundle(data)
	if err != nil {
		return Report{}, err
	}
	im := &importer{ctx: ctx, s: s, a: a, progress: progress, now: time.Now(),
		byURL: map[string]*entry{}, byTypeID: map[string]*entry{}, outside: map[string]string{}}
	im.rep.Entries = len(raw)
	im.index(raw)
	// Many records, few commits: each record checked before it is written
	// (a refused one writes nothing), a commit every records.BatchSize. A
	// failed write rolls back the records since the last commit and stops
	// the import (it can be repeated, and creates nothing twice).
	if im.b, err = s.BeginBatch(ctx); err != nil {
		return im.rep, err
	}
	if err = im.run(); err != nil {
		im.b.Rollback()
		return im.rep, err
	}
	return im.rep, im.b.Commit()
}

// run stores the entries: patients first, then encounters, then the rest,
// so that references resolve whatever the order in the Bundle.
func (im *importer) run() error {
	for _, phase := range []func(*entry) bool{
		func(e *entry) bool { return e.rtype == "Patient" },
		func(e *entry) bool { return e.rtype == "Encounter" },
		func(e *entry) bool { return e.rtype != "Patient" && e.rtype != "Encounter" },
	} {
		for _, e := range im.entries {
			if e.state != pending || !phase(e) {
				continue
			}
			if err := im.ctx.Err(); err != nil {
				return fmt.Errorf("import: %w", err)
			}
			if err := im.one(e); err != nil {
				return fmt.Errorf("import: %s %s: %w", e.rtype, e.label(), err)
			}
			im.tick()
		}
	}
	return nil
}

// maxImportBytes is MaxImportBytes, lowered by tests.
var maxImportBytes = MaxImportBytes

func sizeText(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// bundleEntry is one entry of a Bundle as read; bad is why it could not
// be read, when it could not.
type bundleEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  *struct {
		Method string `json:"method"`
	} `json:"request"`
	bad error
}

// parseBundle checks that data is a Bundle of an importable type and
// returns its entries, their resources still raw. The usual Bundle is
// read in one pass; when that fails, it is read again in parts, to tell
// what is wrong with the whole or to set apart the entries that are
// malformed.
func parseBundle(data []byte) ([]bundleEntry, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotBundle)
	}
	var fast struct {
		ResourceType json.RawMessage `json:"resourceType"`
		Type         json.RawMessage `json:"type"`
		Entry        []bundleEntry   `json:"entry"`
	}
	if json.Unmarshal(trimmed, &fast) == nil {
		if err := checkBundle(fast.ResourceType, fast.Type); err != nil {
			return nil, err
		}
		return fast.Entry, nil
	}
	var top struct {
		ResourceType json.RawMessage `json:"resourceType"`
		Type         json.RawMessage `json:"type"`
		Entry        json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(trimmed, &top); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := position(trimmed, syn.Offset)
			return nil, fmt.Errorf("%w: %s at line %d, column %d", ErrMalformed, syn.Error(), line, col)
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, fmt.Errorf("%w: it holds a JSON %s, not a FHIR resource (an object with a resourceType)", ErrNotBundle, typ.Value)
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := checkBundle(top.ResourceType, top.Type); err != nil {
		return nil, err
	}
	var raw []json.RawMessage
	if len(top.Entry) > 0 && string(top.Entry) != "null" {
		if err := json.Unmarshal(top.Entry, &raw); err != nil {
			return nil, fmt.Errorf("%w: the Bundle's entry is not a list", ErrMalformed)
		}
	}
	entries := make([]bundleEntry, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &entries[i]); err != nil {
			entries[i] = bundleEntry{bad: err}
		}
	}
	return entries, nil
}

// checkBundle checks a resource's type and a Bundle's type.
func checkBundle(resourceType, bundleType json.RawMessage) error {
	var rt, bt string
	if json.Unmarshal(resourceType, &rt) != nil || rt == "" {
		return fmt.Errorf("%w: it has no resourceType, so it is not a FHIR resource", ErrNotBundle)
	}
	if rt != "Bundle" {
		return fmt.Errorf("%w: it holds a FHIR %s resource; export a Bundle (of type collection or transaction)", ErrNotBundle, quote(rt))
	}
	_ = json.Unmarshal(bundleType, &bt)
	if !importableTypes[bt] {
		return fmt.Errorf("%w: a Bundle of type %q cannot be imported; use a transaction, batch, collection, searchset or document Bundle", ErrNotBundle, clip(bt, 40))
	}
	return nil
}

// position turns the offset of a json.SyntaxError (the bytes read, the
// bad one included) into the bad byte's line and column, both from 1.
func position(data []byte, off int64) (int, int) {
	off = max(0, min(off-1, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func (im *importer) tick() {
	im.done++
	if im.progress != nil {
		im.progress(im.done, im.rep.Entries)
	}
}

// skip records that e is not stored, and why.
func (im *importer) skip(e *entry, reason string) {
	e.state = skipped
	typ := e.rtype
	if typ == "" {
		typ = "(unknown)"
	}
	im.rep.skip(typ, e.label(), reason)
}

// index reads each entry's type, id and fullUrl, derives its record id and
// settles at once the entries that cannot be imported.
func (im *importer) index(list []bundleEntry) {
	for i, be := range list {
		e := &entry{index: i}
		im.entries = append(im.entries, e)
		if be.bad != nil {
			im.skip(e, "malformed entry: "+decodeReason(be.bad))
			continue
		}
		e.fullURL = strings.TrimSpace(be.FullURL)
		if be.Request != nil && be.Request.Method == "DELETE" {
			im.skip(e, "a DELETE request: the import only adds records")
			continue
		}
		if len(be.Resource) == 0 || string(be.Resource) == "null" {
			im.skip(e, "the entry has no resource")
			continue
		}
		var head struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if err := json.Unmarshal(be.Resource, &head); err != nil {
			im.skip(e, "malformed resource: "+decodeReason(err))
			continue
		}
		e.rtype, e.rid, e.raw = head.ResourceType, strings.TrimSpace(head.ID), be.Resource
		switch {
		case e.rtype == "":
			im.skip(e, "the resource has no resourceType")
			continue
		case !resourceTypeRE.MatchString(e.rtype):
			e.rtype = "(unknown)"
			im.skip(e, "the resourceType is not a FHIR resource type name")
			continue
		case e.fullURL != "":
			e.key = e.fullURL
		case e.rid != "":
			e.key = e.rtype + "/" + e.rid
		}
		if e.key != "" {
			if prev, dup := im.byURL[e.key]; dup {
				im.skip(e, fmt.Sprintf("the same fullUrl as entry %d", prev.index+1))
				continue
			}
			im.byURL[e.key] = e
		}
		if e.rid != "" {
			if _, dup := im.byTypeID[e.rtype+"/"+e.rid]; !dup {
				im.byTypeID[e.rtype+"/"+e.rid] = e
			}
		}
		switch {
		case !modelled[e.rtype]:
			// Kept for references (a Medication a request names), not stored.
			e.state = skipped
			im.rep.skip(e.rtype, e.label(), NotModelled)
		case e.key == "":
			im.skip(e, "no fullUrl and no id: it cannot be given the same id on every import")
		default:
			e.id = DeriveID(e.key)
		}
	}
	// Settled entries count as done.
	for _, e := range im.entries {
		if e.state != pending {
			im.tick()
		}
	}
}

// decodeReason shortens a JSON decoding error for a reason.
func decodeReason(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		if typ.Field != "" {
			return fmt.Sprintf("%s should be a JSON %s, not %s", typ.Field, typ.Type.Kind(), typ.Value)
		}
		return fmt.Sprintf("a JSON %s where a %s belongs", typ.Value, typ.Type.Kind())
	}
	return clip(err.Error(), 120)
}

// lookup finds the entry of the Bundle a reference points to.
func (im *importer) lookup(ref string) *entry {
	if e := im.byURL[ref]; e != nil {
		return e
	}
	rel := ref
	if i := strings.Index(rel, "/_history/"); i >= 0 {
		rel = rel[:i]
	}
	parts := strings.Split(rel, "/")
	if len(parts) >= 2 {
		return im.byTypeID[parts[len(parts)-2]+"/"+parts[len(parts)-1]]
	}
	return nil
}

// resolve returns the record id a reference to a resource of type want
// stands for, or a reason why it stands for none.
func (im *importer) resolve(ref, want string) (string, string, error) {
	if ref == "" {
		return "", "no reference to the " + strings.ToLower(want), nil
	}
	if e := im.lookup(ref); e != nil {
		switch {
		case e.rtype != want:
			return "", fmt.Sprintf("the reference %s is to a %s, not a %s", quote(ref), e.rtype, want), nil
		case e.state == skipped:
			return "", fmt.Sprintf("its %s (%s) was not imported", strings.ToLower(want), quote(e.label())), nil
		case e.state == pending:
			// Only a reference from a patient to a patient, or an encounter
			// to an encounter, can meet an entry not yet stored.
			return "", fmt.Sprintf("the %s it refers to is not stored yet", strings.ToLower(want)), nil
		}
		return e.id, "", nil
	}
	if id, ok := im.outside[ref]; ok {
		if id == "" {
			return "", fmt.Sprintf("its %s (%s) is not in the Bundle and not stored here", strings.ToLower(want), quote(ref)), nil
		}
		return id, "", nil
	}
	// Outside the Bundle: a record an earlier import made from the same
	// reference, else a record of this vault with that id.
	candidates := []string{DeriveID(ref)}
	if id, ok := strings.CutPrefix(ref, "urn:uuid:"); ok && ehr.ValidID(id) {
		candidates = append(candidates, id)
	}
	if id, ok := strings.CutPrefix(ref, want+"/"); ok && ehr.ValidID(id) {
		candidates = append(candidates, id)
	}
	for _, id := range candidates {
		ok, err := im.b.Exists(id)
		if err != nil {
			return "", "", err
		}
		if ok {
			im.outside[ref] = id
			return id, "", nil
		}
	}
	im.outside[ref] = ""
	return "", fmt.Sprintf("its %s (%s) is not in the Bundle and not stored here", strings.ToLower(want), quote(ref)), nil
}

// patientOf resolves the patient a resource belongs to.
func (im *importer) patientOf(r *reference) (string, string, error) {
	return im.resolve(refString(r), "Patient")
}

// encounterOf resolves an optional encounter link; one that resolves to
// nothing is dropped, not a reason to skip the record.
func (im *importer) encounterOf(r *reference) (string, error) {
	ref := refString(r)
	if ref == "" {
		return "", nil
	}
	id, _, err := im.resolve(ref, "Encounter")
	return id, err
}

// one imports one pending entry.
func (im *importer) one(e *entry) error {
	switch e.rtype {
	case "Patient":
		return im.patient(e)
	case "Encounter":
		var r fhirEncounter
		if !im.decode(e, &r) {
			return nil
		}
		pid, why, err := im.patientOf(r.Subject)
		if err != nil || why != "" {
			im.skipWhy(e, why)
			return err
		}
		v, why := encounter(r)
		if why != "" {
			im.skip(e, why)
			return nil
		}
		v.PatientID = pid
		return create(im, e, "", records.Encounters, v)
	case "Observation":
		var r fhirObservation
		if !im.decode(e, &r) {
			return nil
		}
		parts, why := observationParts(r)
		if why != "" {
			im.skip(e, why)
			return nil
		}
		pid, why, err := im.patientOf(r.Subject)
		if err != nil || why != "" {
			im.skipWhy(e, why)
			return err
		}
		enc, err := im.encounterOf(r.Encounter)
		if err != nil {
			return err
		}
		e.state = stored
		for _, p := range parts {
			if p.skip != "" {
				im.rep.skip(e.rtype, e.label()+p.suffix, p.skip)
				continue
			}
			p.obs.PatientID, p.obs.EncounterID = pid, enc
			if err := create(im, e, p.suffix, records.Observations, p.obs); err != nil {
				return err
			}
		}
		return nil
	case "Condition":
		return single(im, e, records.Conditions, condition,
			func(r fhirCondition) *reference { return r.Subject }, func(v *ehr.Condition, pid string) { v.PatientID = pid })
	case "MedicationRequest", "MedicationStatement":
		var r fhirMedication
		if !im.decode(e, &r) {
			return nil
		}
		var drug *ehr.Concept
		if r.MedicationCodeableConcept == nil && r.MedicationReference != nil {
			drug = im.medicationCode(refString(r.MedicationReference))
			if drug == nil {
				im.skip(e, "the medication it names is not in the Bundle")
				return nil
			}
		}
		v, why := medication(e.rtype, r, drug)
		if why != "" {
			im.skip(e, why)
			return nil
		}
		pid, why, err := im.patientOf(r.Subject)
		if err != nil || why != "" {
			im.skipWhy(e, why)
			return err
		}
		link := r.Encounter
		if e.rtype == "MedicationStatement" {
			link = r.Context
		}
		if v.EncounterID, err = im.encounterOf(link); err != nil {
			return err
		}
		v.PatientID = pid
		return create(im, e, "", records.Medications, v)
	case "AllergyIntolerance":
		return single(im, e, records.Allergies, allergy,
			func(r fhirAllergy) *reference { return r.Patient }, func(v *ehr.Allergy, pid string) { v.PatientID = pid })
	case "Immunization":
		return single(im, e, records.Immunizations, immunization,
			func(r fhirImmunization) *reference { return r.Patient }, func(v *ehr.Immunization, pid string) { v.PatientID = pid })
	case "DocumentReference":
		var r fhirDocument
		if !im.decode(e, &r) {
			return nil
		}
		v, why := note(r)
		if why != "" {
			im.skip(e, why)
			return nil
		}
		pid, why, err := im.patientOf(r.Subject)
		if err != nil || why != "" {
			im.skipWhy(e, why)
			return err
		}
		if r.Context != nil && len(r.Context.Encounter) > 0 {
			if v.EncounterID, err = im.encounterOf(&r.Context.Encounter[0]); err != nil {
				return err
			}
		}
		v.PatientID = pid
		return create(im, e, "", records.Notes, v)
	}
	return nil
}

// single stores a resource that maps to one record of kind k: decode it,
// map it (a reason to skip, or the value), resolve its patient, create.
func single[R, T any](im *importer, e *entry, k records.Kind[T], mapFn func(R) (T, string),
	patient func(R) *reference, setPatient func(*T, string)) error {
	var r R
	if !im.decode(e, &r) {
		return nil
	}
	v, why := mapFn(r)
	if why != "" {
		im.skip(e, why)
		return nil
	}
	pid, why, err := im.patientOf(patient(r))
	if err != nil || why != "" {
		im.skipWhy(e, why)
		return err
	}
	setPatient(&v, pid)
	return create(im, e, "", k, v)
}

// skipWhy skips e when why is not empty (a reference that resolved to
// nothing); with an error the import stops anyway.
func (im *importer) skipWhy(e *entry, why string) {
	if why != "" {
		im.skip(e, why)
	}
}

// decode reads e's resource into v, skipping e when it does not fit.
func (im *importer) decode(e *entry, v any) bool {
	if err := json.Unmarshal(e.raw, v); err != nil {
		im.skip(e, "malformed "+e.rtype+": "+decodeReason(err))
		return false
	}
	return true
}

// medicationCode returns the code of the Medication resource ref names.
func (im *importer) medicationCode(ref string) *ehr.Concept {
	m := im.lookup(ref)
	if m == nil || m.rtype != "Medication" {
		return nil
	}
	var r struct {
		Code *ehr.Concept `json:"code"`
	}
	if json.Unmarshal(m.raw, &r) != nil || r.Code == nil {
		return nil
	}
	return r.Code
}

// create stores v under the id derived from e (and suffix, for one part
// of a resource) and counts the outcome. A value the kind refuses, or a
// chart not open to the actor, is a skip; anything else stops the import.
func create[T any](im *importer, e *entry, suffix string, k records.Kind[T], v T) error {
	id := e.id
	if suffix != "" {
		id = DeriveID(e.key + suffix)
	}
	created, _, err := records.BatchCreateAs(im.b, im.a, k, id, v, importReason)
	if suffix == "" {
		e.state = stored
	}
	switch {
	case err == nil && created:
		im.rep.imported(e.rtype)
	case err == nil:
		im.rep.present(e.rtype)
	case refusal(err):
		if suffix == "" {
			e.state = skipped
		}
		im.rep.skip(e.rtype, e.label()+suffix, reasonOf(err))
	default:
		return err
	}
	return nil
}

// refusal reports whether err refuses one record (bad data, a chart not
// open to the actor) rather than the store failing.
func refusal(err error) bool {
	switch ehr.ErrorCode(err) {
	case ehr.EInvalid, ehr.ERestricted, ehr.ENotFound, ehr.EConflict:
		return true
	}
	return false
}

// reasonOf writes a refusal as a reason: the field messages, sorted by
// field, else the message.
func reasonOf(err error) string {
	fields := ehr.ErrorFields(err)
	if len(fields) == 0 {
		return ehr.ErrorMessage(err)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + fields[k]
	}
	return strings.Join(parts, "; ")
}

// patient imports a Patient: validated as the registration form would be,
// stored with a new clinic number. A chart restricted in the source is
// restricted again here, with the importing user as its responsible
// clinician (an unrestricted copy would open it to everyone).
func (im *importer) patient(e *entry) error {
	var r fhirPatient
	if !im.decode(e, &r) {
		return nil
	}
	in, restricted := patientInput(r, im.now)
	p, err := in.Patient(im.now)
	if err != nil {
		if refusal(err) {
			im.skip(e, reasonOf(err))
			return nil
		}
		return err
	}
	created, _, err := im.b.ImportPatientAs(im.a, e.id, p)
	if err != nil {
		return err
	}
	e.state = stored
	if !created {
		im.rep.present(e.rtype)
		return nil
	}
	im.rep.imported(e.rtype)
	if restricted {
		if err := im.b.SetRestricted(im.a, e.id, true, "restricted in the imported record"); err != nil {
			return err
		}
	}
	return nil
}
