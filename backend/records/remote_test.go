package records_test

import (
	"slices"
	"testing"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// exchange moves every outgoing version of from to to, as a sync through
// the server would (push, then pull), and returns what to applied.
func exchange(t *testing.T, from, to *env, cursor *int64) records.Applied {
	t.Helper()
	out, err := from.s.Outgoing(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	*cursor += int64(len(out))
	res, err := to.s.ApplyRemote(ctx, "dev-x", out, "server", *cursor)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(out))
	for _, v := range out {
		ids = append(ids, v.VersionID)
	}
	if err := from.s.Sent(ctx, ids); err != nil {
		t.Fatal(err)
	}
	return res
}

func versionIDs(t *testing.T, e *env) []string {
	t.Helper()
	rows, err := e.v.R.Query("SELECT version_id FROM versions ORDER BY version_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

// Two laptops edit the same patient offline; after exchanging versions
// both hold every version, both show the conflict, and both show the same
// (newest) version until it is resolved. Applying again changes nothing.
func TestApplyRemoteKeepsBothEdits(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	var toB, toA int64
	rec, err := a.s.RegisterPatient(ctx, a.actor, patient("Phiri", "Mercy", "1990-05-05"))
	if err != nil {
		t.Fatal(err)
	}
	if res := exchange(t, a, b, &toB); res.New != 1 || res.Conflicts != 0 {
		t.Fatalf("first exchange: %+v", res)
	}
	got, err := b.s.Patient(ctx, b.actor, rec.ID)
	if err != nil || got.Patient.Family != "Phiri" {
		t.Fatalf("b reads the patient: %+v %v", got, err)
	}
	// Both edit offline.
	pa := patient("Phiri", "Mercy", "1990-05-05")
	pa.Village = "Lowland"
	if _, err := a.s.UpdatePatient(ctx, a.actor, rec.ID, rec.VersionID, pa, "moved"); err != nil {
		t.Fatal(err)
	}
	b.clock.t = b.clock.t.Add(time.Minute)
	pb := patient("Phiri", "Mercy", "1990-05-05")
	pb.Phone = "+265 99 123 4567"
	if _, err := b.s.UpdatePatient(ctx, b.actor, rec.ID, got.VersionID, pb, "new phone"); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b, &toB)
	exchange(t, b, a, &toA)
	if !slices.Equal(versionIDs(t, a), versionIDs(t, b)) {
		t.Fatal("the laptops hold different versions")
	}
	for name, e := range map[string]*env{"a": a, "b": b} {
		cs, err := e.s.Conflicts(ctx)
		if err != nil || len(cs) != 1 || cs[0].RecordID != rec.ID || len(cs[0].Heads) != 2 || cs[0].Kind != ehr.KindPatient {
			t.Fatalf("%s conflicts: %+v %v", name, cs, err)
		}
	}
	pa2, _ := a.s.Patient(ctx, a.actor, rec.ID)
	pb2, _ := b.s.Patient(ctx, b.actor, rec.ID)
	if pa2.VersionID != pb2.VersionID {
		t.Errorf("the laptops show different versions: %s and %s", pa2.VersionID, pb2.VersionID)
	}
	// Applying the same page again stores nothing.
	all, _ := a.s.Outgoing(ctx, 10)
	if len(all) != 0 {
		t.Fatalf("outbox not emptied: %d", len(all))
	}
	again, err := a.s.ApplyRemote(ctx, "dev-x", nil, "server", toA)
	if err != nil || again.New != 0 {
		t.Fatalf("empty page: %+v %v", again, err)
	}
	if n, _ := a.s.Cursor(ctx, "server"); n != toA {
		t.Errorf("cursor %d, want %d", n, toA)
	}
}

// A pulled version that does not decode is refused with its whole page,
// and the cursor does not move.
func TestApplyRemoteRefusesBadVersions(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	if _, err := a.s.RegisterPatient(ctx, a.actor, patient("Phiri", "Mercy", "1990-05-05")); err != nil {
		t.Fatal(err)
	}
	out, _ := a.s.Outgoing(ctx, 10)
	bad := out[0]
	bad.Body = []byte(`{"resourceType":"Observation"}`)
	if _, err := b.s.ApplyRemote(ctx, "dev-x", []ehr.Version{bad}, "server", 7); ehr.ErrorCode(err) != ehr.EInvalid {
		t.Fatalf("bad body: %v", err)
	}
	if n, _ := b.s.Cursor(ctx, "server"); n != 0 {
		t.Errorf("cursor moved to %d", n)
	}
	if ids := versionIDs(t, b); len(ids) != 0 {
		t.Errorf("stored %d versions", len(ids))
	}
}
