package records_test

import (
	"strings"
	"testing"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

func TestImportPatients(t *testing.T) {
	e := newEnv(t)
	in := []ehr.Patient{
		patient("Osei", "Ama", "1990-02-03"),
		patient("Müller", "José", "1984"),
		patient("O'Neil", "Mary Grace", "2001-09-09"),
	}
	in[1].BirthEstimated = true
	recs, err := e.s.ImportPatients(ctx, e.actor, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(in) {
		t.Fatalf("%d records, want %d", len(recs), len(in))
	}
	for i, rec := range recs {
		want := in[i]
		want.ClinicNo = "K7Q-0000" + string(rune('1'+i))
		if rec.Patient != want {
			t.Errorf("record %d = %+v, want %+v", i, rec.Patient, want)
		}
		got, err := e.s.Patient(ctx, e.actor, rec.ID)
		if err != nil {
			t.Fatalf("read back %d: %v", i, err)
		}
		if got.Patient != want || got.VersionID != rec.VersionID {
			t.Errorf("read back %d = %+v, want %+v", i, got.Patient, want)
		}
	}
	for _, table := range []string{"versions", "heads", "outbox", "patients"} {
		if got := count(t, e, table); got != 3 {
			t.Errorf("%s rows = %d, want 3", table, got)
		}
	}
	var imports int
	if err := e.v.R.QueryRow("SELECT count(*) FROM audit WHERE action = 'patient.import'").Scan(&imports); err != nil {
		t.Fatal(err)
	}
	if imports != 3 {
		t.Errorf("patient.import audit events = %d, want 3", imports)
	}
	if _, err := audit.Verify(ctx, e.v.R); err != nil {
		t.Errorf("audit verify: %v", err)
	}
	if hits, err := e.s.FindPatients(ctx, "muller", 50); err != nil || len(hits) != 1 || hits[0].ID != recs[1].ID {
		t.Errorf("search after import: %v, %v", hits, err)
	}
	// Registration carries on from the imported numbers.
	next, err := e.s.RegisterPatient(ctx, e.actor, patient("Banda", "Chisomo", "1979-11-05"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := next.Patient.ClinicNo, "K7Q-00004"; got != want {
		t.Errorf("clinic no after import = %s, want %s", got, want)
	}
}

func TestImportPatientsEmpty(t *testing.T) {
	e := newEnv(t)
	recs, err := e.s.ImportPatients(ctx, e.actor, nil)
	if err != nil || recs != nil {
		t.Fatalf("empty import = %v, %v", recs, err)
	}
	if got := count(t, e, "audit"); got != 0 {
		t.Errorf("an empty import wrote %d audit events", got)
	}
}

// A failure on the second patient of three leaves nothing written, not
// even the first patient, and uses up no clinic number.
func TestImportPatientsIsAtomic(t *testing.T) {
	e := newEnv(t)
	tables := []string{"versions", "heads", "outbox", "audit", "patients", "patient_words", "patient_sounds", "counters"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = count(t, e, tb)
	}
	// A real failure inside SQLite: the second outbox insert aborts.
	if _, err := e.v.W.Exec(`CREATE TEMP TRIGGER fail_second BEFORE INSERT ON main.outbox
		WHEN (SELECT count(*) FROM main.outbox) >= 1 BEGIN SELECT RAISE(ABORT, 'disk full'); END`); err != nil {
		t.Fatal(err)
	}
	in := []ehr.Patient{
		patient("Phiri", "Mercy", "1995-05-05"),
		patient("Tembo", "Grace", "2001-01-01"),
		patient("Dube", "Sipho", "1988-08-08"),
	}
	recs, err := e.s.ImportPatients(ctx, e.actor, in)
	if err == nil {
		t.Fatal("import succeeded although an insert failed")
	}
	if recs != nil {
		t.Errorf("a failed import returned records: %v", recs)
	}
	if !strings.Contains(err.Error(), "patient 2 of 3") {
		t.Errorf("error does not name the failing patient: %v", err)
	}
	for _, tb := range tables {
		if got := count(t, e, tb); got != before[tb] {
			t.Errorf("%s: %d rows after a failed import, want %d", tb, got, before[tb])
		}
	}
	if _, err := e.v.W.Exec("DROP TRIGGER temp.fail_second"); err != nil {
		t.Fatal(err)
	}
	recs, err = e.s.ImportPatients(ctx, e.actor, in)
	if err != nil {
		t.Fatalf("import after the failure: %v", err)
	}
	if got := recs[0].Patient.ClinicNo; got != "K7Q-00001" {
		t.Errorf("the failed import used up clinic numbers: first is %s", got)
	}
}
