package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"outpost/backend/audit"
	"outpost/backend/vault/vaulttest"
)

// fhirSchema compiles HL7's FHIR R4 JSON Schema (testdata/fhir), once per
// test binary, as backend/ehr's tests do.
var fhirSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "fhir", "fhir.schema.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); ok {
		delete(m, "$schema") // the draft is set below; no metaschema to fetch
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft6)
	const url = "file:///fhir.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

func checkFHIR(t *testing.T, body []byte) error {
	t.Helper()
	sch, err := fhirSchema()
	if err != nil {
		t.Fatalf("compile the FHIR schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	return sch.Validate(inst)
}

// The parts of an AuditEvent the tests look at.
type auditEvent struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Extension    []struct {
		URL          string `json:"url"`
		ValueInteger *int64 `json:"valueInteger"`
		ValueString  string `json:"valueString"`
	} `json:"extension"`
	Type        struct{ System, Code, Display string }   `json:"type"`
	Subtype     []struct{ System, Code, Display string } `json:"subtype"`
	Action      string                                   `json:"action"`
	Recorded    string                                   `json:"recorded"`
	Outcome     string                                   `json:"outcome"`
	OutcomeDesc string                                   `json:"outcomeDesc"`
	Agent       []struct {
		Extension []struct{ URL, ValueString string } `json:"extension"`
		Type      *struct{ Text string }              `json:"type"`
		Role      []struct{ Text string }             `json:"role"`
		Who       *struct{ Display string }           `json:"who"`
		AltID     string                              `json:"altId"`
		Requestor *bool                               `json:"requestor"`
		Network   *struct{ Address, Type string }     `json:"network"`
		Purpose   []struct {
			Coding []struct{ Code string } `json:"coding"`
			Text   string                  `json:"text"`
		} `json:"purposeOfUse"`
	} `json:"agent"`
	Source struct {
		Observer *struct {
			Display    string                          `json:"display"`
			Identifier *struct{ System, Value string } `json:"identifier"`
		} `json:"observer"`
	} `json:"source"`
	Entity []struct {
		What struct {
			Reference  string                          `json:"reference"`
			Identifier *struct{ System, Value string } `json:"identifier"`
		} `json:"what"`
		Role *struct{ Code string } `json:"role"`
	} `json:"entity"`
}

func (a *auditEvent) ext(url string) (string, int64) {
	for _, x := range a.Extension {
		if x.URL == url {
			if x.ValueInteger != nil {
				return "", *x.ValueInteger
			}
			return x.ValueString, 0
		}
	}
	return "", -1
}

// Every event becomes one valid FHIR R4 AuditEvent line carrying who,
// what, when, where, the outcome, the patient and record, and its place
// in the hash chain.
func TestWriteAuditEvents(t *testing.T) {
	ctx := context.Background()
	v := vaulttest.New(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)
	log := &audit.Log{Device: "dev-1", Workstation: "ward-pc", Now: func() time.Time { return at }, OSUser: "clinic",
		Addresses: func() []string { return []string{"192.0.2.7", "2001:db8::1"} }}
	bare := &audit.Log{Device: "dev-1", Now: func() time.Time { return at }}
	in := []struct {
		log *audit.Log
		e   audit.Event
	}{
		{log, audit.Event{Username: "dr.ama", Roles: []string{"clinician", "nurse"}, Action: "user.login", Outcome: audit.Success, RecordID: "u1", Session: "s1"}},
		{log, audit.Event{Username: "dr.ama", Roles: []string{"clinician"}, Action: "patient.read", Outcome: audit.Success, PatientID: "p1", RecordID: "p1", Session: "s1"}},
		{log, audit.Event{Username: "dr.ama", Roles: []string{"clinician"}, Action: "encounter.create", Outcome: audit.Success, PatientID: "p1", RecordID: "e1"}},
		{log, audit.Event{Username: "nurse.eve", Roles: []string{"nurse"}, Action: "patient.breakglass", Outcome: audit.Success, PatientID: "p2", RecordID: "p2",
			Reason: "unconscious\fon arrival", OnBehalfOf: "guardian: Mother"}},
		{bare, audit.Event{Username: "clerk.sam", Roles: []string{"clerk"}, Action: "ChartSummary", Outcome: audit.Denied, Detail: "missing permission chart.read"}},
		{bare, audit.Event{Username: "", Action: "user.login", Outcome: audit.Failure, Detail: "unknown  user\u00a0"}},
		{log, audit.Event{Username: "off.icer", Roles: []string{"officer"}, Action: "audit.export", Outcome: audit.Success, Detail: "12 bytes saved outside the vault"}},
		{log, audit.Event{Username: "nurse.eve", Roles: []string{"nurse"}, Action: "record.delete", Outcome: audit.Success, PatientID: "p2", RecordID: "c9"}},
		{log, audit.Event{Username: "admin", Roles: []string{"administrator"}, Action: "user.roles", Outcome: audit.Success, RecordID: "u4"}},
		{log, audit.Event{Username: "dr.ama", Roles: []string{"clinician"}, Action: "patient.search", Outcome: audit.Success}},
	}
	for _, x := range in {
		at = at.Add(time.Second)
		if err := x.log.Record(ctx, v.W, x.e); err != nil {
			t.Fatal(err)
		}
	}
	if err := audit.RefreshView(ctx, v.W); err != nil {
		t.Fatal(err)
	}
	stored, _, err := audit.Query(ctx, v.R, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := audit.WriteAuditEvents(ctx, v.R, audit.Filter{}, &buf)
	if err != nil || n != len(in) {
		t.Fatalf("WriteAuditEvents: %d, %v", n, err)
	}
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Error("the last line has no newline")
	}
	var got []auditEvent
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if err := checkFHIR(t, line); err != nil {
			t.Errorf("line %d is not a valid FHIR R4 resource:\n%s\n%v", len(got)+1, line, err)
		}
		var a auditEvent
		if err := json.Unmarshal(line, &a); err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	if len(got) != len(in) {
		t.Fatalf("%d lines for %d events", len(got), len(in))
	}
	// FHIR's cardinalities the JSON schema does not check.
	for i, a := range got {
		if a.ResourceType != "AuditEvent" || a.Type.Code == "" || a.Recorded == "" || len(a.Agent) == 0 || a.Agent[0].Requestor == nil ||
			a.Source.Observer == nil || a.Action == "" || a.Outcome == "" {
			t.Errorf("event %d lacks a required element: %+v", i+1, a)
		}
		e := stored[i]
		if a.ID != e.Hash {
			t.Errorf("event %d: id %q", i+1, a.ID)
		}
		if s, seq := a.ext(audit.ExtensionSeq); seq != e.Seq || s != "" {
			t.Errorf("event %d: seq extension %d", i+1, seq)
		}
		if h, _ := a.ext(audit.ExtensionHash); h != e.Hash {
			t.Errorf("event %d: hash extension %q", i+1, h)
		}
		if h, _ := a.ext(audit.ExtensionPrevHash); h != e.PrevHash {
			t.Errorf("event %d: prev-hash extension %q", i+1, h)
		}
		if rec, _ := time.Parse(time.RFC3339Nano, a.Recorded); !rec.Equal(e.At) {
			t.Errorf("event %d: recorded %q, stored %v", i+1, a.Recorded, e.At)
		}
	}

	login := got[0]
	if login.Type.System != audit.SystemDICOM || login.Type.Code != "110114" || len(login.Subtype) != 2 || login.Subtype[0].Code != "110122" ||
		login.Subtype[1].System != audit.SystemAction || login.Subtype[1].Code != "user.login" || login.Action != "E" || login.Outcome != "0" {
		t.Errorf("login: %+v", login)
	}
	ag := login.Agent[0]
	if ag.Who == nil || ag.Who.Display != "dr.ama" || !*ag.Requestor || ag.AltID != "clinic" || len(ag.Role) != 2 || ag.Role[1].Text != "nurse" ||
		ag.Network == nil || ag.Network.Address != "192.0.2.7" || ag.Network.Type != "2" || len(ag.Extension) != 2 || ag.Extension[1].ValueString != "2001:db8::1" {
		t.Errorf("login agent: %+v", ag)
	}
	if o := login.Source.Observer; o.Display != "ward-pc" || o.Identifier == nil || o.Identifier.Value != "dev-1" {
		t.Errorf("login source: %+v", o)
	}
	if s, _ := login.ext(audit.ExtensionSession); s != "s1" {
		t.Errorf("session extension %q", s)
	}
	if len(login.Entity) != 1 || login.Entity[0].What.Identifier == nil || login.Entity[0].What.Identifier.Value != "u1" {
		t.Errorf("login entity: %+v", login.Entity)
	}

	read := got[1]
	if read.Type.Code != "110110" || read.Action != "R" || len(read.Entity) != 1 || read.Entity[0].What.Reference != "Patient/p1" ||
		read.Entity[0].Role == nil || read.Entity[0].Role.Code != "1" {
		t.Errorf("patient read: %+v", read)
	}
	create := got[2]
	if create.Type.Code != "110110" || create.Action != "C" || len(create.Entity) != 2 || create.Entity[0].What.Reference != "Patient/p1" ||
		create.Entity[1].What.Identifier == nil || create.Entity[1].What.Identifier.Value != "e1" {
		t.Errorf("visit created: %+v", create)
	}
	bg := got[3]
	if bg.Type.Code != "110113" || bg.Subtype[0].Code != "110127" || bg.Action != "E" || len(bg.Agent) != 2 ||
		len(bg.Agent[0].Purpose) != 1 || bg.Agent[0].Purpose[0].Text != "unconscious on arrival" || bg.Agent[0].Purpose[0].Coding[0].Code != "ETREAT" ||
		bg.Agent[1].Who == nil || bg.Agent[1].Who.Display != "guardian: Mother" || *bg.Agent[1].Requestor {
		t.Errorf("break-glass: %+v", bg)
	}
	denied := got[4]
	if denied.Type.System != audit.SystemAction || denied.Type.Code != "ChartSummary" || len(denied.Subtype) != 0 || denied.Outcome != "4" ||
		denied.OutcomeDesc != "missing permission chart.read" || denied.Action != "E" || denied.Agent[0].Network != nil {
		t.Errorf("denied: %+v", denied)
	}
	if o := denied.Source.Observer; o.Display != "dev-1" {
		t.Errorf("a device without a workstation name: %+v", o)
	}
	failed := got[5]
	if failed.Outcome != "8" || failed.Agent[0].Who != nil || failed.OutcomeDesc != "unknown  user " {
		t.Errorf("failed login: %+v", failed)
	}
	if e := got[6]; e.Type.Code != "110106" || e.Action != "R" {
		t.Errorf("audit export: %+v", e)
	}
	if e := got[7]; e.Type.Code != "110110" || e.Action != "D" {
		t.Errorf("record deleted: %+v", e)
	}
	if e := got[8]; e.Type.Code != "110113" || e.Subtype[0].Code != "110136" || e.Action != "U" {
		t.Errorf("roles changed: %+v", e)
	}
	if e := got[9]; e.Type.Code != "110112" || e.Action != "E" || len(e.Entity) != 0 {
		t.Errorf("search: %+v", e)
	}

	// A filter applies to the export as to the viewer.
	buf.Reset()
	if n, err := audit.WriteAuditEvents(ctx, v.R, audit.Filter{PatientID: "p2"}, &buf); err != nil || n != 2 || strings.Count(buf.String(), "\n") != 2 {
		t.Errorf("filtered export: %d, %v", n, err)
	}
}

// The schema check is not vacuous: it refuses what FHIR refuses.
func TestAuditEventSchemaRefusesBrokenEvents(t *testing.T) {
	e := audit.Event{Seq: 1, At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Username: "dr.ama", Action: "patient.read", Outcome: audit.Success,
		PatientID: "p1", Device: "d", Workstation: "w", PrevHash: audit.Genesis, Hash: strings.Repeat("ab", 32)}
	line, err := audit.AuditEventJSON(&e)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkFHIR(t, line); err != nil {
		t.Fatalf("valid event refused: %v\n%s", err, line)
	}
	for _, tt := range []struct{ old, new string }{
		{`"action":"R"`, `"action":"X"`},
		{`"outcome":"0"`, `"outcome":"1"`},
		{`"recorded":"2026-03-01T09:00:00Z"`, `"recorded":"1 March 2026"`},
		{`"display":"dr.ama"`, `"display":""`},
		{`"resourceType":"AuditEvent"`, `"resourceType":"AuditLog"`},
		{`"requestor":true`, `"requestor":"yes"`},
	} {
		broken := strings.Replace(string(line), tt.old, tt.new, 1)
		if broken == string(line) {
			t.Fatalf("%q not in %s", tt.old, line)
		}
		if checkFHIR(t, []byte(broken)) == nil {
			t.Errorf("the schema accepts %s", broken)
		}
	}
}
