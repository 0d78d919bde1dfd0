package records_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

var ctx = context.Background()

// fakeClock is a settable clock: time is injected, never slept.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

type env struct {
	v     *vault.Vault
	s     *records.Store
	clock *fakeClock
	actor records.Actor
}

func newEnv(t testing.TB) *env {
	t.Helper()
	v := vaulttest.New(t)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	log := &audit.Log{Device: "dev-1", Workstation: "ws-1", Now: clock.Now}
	s, err := records.New(ctx, v.W, v.R, records.Config{Device: "dev-1", DeviceCode: "K7Q", Now: clock.Now, Rand: rand.Reader, Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	return &env{v: v, s: s, clock: clock, actor: records.Actor{UserID: "u1", Username: "nurse.amina", Roles: []string{"nurse"}, Session: "s1"}}
}

func patient(family, given, birth string) ehr.Patient {
	return ehr.Patient{Family: family, Given: given, Sex: "female", BirthDate: birth}
}

func count(t testing.TB, e *env, table string) int {
	t.Helper()
	var n int
	// table names come from the test's own constants.
	if err := e.v.R.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRegisterAssignsClinicNumbers(t *testing.T) {
	e := newEnv(t)
	a, err := e.s.RegisterPatient(ctx, e.actor, patient("Osei", "Ama", "1990-02-03"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.s.RegisterPatient(ctx, e.actor, patient("Mensah", "Kofi", "1985-07-30"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Patient.ClinicNo, "K7Q-00001"; got != want {
		t.Errorf("first clinic no = %s, want %s", got, want)
	}
	if got, want := b.Patient.ClinicNo, "K7Q-00002"; got != want {
		t.Errorf("second clinic no = %s, want %s", got, want)
	}
	if !ehr.ValidID(a.ID) || a.ID == b.ID {
		t.Errorf("ids %q %q", a.ID, b.ID)
	}
	got, err := e.s.Patient(ctx, e.actor, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Patient != a.Patient {
		t.Errorf("read back %+v, want %+v", got.Patient, a.Patient)
	}
	for table, want := range map[string]int{"versions": 2, "heads": 2, "outbox": 2, "patients": 2} {
		if got := count(t, e, table); got != want {
			t.Errorf("%s rows = %d, want %d", table, got, want)
		}
	}
	if n, err := audit.Verify(ctx, e.v.R); err != nil || n < 3 {
		t.Errorf("audit verify: %d events, %v", n, err)
	}
}

// S29: a patient edited three times reads back exactly as it was at each
// past moment, with author and time.
func TestHistoryAndAsOf(t *testing.T) {
	e := newEnv(t)
	p := patient("Banda", "Chisomo", "1979-11-05")
	p.Village = "Mzuzu"
	rec, err := e.s.RegisterPatient(ctx, e.actor, p)
	if err != nil {
		t.Fatal(err)
	}
	type state struct {
		at      time.Time
		patient ehr.Patient
		author  string
	}
	states := []state{{e.clock.t, rec.Patient, e.actor.Username}}
	authors := []string{"clerk.joseph", "dr.phiri", "nurse.amina"}
	villages := []string{"Nkhata Bay", "Rumphi", "Karonga"}
	base := rec.VersionID
	for i := range 3 {
		e.clock.t = e.clock.t.Add(time.Duration(i+1) * time.Hour)
		p.Village = villages[i]
		p.Phone = "+265 99 000 00" + string(rune('1'+i))
		a := e.actor
		a.Username = authors[i]
		got, err := e.s.UpdatePatient(ctx, a, rec.ID, base, p, "moved")
		if err != nil {
			t.Fatalf("edit %d: %v", i+1, err)
		}
		base = got.VersionID
		states = append(states, state{e.clock.t, got.Patient, a.Username})
	}
	hist, err := e.s.History(ctx, e.actor, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(hist), 4; got != want {
		t.Fatalf("history has %d versions, want %d", got, want)
	}
	for i, st := range states {
		v := hist[i]
		if got, want := v.Author, st.author; got != want {
			t.Errorf("version %d author = %s, want %s", i, got, want)
		}
		if got, want := v.HLC.Time(), st.at; !got.Equal(want) {
			t.Errorf("version %d time = %v, want %v", i, got, want)
		}
		if i > 0 && (len(v.Parents) != 1 || v.Parents[0] != hist[i-1].VersionID) {
			t.Errorf("version %d parents = %v", i, v.Parents)
		}
		// As of the moment of the edit, and just before the next one.
		for _, at := range []time.Time{st.at, st.at.Add(59 * time.Minute)} {
			got, err := e.s.PatientAsOf(ctx, e.actor, rec.ID, at)
			if err != nil {
				t.Fatalf("as of %v: %v", at, err)
			}
			if got.Patient != st.patient {
				t.Errorf("as of %v: %+v, want %+v", at, got.Patient, st.patient)
			}
			if got.Author != st.author || !got.HLC.Time().Equal(st.at) {
				t.Errorf("as of %v: by %s at %v, want %s at %v", at, got.Author, got.HLC.Time(), st.author, st.at)
			}
		}
	}
	if _, err := e.s.PatientAsOf(ctx, e.actor, rec.ID, states[0].at.Add(-time.Second)); ehr.ErrorCode(err) != ehr.ENotFound {
		t.Errorf("before registration: %v, want ENotFound", err)
	}
}

func TestUpdateConflictsAndNoops(t *testing.T) {
	e := newEnv(t)
	p := patient("Tembo", "Grace", "2001-01-01")
	rec, err := e.s.RegisterPatient(ctx, e.actor, p)
	if err != nil {
		t.Fatal(err)
	}
	p.Village = "Lilongwe"
	if _, err := e.s.UpdatePatient(ctx, e.actor, rec.ID, rec.VersionID, p, ""); ehr.ErrorCode(err) != ehr.EInvalid {
		t.Fatalf("no reason: %v", err)
	}
	up, err := e.s.UpdatePatient(ctx, e.actor, rec.ID, rec.VersionID, p, "moved")
	if err != nil {
		t.Fatal(err)
	}
	// A second user still holds the first version.
	p.Village = "Blantyre"
	if _, err := e.s.UpdatePatient(ctx, e.actor, rec.ID, rec.VersionID, p, "moved"); ehr.ErrorCode(err) != ehr.EConflict {
		t.Fatalf("stale base: %v, want EConflict", err)
	}
	// Saving without a change writes nothing.
	p.Village = "Lilongwe"
	same, err := e.s.UpdatePatient(ctx, e.actor, rec.ID, up.VersionID, p, "no change")
	if err != nil {
		t.Fatal(err)
	}
	if same.VersionID != up.VersionID {
		t.Errorf("a no-op update wrote version %s", same.VersionID)
	}
	// The clinic number cannot be changed by an update.
	p.ClinicNo = "ZZZ-99999"
	p.Village = "Zomba"
	got, err := e.s.UpdatePatient(ctx, e.actor, rec.ID, up.VersionID, p, "moved")
	if err != nil {
		t.Fatal(err)
	}
	if got.Patient.ClinicNo != rec.Patient.ClinicNo {
		t.Errorf("clinic no changed to %s", got.Patient.ClinicNo)
	}
}

// One write is one transaction: when the outbox or the audit insert fails,
// neither the version nor the projection exists afterwards.
func TestWriteIsAtomic(t *testing.T) {
	for _, table := range []string{"outbox", "audit", "heads", "patient_words"} {
		t.Run(table, func(t *testing.T) {
			e := newEnv(t)
			before := map[string]int{}
			tables := []string{"versions", "heads", "outbox", "audit", "patients", "patient_words", "patient_sounds"}
			for _, tb := range tables {
				before[tb] = count(t, e, tb)
			}
			// A real failure inside SQLite, not a mock: a trigger aborts the insert.
			if _, err := e.v.W.Exec("CREATE TEMP TRIGGER fail_insert BEFORE INSERT ON main." + table + " BEGIN SELECT RAISE(ABORT, 'disk full'); END"); err != nil {
				t.Fatal(err)
			}
			_, err := e.s.RegisterPatient(ctx, e.actor, patient("Phiri", "Mercy", "1995-05-05"))
			if err == nil {
				t.Fatal("register succeeded although the insert failed")
			}
			for _, tb := range tables {
				if got := count(t, e, tb); got != before[tb] {
					t.Errorf("%s: %d rows after a failed write, want %d", tb, got, before[tb])
				}
			}
			if _, err := e.v.W.Exec("DROP TRIGGER temp.fail_insert"); err != nil {
				t.Fatal(err)
			}
			rec, err := e.s.RegisterPatient(ctx, e.actor, patient("Phiri", "Mercy", "1995-05-05"))
			if err != nil {
				t.Fatalf("register after the failure: %v", err)
			}
			if rec.Patient.ClinicNo != "K7Q-00001" {
				t.Errorf("the failed write used up a clinic number: %s", rec.Patient.ClinicNo)
			}
		})
	}
}

func TestVersionsAndAuditAreImmutable(t *testing.T) {
	e := newEnv(t)
	if _, err := e.s.RegisterPatient(ctx, e.actor, patient("Moyo", "Tawanda", "1970-06-06")); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"UPDATE versions SET reason = 'x'",
		"DELETE FROM versions",
		"UPDATE audit SET username = 'x'",
		"DELETE FROM audit",
	} {
		if _, err := e.v.W.Exec(stmt); err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("%s: err = %v, want refusal", stmt, err)
		}
	}
}

func TestReadsAreAudited(t *testing.T) {
	e := newEnv(t)
	rec, err := e.s.RegisterPatient(ctx, e.actor, patient("Dube", "Sipho", "1988-08-08"))
	if err != nil {
		t.Fatal(err)
	}
	before := count(t, e, "audit")
	if _, err := e.s.Patient(ctx, e.actor, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.History(ctx, e.actor, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SearchPatients(ctx, e.actor, "dube", 50); err != nil {
		t.Fatal(err)
	}
	if got, want := count(t, e, "audit"), before+3; got != want {
		t.Fatalf("audit events = %d, want %d", got, want)
	}
	var detail string
	if err := e.v.R.QueryRow("SELECT detail FROM audit WHERE action = 'patient.search'").Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(detail), "dube") {
		t.Errorf("search audit holds the query text: %q", detail)
	}
	// Fail closed: with the audit table refusing inserts, reads are refused.
	if _, err := e.v.W.Exec("CREATE TEMP TRIGGER fail_audit BEFORE INSERT ON main.audit BEGIN SELECT RAISE(ABORT, 'audit broken'); END"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Patient(ctx, e.actor, rec.ID); err == nil {
		t.Fatal("read succeeded without its audit event")
	}
}
