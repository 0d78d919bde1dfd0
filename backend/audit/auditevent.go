package audit

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode"
)

// FHIR R4 AuditEvent export: one resource per event, one per line
// (NDJSON, as FHIR bulk data). How an event maps:
//
//	type, subtype     a DICOM audit event id (and event type code) where one
//	                  fits, e.g. 110110 Patient Record, 110114 User
//	                  Authentication + 110122 Login; the Outpost action is
//	                  always a subtype in urn:outpost:fhir:audit-action,
//	                  and the type itself when no DICOM code fits
//	action            C, R, U, D or E, from the action's verb
//	recorded          the event's time; outcome 0 success, 4 denied,
//	                  8 failure; outcomeDesc the event's detail
//	agent             the user: who.display = username, requestor true,
//	                  role = one text per role, altId = the OS user,
//	                  network = the first address (type 2, IP), every
//	                  address in urn:outpost:fhir:audit-address, and the
//	                  break-glass reason as purposeOfUse (ETREAT); a second
//	                  agent for on-behalf-of (requestor false)
//	source            observer.display = the workstation (the device when
//	                  it has no name), observer.identifier = the device id
//	                  in urn:outpost:device; type 1, user device
//	entity            Patient/<id> (role patient) when there is a patient;
//	                  the record id in urn:outpost:record otherwise or
//	                  besides
//	id, extension     id = the event's hash; its chain position as
//	                  urn:outpost:fhir:audit-seq, -hash and -prev-hash, and
//	                  the session in urn:outpost:fhir:audit-session
//
// Empty members are left out, as FHIR requires.

// Systems and extension URLs of the export.
const (
	SystemDICOM       = "http://dicom.nema.org/resources/ontology/DCM"
	SystemAction      = "urn:outpost:fhir:audit-action"
	ExtensionSeq      = "urn:outpost:fhir:audit-seq"
	ExtensionHash     = "urn:outpost:fhir:audit-hash"
	ExtensionPrevHash = "urn:outpost:fhir:audit-prev-hash"
	ExtensionSession  = "urn:outpost:fhir:audit-session"
	ExtensionAddress  = "urn:outpost:fhir:audit-address"
	systemDevice      = "urn:outpost:device"
	systemRecord      = "urn:outpost:record"
	systemEntityType  = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	systemObjectRole  = "http://terminology.hl7.org/CodeSystem/object-role"
	systemSourceType  = "http://terminology.hl7.org/CodeSystem/security-source-type"
	systemActReason   = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
)

type fhirCoding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

type fhirConcept struct {
	Coding []fhirCoding `json:"coding,omitempty"`
	Text   string       `json:"text,omitempty"`
}

type fhirIdentifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

type fhirReference struct {
	Reference  string          `json:"reference,omitempty"`
	Identifier *fhirIdentifier `json:"identifier,omitempty"`
	Display    string          `json:"display,omitempty"`
}

type fhirExtension struct {
	URL          string `json:"url"`
	ValueInteger *int64 `json:"valueInteger,omitempty"`
	ValueString  string `json:"valueString,omitempty"`
}

type fhirNetwork struct {
	Address string `json:"address"`
	Type    string `json:"type"`
}

type fhirAgent struct {
	Extension    []fhirExtension `json:"extension,omitempty"`
	Type         *fhirConcept    `json:"type,omitempty"`
	Role         []fhirConcept   `json:"role,omitempty"`
	Who          *fhirReference  `json:"who,omitempty"`
	AltID        string          `json:"altId,omitempty"`
	Requestor    bool            `json:"requestor"`
	Network      *fhirNetwork    `json:"network,omitempty"`
	PurposeOfUse []fhirConcept   `json:"purposeOfUse,omitempty"`
}

type fhirSource struct {
	Observer fhirReference `json:"observer"`
	Type     []fhirCoding  `json:"type,omitempty"`
}

type fhirEntity struct {
	What fhirReference `json:"what"`
	Type *fhirCoding   `json:"type,omitempty"`
	Role *fhirCoding   `json:"role,omitempty"`
}

type fhirAuditEvent struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id,omitempty"`
	Extension    []fhirExtension `json:"extension,omitempty"`
	Type         fhirCoding      `json:"type"`
	Subtype      []fhirCoding    `json:"subtype,omitempty"`
	Action       string          `json:"action"`
	Recorded     string          `json:"recorded,omitempty"`
	Outcome      string          `json:"outcome,omitempty"`
	OutcomeDesc  string          `json:"outcomeDesc,omitempty"`
	Agent        []fhirAgent     `json:"agent"`
	Source       fhirSource      `json:"source"`
	Entity       []fhirEntity    `json:"entity,omitempty"`
}

func dicom(code, display string) fhirCoding {
	return fhirCoding{System: SystemDICOM, Code: code, Display: display}
}

// DICOM audit event ids (PS3.16 CID 400) and event type codes (CID 401).
var (
	dcmAuditLogUsed = dicom("110101", "Audit Log Used")
	dcmExport       = dicom("110106", "Export")
	dcmImport       = dicom("110107", "Import")
	dcmPatient      = dicom("110110", "Patient Record")
	dcmQuery        = dicom("110112", "Query")
	dcmSecurity     = dicom("110113", "Security Alert")
	dcmUserAuth     = dicom("110114", "User Authentication")
	dcmLogin        = dicom("110122", "Login")
	dcmLogout       = dicom("110123", "Logout")
	dcmEmergency    = dicom("110127", "Emergency Override Started")
	dcmSecConfig    = dicom("110129", "Security Configuration")
	dcmObjectSec    = dicom("110135", "Object Security Attributes Changed")
	dcmRoles        = dicom("110136", "Security Roles Changed")
	dcmUserSec      = dicom("110137", "User security Attributes Changed")
)

// auditTypes maps exact actions to a DICOM type and subtype.
var auditTypes = map[string][2]fhirCoding{
	"user.login":          {dcmUserAuth, dcmLogin},
	"user.logout":         {dcmUserAuth, dcmLogout},
	"session.end":         {dcmUserAuth, dcmLogout},
	"user.mfa":            {dcmUserAuth},
	"session.lock":        {dcmUserAuth},
	"session.unlock":      {dcmUserAuth},
	"notice.accept":       {dcmUserAuth},
	"user.lockout":        {dcmSecurity},
	"session.concurrent":  {dcmSecurity},
	"alert.acknowledge":   {dcmSecurity},
	"patient.breakglass":  {dcmSecurity, dcmEmergency},
	"patient.restrict":    {dcmSecurity, dcmObjectSec},
	"patient.unrestrict":  {dcmSecurity, dcmObjectSec},
	"user.roles":          {dcmSecurity, dcmRoles},
	"settings.change":     {dcmSecurity, dcmSecConfig},
	"clinic.setup":        {dcmSecurity, dcmSecConfig},
	"patient.search":      {dcmQuery},
	"audit.read":          {dcmAuditLogUsed},
	"audit.export":        {dcmExport},
	"ExportFHIR":          {dcmExport},
	"SaveSummaryPDF":      {dcmExport},
	"SaveDocument":        {dcmExport},
	"SaveSealedAuditCopy": {dcmExport},
	"audit.acknowledge":   {dcmAuditLogUsed},
	"audit.purge_request": {dcmSecurity, dcmSecConfig},
	"audit.purge_approve": {dcmSecurity, dcmSecConfig},
	"alert.raise":         {dcmSecurity},
}

// patientKinds are the first words of actions on patient data.
var patientKinds = map[string]bool{
	"patient": true, "encounter": true, "observation": true, "condition": true, "medication": true, "allergy": true,
	"immunization": true, "note": true, "document": true, "record": true, "chart": true, "vitals": true,
}

// fhirType returns the type and subtypes of an action.
func fhirType(action string) (fhirCoding, []fhirCoding) {
	own := fhirCoding{System: SystemAction, Code: fhirCode(action)}
	if own.Code == "" {
		own.Code = "unknown"
	}
	kind, verb, _ := strings.Cut(action, ".")
	t, ok := auditTypes[action]
	switch {
	case ok:
	case kind == "user":
		t = [2]fhirCoding{dcmSecurity, dcmUserSec}
	case verb == "import":
		t = [2]fhirCoding{dcmImport}
	case verb == "export":
		t = [2]fhirCoding{dcmExport}
	case patientKinds[kind]:
		t = [2]fhirCoding{dcmPatient}
	default:
		return own, nil
	}
	if t[1].Code != "" {
		return t[0], []fhirCoding{t[1], own}
	}
	return t[0], []fhirCoding{own}
}

// fhirAction returns C, R, U, D or E for an action, from its verb.
func fhirAction(action string) string {
	_, verb, _ := strings.Cut(action, ".")
	switch verb {
	case "create", "register", "import", "setup":
		return "C"
	case "read", "read_as_of", "list", "summary", "history", "series", "export":
		return "R"
	case "update", "restore", "restrict", "unrestrict", "change", "acknowledge", "roles", "disable", "enable",
		"unlock", "password_change", "password_reset", "mfa_enrol", "mfa_reset":
		return "U"
	case "delete", "delete_approve":
		return "D"
	}
	switch action {
	case "ExportFHIR", "SaveSummaryPDF", "SaveDocument":
		return "R"
	}
	return "E" // sign-in steps, searches, requests, alerts, refused calls
}

var fhirOutcomes = map[string]string{Success: "0", Denied: "4", Failure: "8"}

// fhirString makes s a valid FHIR string: white space other than space,
// tab, CR and LF becomes a space; "" stays "" (and is left out).
func fhirString(s string) string {
	return strings.Map(func(r rune) rune {
		if r != ' ' && r != '\t' && r != '\r' && r != '\n' && unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// fhirCode makes s a valid FHIR code: no leading, trailing or repeated
// white space.
func fhirCode(s string) string { return strings.Join(strings.Fields(s), " ") }

// AuditEventJSON returns the event as a FHIR R4 AuditEvent, one line of
// JSON without its newline.
func AuditEventJSON(e *Event) ([]byte, error) {
	typ, sub := fhirType(e.Action)
	r := fhirAuditEvent{
		ResourceType: "AuditEvent",
		Type:         typ,
		Subtype:      sub,
		Action:       fhirAction(e.Action),
		Outcome:      fhirOutcomes[e.Outcome],
		OutcomeDesc:  fhirString(e.Detail),
	}
	if fhirID(e.Hash) {
		r.ID = e.Hash
	}
	if !e.At.IsZero() {
		r.Recorded = e.At.UTC().Format(timeFormat)
	}
	seq := e.Seq
	if seq >= 0 && seq <= math.MaxInt32 { // FHIR's integer is 32-bit
		r.Extension = append(r.Extension, fhirExtension{URL: ExtensionSeq, ValueInteger: &seq})
	} else {
		r.Extension = append(r.Extension, fhirExtension{URL: ExtensionSeq, ValueString: fmt.Sprint(seq)})
	}
	for _, x := range []struct{ url, v string }{{ExtensionHash, e.Hash}, {ExtensionPrevHash, e.PrevHash}, {ExtensionSession, e.Session}} {
		if v := fhirString(x.v); v != "" {
			r.Extension = append(r.Extension, fhirExtension{URL: x.url, ValueString: v})
		}
	}

	user := fhirAgent{Requestor: true, AltID: fhirString(e.OSUser)}
	if u := fhirString(e.Username); u != "" {
		user.Who = &fhirReference{Display: u}
	}
	for _, role := range e.Roles {
		if role = fhirString(role); role != "" {
			user.Role = append(user.Role, fhirConcept{Text: role})
		}
	}
	for _, a := range e.Addresses {
		if a = fhirString(a); a == "" {
			continue
		}
		if user.Network == nil {
			user.Network = &fhirNetwork{Address: a, Type: "2"}
		}
		if len(e.Addresses) > 1 {
			user.Extension = append(user.Extension, fhirExtension{URL: ExtensionAddress, ValueString: a})
		}
	}
	if reason := fhirString(e.Reason); reason != "" {
		p := fhirConcept{Text: reason}
		if e.Action == "patient.breakglass" {
			p.Coding = []fhirCoding{{System: systemActReason, Code: "ETREAT", Display: "Emergency Treatment"}}
		}
		user.PurposeOfUse = []fhirConcept{p}
	}
	r.Agent = []fhirAgent{user}
	if who := fhirString(e.OnBehalfOf); who != "" {
		r.Agent = append(r.Agent, fhirAgent{Type: &fhirConcept{Text: "on behalf of"}, Who: &fhirReference{Display: who}})
	}

	r.Source.Observer.Display = fhirString(e.Workstation)
	if r.Source.Observer.Display == "" {
		r.Source.Observer.Display = fhirString(e.Device)
	}
	if d := fhirString(e.Device); d != "" {
		r.Source.Observer.Identifier = &fhirIdentifier{System: systemDevice, Value: d}
	}
	if r.Source.Observer.Display == "" && r.Source.Observer.Identifier == nil {
		r.Source.Observer.Display = "unknown"
	}
	r.Source.Type = []fhirCoding{{System: systemSourceType, Code: "1", Display: "User Device"}}

	if p := fhirString(e.PatientID); p != "" {
		r.Entity = append(r.Entity, fhirEntity{What: fhirReference{Reference: "Patient/" + p},
			Type: &fhirCoding{System: systemEntityType, Code: "1", Display: "Person"},
			Role: &fhirCoding{System: systemObjectRole, Code: "1", Display: "Patient"}})
	}
	if id := fhirString(e.RecordID); id != "" && e.RecordID != e.PatientID {
		r.Entity = append(r.Entity, fhirEntity{What: fhirReference{Identifier: &fhirIdentifier{System: systemRecord, Value: id}},
			Type: &fhirCoding{System: systemEntityType, Code: "2", Display: "System Object"}})
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("audit event: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// fhirID reports whether s is a valid FHIR id (as the hash always is).
func fhirID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// WriteAuditEvents writes the events f selects (all of them: f.Limit and
// f.Offset are ignored) to w as FHIR R4 AuditEvent NDJSON and returns how
// many it wrote.
func WriteAuditEvents(ctx context.Context, db *sql.DB, f Filter, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	n := 0
	err := Each(ctx, db, f, func(e *Event) error {
		line, err := AuditEventJSON(e)
		if err != nil {
			return err
		}
		bw.Write(line)
		n++
		return bw.WriteByte('\n')
	})
	if err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("audit events: %w", err)
	}
	return n, nil
}
