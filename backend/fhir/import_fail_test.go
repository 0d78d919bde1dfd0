package fhir_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"outpost/backend/audit"
	"outpost/backend/fhir"
)

// A failure of the store in the middle of an import (a write SQLite
// refuses) stops it with an error and leaves nothing half written: no
// version, head, outbox entry, audit event or projection of the records
// not yet committed. The same Bundle then imports whole.
func TestImportStoreFailureLeavesNothing(t *testing.T) {
	e := newEnv(t)
	file, _ := filepath.Glob(filepath.Join(fhirTestdata, "samples", "Tony_Douglas_*.json"))
	raw := readFile(t, file[0])
	// A real failure inside SQLite: the 21st chart row cannot be written.
	if _, err := e.v.W.Exec(`CREATE TEMP TRIGGER fail_chart BEFORE INSERT ON main.chart
		WHEN (SELECT count(*) FROM main.chart) >= 20 BEGIN SELECT RAISE(ABORT, 'disk full'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := fhir.Import(ctx, e.s, e.actor, bytes.NewReader(raw), nil); err == nil {
		t.Fatal("the import succeeded although a write failed")
	}
	for _, q := range []string{"SELECT count(*) FROM versions", "SELECT count(*) FROM heads", "SELECT count(*) FROM outbox",
		"SELECT count(*) FROM audit", "SELECT count(*) FROM patients", "SELECT count(*) FROM chart", "SELECT count(*) FROM vitals"} {
		if n := e.count(t, q); n != 0 {
			t.Errorf("%s = %d after a failed import, want 0", q, n)
		}
	}
	if _, err := e.v.W.Exec("DROP TRIGGER temp.fail_chart"); err != nil {
		t.Fatal(err)
	}
	rep := importBytes(t, e, raw)
	if n := e.count(t, "SELECT count(*) FROM versions"); n != rep.Total().Imported || n < 50 {
		t.Errorf("%d versions after the second import, %d imported", n, rep.Total().Imported)
	}
	if _, err := audit.Verify(ctx, e.v.R); err != nil {
		t.Fatal(err)
	}
}
