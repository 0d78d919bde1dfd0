package fhir_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"outpost/backend/audit"
	"outpost/backend/records"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

var ctx = context.Background()

const fhirTestdata = "../../testdata/fhir"

// fakeClock is a settable clock: time is injected, never slept.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

type env struct {
	v     *vault.Vault
	s     *records.Store
	clock *fakeClock
	actor records.Actor
}

// newEnv opens a real vault with a store wired as the records tests wire
// theirs, and a clinician to act as.
func newEnv(t testing.TB) *env {
	t.Helper()
	v := vaulttest.New(t)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	log := &audit.Log{Device: "dev-1", Workstation: "ws-1", Now: clock.Now}
	s, err := records.New(ctx, v.W, v.R, records.Config{Device: "dev-1", DeviceCode: "K7Q", Now: clock.Now, Rand: rand.Reader,
		Audit: log, Alerts: &audit.Alerts{Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{v: v, s: s, clock: clock,
		actor: records.Actor{UserID: "u1", Username: "dr.amina", Roles: []string{"clinician"}, Session: "s1"}}
}

// count runs a constant counting query on the read pool.
func (e *env) count(t testing.TB, query string) int {
	t.Helper()
	var n int
	if err := e.v.R.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func samples(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fhirTestdata, "samples", "*.json"))
	if err != nil || len(files) != 4 {
		t.Fatalf("want the 4 sample Bundles in %s: %v %v", fhirTestdata, files, err)
	}
	return files
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fhirSchema compiles HL7's FHIR R4 JSON Schema once per test binary, as
// backend/ehr's tests do: it is 3 MB and takes about a second.
var fhirSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join(fhirTestdata, "fhir.schema.json"))
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

// checkFHIR validates a resource (a Bundle here) against the schema.
func checkFHIR(t testing.TB, body []byte) error {
	t.Helper()
	sch, err := fhirSchema()
	if err != nil {
		t.Fatalf("compile the FHIR schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return sch.Validate(inst)
}
