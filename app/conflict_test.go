package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/ehr"
	"outpost/backend/vault"
)

// twoLaptops is a clinic with a server, its first laptop (signed in as
// the administrator, who is also a clinician) and a joined laptop signed
// in as a local clinician, both holding one patient's condition.
type twoLaptops struct {
	e       *clinicEnv
	a, b    *App
	patient Patient
	cond    ChartItem[ehr.Condition]
}

func newTwoLaptops(t *testing.T) *twoLaptops {
	srv := startServer(t)
	e := newClinic(t)
	if _, err := e.admin.ConnectServer(connectReq(t, srv)); err != nil {
		t.Fatal(err)
	}
	p := e.patient(e.admin)
	cond, err := e.admin.SaveCondition(SaveRequest[ehr.Condition]{Value: gout(p.ID, "")})
	if err != nil {
		t.Fatal(err)
	}
	syncNow(t, e.admin)
	b := joinedLaptop(t, e, e.admin, srv)
	localClinician(t, b, "dr.b")
	return &twoLaptops{e: e, a: e.admin, b: b, patient: p, cond: cond}
}

func gout(patientID, note string) ehr.Condition {
	return ehr.Condition{PatientID: patientID, Code: ehr.Concept{Text: "Gout"}, Status: "active", Note: note}
}

// edit changes the condition on a laptop from the version it holds.
func (l *twoLaptops) edit(t *testing.T, w *App, note string) {
	t.Helper()
	base := l.head(t, w)
	if _, err := w.SaveCondition(SaveRequest[ehr.Condition]{ID: l.cond.ID, BaseVersionID: base, Reason: "edited offline", Value: gout(l.patient.ID, note)}); err != nil {
		t.Fatal(err)
	}
}

func (l *twoLaptops) head(t *testing.T, w *App) string {
	t.Helper()
	var vid string
	if err := w.svc.Vault.R.QueryRow("SELECT version_id FROM chart WHERE record_id = ?", l.cond.ID).Scan(&vid); err != nil {
		t.Fatal(err)
	}
	return vid
}

// both syncs a, b, a: afterwards both hold everything.
func (l *twoLaptops) both(t *testing.T) {
	t.Helper()
	syncNow(t, l.a)
	syncNow(t, l.b)
	syncNow(t, l.a)
}

func (l *twoLaptops) conflicts(t *testing.T, w *App) []ConflictItem {
	t.Helper()
	cs, err := w.ListConflicts("")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func (l *twoLaptops) versions(t *testing.T, w *App) []string {
	t.Helper()
	rows, err := w.svc.Vault.R.Query("SELECT version_id FROM versions WHERE record_id = ? ORDER BY version_id", l.cond.ID)
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

func headIDs(c ConflictItem) []string {
	var out []string
	for _, h := range c.Heads {
		out = append(out, h.VersionID)
	}
	return out
}

// Conflicting edits on two laptops show on both with every head; keeping
// one, then (after another conflict) merging, converges both laptops with
// no conflict and every version kept. A stale resolution is refused.
func TestConflictKeepAndMerge(t *testing.T) {
	l := newTwoLaptops(t)
	l.edit(t, l.a, "from a")
	l.edit(t, l.b, "from b")
	l.both(t)
	for name, w := range map[string]*App{"a": l.a, "b": l.b} {
		cs := l.conflicts(t, w)
		if len(cs) != 1 || len(cs[0].Heads) != 2 || cs[0].RecordID != l.cond.ID || cs[0].Kind != ehr.KindCondition ||
			cs[0].PatientID != l.patient.ID || !strings.Contains(cs[0].PatientName, "Moyo") {
			t.Fatalf("%s: conflicts %+v", name, cs)
		}
		var notes []string
		for _, h := range cs[0].Heads {
			notes = append(notes, h.Fields["note"])
			if h.Body == "" || h.Author == "" || h.At == "" || h.Reason != "edited offline" {
				t.Errorf("%s: head %+v", name, h)
			}
		}
		slices.Sort(notes)
		if !slices.Equal(notes, []string{"from a", "from b"}) {
			t.Errorf("%s: notes %q", name, notes)
		}
		if st := w.syncState(context.Background(), w.svc); st.Conflicts != 1 {
			t.Errorf("%s: SyncState.conflicts = %d", name, st.Conflicts)
		}
		if cs, err := w.ListConflicts(l.patient.ID); err != nil || len(cs) != 1 {
			t.Errorf("%s: one patient's conflicts: %d %v", name, len(cs), err)
		}
	}
	cs := l.conflicts(t, l.a)
	heads := headIDs(cs[0])
	// A resolution with heads that are not the record's is stale.
	if err := l.a.ResolveConflict(ResolveRequest{RecordID: l.cond.ID, Heads: []string{heads[0], l.cond.VersionID}, Keep: heads[0], Reason: "keep the first one"}); code(t, err) != ehr.EConflict {
		t.Errorf("stale heads: %v", err)
	}
	var keepB string
	for _, h := range cs[0].Heads {
		if h.Fields["note"] == "from b" {
			keepB = h.VersionID
		}
	}
	if err := l.a.ResolveConflict(ResolveRequest{RecordID: l.cond.ID, Heads: heads, Keep: keepB, Reason: "b's note is right"}); err != nil {
		t.Fatal(err)
	}
	// b, not yet synced, resolving with the same heads is refused after
	// the merge arrives.
	l.both(t)
	for name, w := range map[string]*App{"a": l.a, "b": l.b} {
		if cs := l.conflicts(t, w); len(cs) != 0 {
			t.Errorf("%s: conflicts after keep: %+v", name, cs)
		}
		if got := noteOf(t, w, l); got != "from b" {
			t.Errorf("%s: note %q after keep", name, got)
		}
	}
	if err := l.b.ResolveConflict(ResolveRequest{RecordID: l.cond.ID, Heads: heads, Keep: heads[0], Reason: "too late now"}); code(t, err) != ehr.EConflict {
		t.Errorf("resolving a resolved conflict: %v", err)
	}

	// Another conflict, merged on b.
	l.edit(t, l.a, "second from a")
	l.edit(t, l.b, "second from b")
	l.both(t)
	cs = l.conflicts(t, l.b)
	if len(cs) != 1 {
		t.Fatalf("second conflict on b: %+v", cs)
	}
	// The domain fields, in the kind's order, each head's as text.
	if got, want := cs[0].Fields, []string{"patientId", "code", "status", "onset", "note"}; !slices.Equal(got, want) {
		t.Errorf("fields = %q, want %q", got, want)
	}
	var fromB string
	for _, h := range cs[0].Heads {
		if h.Values["code"] != "Gout" || h.Values["status"] != "active" || h.Values["onset"] != "" {
			t.Errorf("values %q", h.Values)
		}
		if h.Values["note"] == "second from b" {
			fromB = h.VersionID
		}
	}
	if err := l.b.ResolveConflict(ResolveRequest{RecordID: l.cond.ID, Heads: headIDs(cs[0]), Choose: map[string]string{"note": "v-nope"}, Reason: "b's note"}); code(t, err) != ehr.EInvalid {
		t.Errorf("a choice from no head: %v", err)
	}
	if err := l.b.ResolveConflict(ResolveRequest{RecordID: l.cond.ID, Heads: headIDs(cs[0]), Choose: map[string]string{"note": fromB, "status": fromB}, Reason: "b's note"}); err != nil {
		t.Fatal(err)
	}
	l.both(t)
	va, vb := l.versions(t, l.a), l.versions(t, l.b)
	// create, 2 edits, keep, 2 edits, merge: nothing lost.
	if !slices.Equal(va, vb) || len(va) != 7 {
		t.Errorf("versions: a %d, b %d, equal %v; want 7", len(va), len(vb), slices.Equal(va, vb))
	}
	for name, w := range map[string]*App{"a": l.a, "b": l.b} {
		if cs := l.conflicts(t, w); len(cs) != 0 {
			t.Errorf("%s: conflicts after merge: %+v", name, cs)
		}
		if got := noteOf(t, w, l); got != "second from b" {
			t.Errorf("%s: note %q after merge", name, got)
		}
		if st := syncNow(t, w); st.Conflicts != 0 || st.Pending != 0 {
			t.Errorf("%s: state %+v", name, st)
		}
	}
}

func noteOf(t *testing.T, w *App, l *twoLaptops) string {
	t.Helper()
	var body []byte
	if err := w.svc.Vault.R.QueryRow("SELECT v.body FROM chart c JOIN versions v ON v.version_id = c.version_id WHERE c.record_id = ?", l.cond.ID).Scan(&body); err != nil {
		t.Fatal(err)
	}
	c, err := ehr.ParseConditionBody(body)
	if err != nil {
		t.Fatal(err)
	}
	return c.Note
}

func deletedOn(t *testing.T, w *App, id string) bool {
	t.Helper()
	var d bool
	if err := w.svc.Vault.R.QueryRow("SELECT deleted FROM chart WHERE record_id = ?", id).Scan(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// Deleted on one laptop while edited on the other: the conflict shows the
// tombstone; keeping the edit restores the record on both.
func TestConflictTombstoneVersusEdit(t *testing.T) {
	l := newTwoLaptops(t)
	req, err := l.a.RequestRecordDeletion(RecordAction{ID: l.cond.ID, Reason: "entered for the wrong patient"})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := l.e.user("nurse.n", auth.RoleNurse)
	if err := n.ApproveRecordDeletion(req.ID); err != nil {
		t.Fatal(err)
	}
	l.edit(t, l.b, "still has gout")
	l.both(t)
	cs := l.conflicts(t, l.b)
	if len(cs) != 1 || len(cs[0].Heads) != 2 {
		t.Fatalf("conflicts: %+v", cs)
	}
	var keep string
	deleted := 0
	for _, h := range cs[0].Heads {
		if h.Deleted {
			deleted++
		} else {
			keep = h.VersionID
		}
	}
	if deleted != 1 {
		t.Fatalf("%d deleted heads", deleted)
	}
	if err := l.b.ResolveConflict(ResolveRequest{RecordID: l.cond.ID, Heads: headIDs(cs[0]), Keep: keep, Reason: "the patient does have gout"}); err != nil {
		t.Fatal(err)
	}
	l.both(t)
	for name, w := range map[string]*App{"a": l.a, "b": l.b} {
		if deletedOn(t, w, l.cond.ID) {
			t.Errorf("%s: the record stays deleted", name)
		}
		if cs := l.conflicts(t, w); len(cs) != 0 {
			t.Errorf("%s: conflicts %+v", name, cs)
		}
	}
}

// ResolveConflict and ListConflicts refuse bad input with field messages.
func TestConflictBadInput(t *testing.T) {
	e := newClinic(t)
	for _, tc := range []struct {
		name  string
		req   ResolveRequest
		field string
	}{
		{"no record", ResolveRequest{Heads: []string{"a", "b"}, Keep: "a", Reason: "keep it please"}, "recordId"},
		{"one head", ResolveRequest{RecordID: "rec-1", Heads: []string{"a"}, Keep: "a", Reason: "keep it please"}, "heads"},
		{"neither", ResolveRequest{RecordID: "rec-1", Heads: []string{"a", "b"}, Reason: "keep it please"}, "keep"},
		{"both", ResolveRequest{RecordID: "rec-1", Heads: []string{"a", "b"}, Keep: "a", Body: "{}", Reason: "keep it please"}, "keep"},
		{"keep and choose", ResolveRequest{RecordID: "rec-1", Heads: []string{"a", "b"}, Keep: "a", Choose: map[string]string{"note": "b"}, Reason: "keep it please"}, "keep"},
		{"base alone", ResolveRequest{RecordID: "rec-1", Heads: []string{"a", "b"}, Keep: "a", Base: "b", Reason: "keep it please"}, "base"},
		{"no reason", ResolveRequest{RecordID: "rec-1", Heads: []string{"a", "b"}, Keep: "a"}, "reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.admin.ResolveConflict(tc.req)
			if p := problemOf(t, err); p.Code != ehr.EInvalid || p.Fields[tc.field] == "" {
				t.Errorf("got %+v, want a message for %s", p, tc.field)
			}
		})
	}
	if _, err := e.admin.ListConflicts("../x"); code(t, err) != ehr.ENotFound {
		t.Errorf("ListConflicts with a bad id: %v", err)
	}
	if cs, err := e.admin.ListConflicts(""); err != nil || cs == nil || len(cs) != 0 {
		t.Errorf("no conflicts: %#v %v", cs, err)
	}
}

// A revoked laptop, told so by the server, erases its vault: the erased
// screen, nothing left that opens, the key gone from the keyring.
func TestSyncRevokedLaptopIsErased(t *testing.T) {
	srv := startServer(t)
	e := newClinic(t)
	st, err := e.admin.ConnectServer(connectReq(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	syncNow(t, e.admin)
	meta, err := vault.ReadMeta(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	srv.Run(t, "revoke", "--data-dir", srv.Dir, st.DeviceID)
	syncNow(t, e.admin)
	waitFor(t, "the erased screen", func() bool { return e.admin.Status().Screen == ScreenErased })
	s := e.admin.Status()
	if s.Problem == nil || s.Problem.Code != "E_REVOKED" || !strings.Contains(s.Problem.Message, "erased") || s.User != nil {
		t.Errorf("status %+v %+v", s, s.Problem)
	}
	if _, err := e.admin.SyncStatus(); code(t, err) != ehr.ESession {
		t.Errorf("SyncStatus after erasure: %v", err)
	}
	if _, err := vault.Open(context.Background(), vault.Options{Dir: e.dir, Keyring: e.kr}); !errors.Is(err, vault.ErrNoVault) {
		t.Errorf("the vault still opens or exists: %v", err)
	}
	if _, err := e.kr.Get(vault.Service, meta.VaultID); !errors.Is(err, vault.ErrKeyNotFound) {
		t.Errorf("the key is still in the keyring: %v", err)
	}
	entries, _ := os.ReadDir(e.dir)
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), "outpost.db") || en.Name() == vault.MetaFile || en.Name() == vault.RecoveryFile {
			t.Errorf("%s left in the data folder", filepath.Join(e.dir, en.Name()))
		}
	}
}

// Sessions across laptops (S34): an account made on the first laptop
// arrives on the joined one by sync; signing in there while the same
// person is signed in on the first laptop is alerted, through the
// registry the app sets once the laptop is enrolled.
func TestSyncSessionsAcrossLaptops(t *testing.T) {
	l := newTwoLaptops(t)
	_, pw := l.e.user("nurse.x", auth.RoleNurse)
	syncNow(t, l.a)
	syncNow(t, l.b)
	if st := l.b.Status(); st.NoAccounts {
		t.Error("the joined laptop says it has no account")
	}
	w := New(l.b.cfg)
	Start(context.Background(), w)
	t.Cleanup(func() { Stop(w) })
	if lr, err := w.Login(LoginRequest{Username: "nurse.x", Password: pw, NoticeAccepted: true}); err != nil || lr.Next != "" {
		t.Fatalf("sign-in on the joined laptop: %+v %v", lr, err)
	}
	alerts, err := w.svc.Alerts.List(context.Background(), w.svc.Vault.R, 50)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, al := range alerts {
		if al.Kind == audit.AlertConcurrent && al.Username == "nurse.x" {
			found = true
		}
	}
	if !found {
		t.Errorf("no concurrent-sign-in alert: %+v", alerts)
	}
}
