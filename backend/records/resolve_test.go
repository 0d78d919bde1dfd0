package records_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// conflicted returns two laptops that both hold a condition with two
// heads: a's edit (note "from a") and b's (note "from b").
func conflicted(t *testing.T) (a, b *env, id string, heads []string) {
	t.Helper()
	a, b = newEnv(t), newEnv(t)
	var toA, toB int64
	pid := registered(t, a)
	c, err := records.Save(ctx, a.s, a.actor, records.Conditions, "", "", ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "Gout"}, Status: "active"}, "")
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b, &toB)
	for note, e := range map[string]*env{"from a": a, "from b": b} {
		if _, err := records.Save(ctx, e.s, e.actor, records.Conditions, c.ID, c.VersionID,
			ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "Gout"}, Status: "active", Note: note}, "edited offline"); err != nil {
			t.Fatal(err)
		}
	}
	exchange(t, a, b, &toB)
	exchange(t, b, a, &toA)
	cs, err := a.s.Conflicts(ctx)
	if err != nil || len(cs) != 1 || len(cs[0].Heads) != 2 {
		t.Fatalf("conflicts on a: %+v %v", cs, err)
	}
	return a, b, c.ID, cs[0].Heads
}

func headsOf(t *testing.T, e *env, id string) []ehr.Version {
	t.Helper()
	ds, err := e.s.ConflictDetails(ctx, e.actor, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.RecordID == id {
			return d.Heads
		}
	}
	return nil
}

func current(t *testing.T, e *env, id string) records.Item[ehr.Condition] {
	t.Helper()
	it, err := records.Get(ctx, e.s, e.actor, records.Conditions, id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// Keeping one head or merging writes one version whose parents are all
// heads; after an exchange both laptops agree, with every version kept.
func TestResolveKeepAndMerge(t *testing.T) {
	for _, tc := range []struct {
		name     string
		merge    bool
		wantNote string
	}{
		{"keep b's", false, "from b"},
		{"merge", true, "merged by hand"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, id, hs := conflicted(t)
			heads := headsOf(t, a, id)
			if len(heads) != 2 {
				t.Fatalf("ConflictDetails heads = %d", len(heads))
			}
			r := records.Resolution{RecordID: id, Heads: hs, Reason: "both nurses agreed"}
			if tc.merge {
				body, err := ehr.ConditionBody(id, ehr.Condition{PatientID: current(t, a, id).Value.PatientID, Code: ehr.Concept{Text: "Gout"}, Status: "active", Note: "merged by hand"})
				if err != nil {
					t.Fatal(err)
				}
				r.Body = body
			} else {
				for _, h := range heads {
					if c, _ := ehr.ParseConditionBody(h.Body); c.Note == "from b" {
						r.Keep = h.VersionID
					}
				}
			}
			before := len(versionIDs(t, a))
			v, err := a.s.Resolve(ctx, a.actor, r)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(slices.Values(v.Parents)); !slices.Equal(got, hs) {
				t.Errorf("parents = %v, want %v", got, hs)
			}
			if got := len(versionIDs(t, a)); got != before+1 {
				t.Errorf("versions = %d, want %d", got, before+1)
			}
			if got := current(t, a, id).Value.Note; got != tc.wantNote {
				t.Errorf("note on a = %q, want %q", got, tc.wantNote)
			}
			var toB int64 = 100
			exchange(t, a, b, &toB)
			for name, e := range map[string]*env{"a": a, "b": b} {
				if n, err := e.s.ClinicalConflicts(ctx); err != nil || n != 0 {
					t.Errorf("%s: conflicts = %d, %v", name, n, err)
				}
				if got := current(t, e, id).Value.Note; got != tc.wantNote {
					t.Errorf("%s: note = %q, want %q", name, got, tc.wantNote)
				}
			}
			if va, vb := versionIDs(t, a), versionIDs(t, b); !slices.Equal(va, vb) {
				t.Errorf("a and b hold different versions: %d vs %d", len(va), len(vb))
			}
		})
	}
}

// A resolution is refused with a clear reason when the heads changed,
// the reason is missing, the kept version is not a head, or the merged
// body is not a valid record of the kind and patient.
func TestResolveRefusals(t *testing.T) {
	a, _, id, hs := conflicted(t)
	pid := current(t, a, id).Value.PatientID
	other := registered(t, a)
	body := func(c ehr.Condition) []byte {
		b, err := ehr.ConditionBody(id, c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name      string
		r         records.Resolution
		wantCode  string
		wantField string
	}{
		{"stale heads", records.Resolution{RecordID: id, Heads: hs[:1], Keep: hs[0], Reason: "keep mine please"}, ehr.EConflict, ""},
		{"no reason", records.Resolution{RecordID: id, Heads: hs, Keep: hs[0]}, ehr.EInvalid, "reason"},
		{"neither keep nor body", records.Resolution{RecordID: id, Heads: hs, Reason: "keep mine please"}, ehr.EInvalid, "keep"},
		{"keep not a head", records.Resolution{RecordID: id, Heads: hs, Keep: id, Reason: "keep mine please"}, ehr.EInvalid, "keep"},
		{"not json", records.Resolution{RecordID: id, Heads: hs, Body: []byte("{"), Reason: "merge please"}, ehr.EInvalid, "body"},
		{"invalid status", records.Resolution{RecordID: id, Heads: hs, Reason: "merge please",
			Body: body(ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "Gout"}, Status: "bogus"})}, ehr.EInvalid, "status"},
		{"other patient", records.Resolution{RecordID: id, Heads: hs, Reason: "merge please",
			Body: body(ehr.Condition{PatientID: other, Code: ehr.Concept{Text: "Gout"}, Status: "active"})}, ehr.EInvalid, "patientId"},
		{"no such record", records.Resolution{RecordID: "nope", Heads: hs, Keep: hs[0], Reason: "keep mine please"}, ehr.ENotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(versionIDs(t, a))
			_, err := a.s.Resolve(ctx, a.actor, tc.r)
			if got := ehr.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("code = %q, want %q (%v)", got, tc.wantCode, err)
			}
			if tc.wantField != "" && ehr.ErrorFields(err)[tc.wantField] == "" {
				t.Errorf("fields = %v, want a message for %s", ehr.ErrorFields(err), tc.wantField)
			}
			if got := len(versionIDs(t, a)); got != before {
				t.Errorf("a refused resolution wrote %d versions", got-before)
			}
		})
	}
	// Resolved once, a second resolution with the same heads is stale.
	if _, err := a.s.Resolve(ctx, a.actor, records.Resolution{RecordID: id, Heads: hs, Keep: hs[0], Reason: "keep the first"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.s.Resolve(ctx, a.actor, records.Resolution{RecordID: id, Heads: hs, Keep: hs[1], Reason: "keep the second"}); ehr.ErrorCode(err) != ehr.EConflict {
		t.Errorf("second resolution: %v", err)
	}
}

// Deleted on one laptop, edited on the other: keeping the edit restores
// the record; keeping the tombstone keeps it deleted.
func TestResolveTombstoneVersusEdit(t *testing.T) {
	for _, tc := range []struct {
		name        string
		keepDeleted bool
	}{{"keep the edit", false}, {"keep the tombstone", true}} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newEnv(t), newEnv(t)
			var toA, toB int64
			pid := registered(t, a)
			c, err := records.Save(ctx, a.s, a.actor, records.Conditions, "", "", ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "Gout"}, Status: "active"}, "")
			if err != nil {
				t.Fatal(err)
			}
			exchange(t, a, b, &toB)
			req, err := a.s.RequestDeletion(ctx, a.actor, c.ID, "entered for the wrong patient")
			if err != nil {
				t.Fatal(err)
			}
			second := records.Actor{UserID: "u2", Username: "dr.banda", Roles: []string{"clinician"}, Session: "s2"}
			if err := a.s.ApproveDeletion(ctx, second, req.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := records.Save(ctx, b.s, b.actor, records.Conditions, c.ID, c.VersionID,
				ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "Gout"}, Status: "resolved"}, "resolved now"); err != nil {
				t.Fatal(err)
			}
			exchange(t, a, b, &toB)
			exchange(t, b, a, &toA)
			heads := headsOf(t, a, c.ID)
			if len(heads) != 2 {
				t.Fatalf("heads = %d", len(heads))
			}
			r := records.Resolution{RecordID: c.ID, Reason: "checked with the patient"}
			for _, h := range heads {
				r.Heads = append(r.Heads, h.VersionID)
				if h.Deleted == tc.keepDeleted {
					r.Keep = h.VersionID
				}
			}
			v, err := a.s.Resolve(ctx, a.actor, r)
			if err != nil {
				t.Fatal(err)
			}
			if v.Deleted != tc.keepDeleted {
				t.Errorf("resolution deleted = %v, want %v", v.Deleted, tc.keepDeleted)
			}
			_, err = records.Get(ctx, a.s, a.actor, records.Conditions, c.ID)
			items, lerr := records.List(ctx, a.s, a.actor, records.Conditions, pid, 10)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if got, want := len(items), map[bool]int{false: 1, true: 0}[tc.keepDeleted]; got != want {
				t.Errorf("chart lists %d conditions, want %d (get: %v)", got, want, err)
			}
		})
	}
}

// A restricted chart's conflicts are listed only to whoever may open the
// chart; resolving one is refused to anyone else.
func TestResolveRestrictedChart(t *testing.T) {
	a, _, id, hs := conflicted(t)
	pid := current(t, a, id).Value.PatientID
	if _, err := a.s.SetRestricted(ctx, a.actor, pid, true, "sensitive diagnosis"); err != nil {
		t.Fatal(err)
	}
	other := records.Actor{UserID: "u9", Username: "dr.other", Roles: []string{"clinician"}, Session: "s9"}
	for _, tc := range []struct {
		name  string
		actor records.Actor
		want  int
	}{{"responsible clinician", a.actor, 1}, {"another clinician", other, 0}} {
		ds, err := a.s.ConflictDetails(ctx, tc.actor, "")
		if err != nil || len(ds) != tc.want {
			t.Errorf("%s: %d conflicts listed, want %d (%v)", tc.name, len(ds), tc.want, err)
		}
	}
	_, err := a.s.Resolve(ctx, other, records.Resolution{RecordID: id, Heads: hs, Keep: hs[0], Reason: "keep the first"})
	if got := ehr.ErrorCode(err); got != ehr.ERestricted {
		t.Errorf("resolve by another clinician: %q (%v)", got, err)
	}
}

// Two laptops change one patient's demographics offline: the conflict is
// listed and resolved like a clinical record, the clinic number never
// changes, and a merge never lifts a restriction.
func TestResolvePatient(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	var toA, toB int64
	pid := registered(t, a)
	exchange(t, a, b, &toB)
	for phone, e := range map[string]*env{"+256 700 000001": a, "+256 700 000002": b} {
		cur, err := e.s.Patient(ctx, e.actor, pid)
		if err != nil {
			t.Fatal(err)
		}
		p := cur.Patient
		p.Phone = phone
		if _, err := e.s.UpdatePatient(ctx, e.actor, pid, cur.VersionID, p, "new phone number"); err != nil {
			t.Fatal(err)
		}
	}
	exchange(t, a, b, &toB)
	exchange(t, b, a, &toA)
	ds, err := a.s.ConflictDetails(ctx, a.actor, pid)
	if err != nil || len(ds) != 1 || ds[0].Kind != ehr.KindPatient || ds[0].PatientID != pid || ds[0].PatientName != "Phiri, Mercy" {
		t.Fatalf("ConflictDetails = %+v, %v", ds, err)
	}
	hs := []string{ds[0].Heads[0].VersionID, ds[0].Heads[1].VersionID}

	merged, err := ehr.ParsePatientBody(ds[0].Heads[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	moved := merged
	moved.ClinicNo = "K7Q-999999"
	body, _ := ehr.PatientBody(pid, moved)
	_, err = a.s.Resolve(ctx, a.actor, records.Resolution{RecordID: pid, Heads: hs, Body: body, Reason: "both numbers checked"})
	if got, want := ehr.ErrorCode(err), ehr.EInvalid; got != want {
		t.Fatalf("moving the clinic number: code %s, want %s", got, want)
	}

	merged.Phone = "+256 700 000003"
	body, _ = ehr.PatientBody(pid, merged)
	if _, err := a.s.Resolve(ctx, a.actor, records.Resolution{RecordID: pid, Heads: hs, Body: body, Reason: "both numbers checked"}); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b, &toB)
	for _, e := range []*env{a, b} {
		cur, err := e.s.Patient(ctx, e.actor, pid)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cur.Patient.Phone, "+256 700 000003"; got != want {
			t.Errorf("phone = %q, want %q", got, want)
		}
		if ds, _ := e.s.ConflictDetails(ctx, e.actor, ""); len(ds) != 0 {
			t.Errorf("conflicts left: %+v", ds)
		}
	}
}

// visitConflict returns two laptops holding one visit with two heads:
// a's findings and plan, and b's; the heads are keyed "a" and "b".
func visitConflict(t *testing.T, sign bool) (a, b *env, id string, heads map[string]string) {
	t.Helper()
	a, b = newEnv(t), newEnv(t)
	var toA, toB int64
	pid := registered(t, a)
	v, err := records.Save(ctx, a.s, a.actor, records.Encounters, "", "", ehr.Encounter{PatientID: pid, Status: "open", Start: stamp(a.clock.t), Complaint: "cough for 3 days"}, "")
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b, &toB)
	heads = map[string]string{}
	for _, x := range []struct {
		name           string
		e              *env
		findings, plan string
	}{{"a", a, "crackles at the right base", "rest"}, {"b", b, "chest clear", "amoxicillin 500 mg, review in 5 days"}} {
		w := v.Value
		w.Findings, w.Plan = x.findings, x.plan
		saved, err := records.Save(ctx, x.e.s, x.e.actor, records.Encounters, v.ID, v.VersionID, w, "edited offline")
		if err != nil {
			t.Fatal(err)
		}
		if sign && x.name == "a" {
			x.e.clock.t = x.e.clock.t.Add(10 * time.Minute)
			if saved, err = records.SignEncounter(ctx, x.e.s, x.e.actor, v.ID, saved.VersionID); err != nil {
				t.Fatal(err)
			}
		}
		heads[x.name] = saved.VersionID
	}
	exchange(t, a, b, &toB)
	exchange(t, b, a, &toA)
	return a, b, v.ID, heads
}

func visitOf(t *testing.T, e *env, id string) ehr.Encounter {
	t.Helper()
	it, err := records.Get(ctx, e.s, e.actor, records.Encounters, id)
	if err != nil {
		t.Fatal(err)
	}
	return it.Value
}

// A visit merged field by field: the findings from one laptop, the plan
// from the other, the rest from the base; both laptops agree after sync.
func TestResolveChooseVisit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		base   string // "a", "b" or "" (the newest)
		choose map[string]string
	}{
		{"findings from a, plan from b, base newest", "", map[string]string{"findings": "a", "plan": "b"}},
		{"base a, plan from b", "a", map[string]string{"plan": "b"}},
		{"base b, findings from a", "b", map[string]string{"findings": "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, id, heads := visitConflict(t, false)
			r := records.Resolution{RecordID: id, Heads: []string{heads["a"], heads["b"]}, Base: heads[tc.base], Choose: map[string]string{}, Reason: "both findings checked"}
			for f, h := range tc.choose {
				r.Choose[f] = heads[h]
			}
			if _, err := a.s.Resolve(ctx, a.actor, r); err != nil {
				t.Fatal(err)
			}
			var toB int64 = 100
			exchange(t, a, b, &toB)
			for name, e := range map[string]*env{"a": a, "b": b} {
				got := visitOf(t, e, id)
				want := [3]string{"cough for 3 days", "crackles at the right base", "amoxicillin 500 mg, review in 5 days"}
				if g := [3]string{got.Complaint, got.Findings, got.Plan}; g != want {
					t.Errorf("%s: complaint, findings, plan = %q, want %q", name, g, want)
				}
				if n, err := e.s.ClinicalConflicts(ctx); err != nil || n != 0 {
					t.Errorf("%s: conflicts = %d, %v", name, n, err)
				}
			}
		})
	}
}

// A merge by choices is checked like any write of the visit: a signed
// head keeps the merge signed (an amendment with the reason), and a
// choice that would reopen it is refused.
func TestResolveChooseGuard(t *testing.T) {
	a, _, id, heads := visitConflict(t, true)
	hs := []string{heads["a"], heads["b"]}
	_, err := a.s.Resolve(ctx, a.actor, records.Resolution{RecordID: id, Heads: hs, Base: heads["a"],
		Choose: map[string]string{"status": heads["b"], "signedBy": heads["b"], "signedAt": heads["b"]}, Reason: "reopen the visit"})
	// Refused as a choice to change, not as versions that changed meanwhile.
	var e *ehr.Error
	if got, want := ehr.ErrorCode(err), ehr.EInvalid; got != want || !errors.As(err, &e) || e.Fields["choose"] == "" {
		t.Fatalf("reopening by a merge: code %q, want %q with a message on choose (%v)", got, want, err)
	}
	if _, err := a.s.Resolve(ctx, a.actor, records.Resolution{RecordID: id, Heads: hs, Base: heads["a"],
		Choose: map[string]string{"plan": heads["b"]}, Reason: "plan from laptop b"}); err != nil {
		t.Fatal(err)
	}
	got := visitOf(t, a, id)
	if got.Status != "signed" || got.Plan != "amoxicillin 500 mg, review in 5 days" || got.Findings != "crackles at the right base" || got.AmendReason != "plan from laptop b" {
		t.Errorf("merged = %+v", got)
	}
}

// Choices naming an unknown field or a version that is not a live head,
// a base that is not a head, or choices with another way: refused with
// the field to fix, nothing written.
func TestResolveChooseRefusals(t *testing.T) {
	a, _, id, heads := visitConflict(t, false)
	hs := []string{heads["a"], heads["b"]}
	for _, tc := range []struct {
		name      string
		r         records.Resolution
		wantField string
	}{
		{"unknown field", records.Resolution{Choose: map[string]string{"bogus": heads["a"]}}, "choose"},
		{"unknown head", records.Resolution{Choose: map[string]string{"plan": "nope"}}, "choose"},
		{"base not a head", records.Resolution{Base: "nope", Choose: map[string]string{"plan": heads["a"]}}, "base"},
		{"base without choices", records.Resolution{Base: heads["a"], Keep: heads["a"]}, "base"},
		{"keep and choose", records.Resolution{Keep: heads["a"], Choose: map[string]string{"plan": heads["a"]}}, "keep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			r.RecordID, r.Heads, r.Reason = id, hs, "merge them please"
			before := len(versionIDs(t, a))
			_, err := a.s.Resolve(ctx, a.actor, r)
			if got := ehr.ErrorCode(err); got != ehr.EInvalid {
				t.Fatalf("code = %q, want %q (%v)", got, ehr.EInvalid, err)
			}
			if ehr.ErrorFields(err)[tc.wantField] == "" {
				t.Errorf("fields = %v, want a message for %s", ehr.ErrorFields(err), tc.wantField)
			}
			if got := len(versionIDs(t, a)); got != before {
				t.Errorf("a refused resolution wrote %d versions", got-before)
			}
		})
	}
}

// A patient's demographics merged field by field: the phone from one
// laptop, the village from the other.
func TestResolveChoosePatient(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	var toA, toB int64
	pid := registered(t, a)
	exchange(t, a, b, &toB)
	heads := map[string]string{}
	for _, x := range []struct {
		name, phone, village string
		e                    *env
	}{{"a", "+256 700 000001", "Kasese", a}, {"b", "+256 700 000002", "Mpondwe", b}} {
		cur, err := x.e.s.Patient(ctx, x.e.actor, pid)
		if err != nil {
			t.Fatal(err)
		}
		p := cur.Patient
		p.Phone, p.Village = x.phone, x.village
		rec, err := x.e.s.UpdatePatient(ctx, x.e.actor, pid, cur.VersionID, p, "moved house")
		if err != nil {
			t.Fatal(err)
		}
		heads[x.name] = rec.VersionID
	}
	exchange(t, a, b, &toB)
	exchange(t, b, a, &toA)
	hs := []string{heads["a"], heads["b"]}
	if _, err := a.s.Resolve(ctx, a.actor, records.Resolution{RecordID: pid, Heads: hs, Choose: map[string]string{"clinicNo": heads["a"], "bogus": heads["b"]},
		Reason: "checked with the patient"}); ehr.ErrorFields(err)["choose"] == "" {
		t.Fatalf("an unknown field: %v", err)
	}
	if _, err := a.s.Resolve(ctx, a.actor, records.Resolution{RecordID: pid, Heads: hs, Base: heads["a"], Choose: map[string]string{"village": heads["b"]},
		Reason: "checked with the patient"}); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b, &toB)
	for name, e := range map[string]*env{"a": a, "b": b} {
		cur, err := e.s.Patient(ctx, e.actor, pid)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := [2]string{cur.Patient.Phone, cur.Patient.Village}, [2]string{"+256 700 000001", "Mpondwe"}; got != want {
			t.Errorf("%s: phone, village = %q, want %q", name, got, want)
		}
		if ds, _ := e.s.ConflictDetails(ctx, e.actor, ""); len(ds) != 0 {
			t.Errorf("%s: conflicts left: %+v", name, ds)
		}
	}
}
