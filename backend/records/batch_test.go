package records_test

import (
	"fmt"
	"testing"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/records"
)

// batchID is the id of the i-th record a batch test writes.
func batchID(i int) string { return fmt.Sprintf("0190a0b0-0000-7000-8000-%012d", i) }

var batchTables = []string{"versions", "heads", "outbox", "audit", "chart"}

func counts(t *testing.T, e *env) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, tb := range batchTables {
		n[tb] = count(t, e, tb)
	}
	return n
}

func verifyAudit(t *testing.T, e *env) {
	t.Helper()
	if _, err := audit.Verify(ctx, e.v.R); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
}

// A refused record writes nothing and leaves the others of the batch
// standing: one that does not validate, one whose patient does not exist,
// one whose chart is restricted to someone else. A record already stored
// is reported, not written again.
func TestBatchRefusalLeavesOthers(t *testing.T) {
	e := newEnv(t)
	pid := registerPatient(t, e)
	other := records.Actor{UserID: "u2", Username: "dr.banda", Roles: []string{"clinician"}, Session: "s2"}
	closed := registerPatient(t, e)
	if _, err := e.s.SetRestricted(ctx, other, closed, true, "staff member"); err != nil {
		t.Fatal(err)
	}
	before := counts(t, e)
	gout := func(p string) ehr.Condition {
		return ehr.Condition{PatientID: p, Code: ehr.Concept{Text: "Gout"}, Status: "active"}
	}
	b, err := e.s.BeginBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		v    ehr.Condition
		code string // of the refusal; "" when stored
	}{
		{gout(pid), ""},
		{ehr.Condition{PatientID: pid, Status: "active"}, ehr.EInvalid},
		{gout(batchID(99)), ehr.EInvalid},
		{gout(closed), ehr.ERestricted},
		{gout(pid), ""},
	} {
		created, it, err := records.BatchCreateAs(b, e.actor, records.Conditions, batchID(i), c.v, "imported")
		if got := ehr.ErrorCode(err); got != c.code || created != (c.code == "") || (created && it.ID != batchID(i)) {
			t.Fatalf("record %d: created %v, %+v, %v; want refusal %q", i, created, it, err, c.code)
		}
	}
	if created, _, err := records.BatchCreateAs(b, e.actor, records.Conditions, batchID(0), gout(pid), "imported"); created || err != nil {
		t.Fatalf("a stored record again: created %v, %v", created, err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	for tb, n := range counts(t, e) {
		if n != before[tb]+2 {
			t.Errorf("%s: %d rows, want %d", tb, n, before[tb]+2)
		}
	}
	verifyAudit(t, e)
}

// When a write of a checked record fails inside SQLite, nothing of that
// record is left, nor of the records since the batch's last commit; the
// batch ends and every later call, Commit included, reports the failure.
// Records committed before stay.
func TestBatchWriteFailureEndsBatch(t *testing.T) {
	for _, c := range []struct {
		table, trigger string
		committed      int // good records before the failing one
	}{
		{"versions", "CREATE TEMP TRIGGER fail BEFORE INSERT ON main.versions WHEN NEW.record_id = '0190a0b0-0000-7000-8000-000000000999' BEGIN SELECT RAISE(ABORT, 'disk full'); END", 2},
		{"outbox", "CREATE TEMP TRIGGER fail BEFORE INSERT ON main.outbox WHEN (SELECT record_id FROM main.versions WHERE version_id = NEW.version_id) = '0190a0b0-0000-7000-8000-000000000999' BEGIN SELECT RAISE(ABORT, 'disk full'); END", 2},
		{"audit", "CREATE TEMP TRIGGER fail BEFORE INSERT ON main.audit WHEN NEW.record_id = '0190a0b0-0000-7000-8000-000000000999' BEGIN SELECT RAISE(ABORT, 'disk full'); END", 2},
		{"chart", "CREATE TEMP TRIGGER fail BEFORE INSERT ON main.chart WHEN NEW.record_id = '0190a0b0-0000-7000-8000-000000000999' BEGIN SELECT RAISE(ABORT, 'disk full'); END", records.BatchSize + 1},
	} {
		t.Run(c.table, func(t *testing.T) {
			e := newEnv(t)
			pid := registerPatient(t, e)
			before := counts(t, e)
			// The batch holds the only writer connection: the trigger comes first.
			if _, err := e.v.W.Exec(c.trigger); err != nil {
				t.Fatal(err)
			}
			b, err := e.s.BeginBatch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			v := ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "Gout"}, Status: "active"}
			for i := range c.committed {
				if _, _, err := records.BatchCreateAs(b, e.actor, records.Conditions, batchID(i), v, "imported"); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err = records.BatchCreateAs(b, e.actor, records.Conditions, batchID(999), v, "imported")
			if err == nil || ehr.ErrorCode(err) != ehr.EInternal {
				t.Fatalf("a failed write: %v", err)
			}
			if _, _, again := records.BatchCreateAs(b, e.actor, records.Conditions, batchID(1000), v, "imported"); again == nil {
				t.Error("the batch went on after a failed write")
			}
			if err := b.Commit(); err == nil {
				t.Error("Commit after a failed write reported success")
			}
			kept := c.committed / records.BatchSize * records.BatchSize
			for tb, n := range counts(t, e) {
				if n != before[tb]+kept {
					t.Errorf("%s: %d rows, want %d", tb, n, before[tb]+kept)
				}
			}
			verifyAudit(t, e)
			if _, err := e.v.W.Exec("DROP TRIGGER temp.fail"); err != nil {
				t.Fatal(err)
			}
			b, err = e.s.BeginBatch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if created, _, err := records.BatchCreateAs(b, e.actor, records.Conditions, batchID(999), v, "imported"); !created || err != nil {
				t.Fatalf("after the failure: %v %v", created, err)
			}
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			verifyAudit(t, e)
		})
	}
}

func registerPatient(t *testing.T, e *env) string {
	t.Helper()
	rec, err := e.s.RegisterPatient(ctx, e.actor, patient("Phiri", "Mercy", "1995-05-05"))
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}
