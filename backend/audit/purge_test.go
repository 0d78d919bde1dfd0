package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

var (
	officerA = audit.PurgeActor{UserID: "user-a", Username: "off.ada", Roles: []string{"officer"}, Session: "s-a"}
	officerB = audit.PurgeActor{UserID: "user-b", Username: "admin.ben", Roles: []string{"administrator"}, Session: "s-b"}
)

// acknowledge confirms a copy of the whole chain off the device, as a
// sealed copy read back does, and returns the checkpoint confirmed.
func (tr *trail) acknowledge(t *testing.T) audit.Checkpoint {
	t.Helper()
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	cp, err := audit.AcknowledgeCopy(ctx, tr.v.W, tr.export(t), tr.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func (tr *trail) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := tr.v.R.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func refusedWith(t *testing.T, err error, code, text string) {
	t.Helper()
	if err == nil || ehr.ErrorCode(err) != code || !strings.Contains(ehr.ErrorMessage(err), text) {
		t.Fatalf("got %v (%s), want %s %q", err, ehr.ErrorCode(err), code, text)
	}
}

// S32: events 11 years old and copied off the device are purged once two
// different people act; the chain still verifies, in the vault and as
// an export, and tampering after the purge is still named.
func TestPurgeWithDualControl(t *testing.T) {
	tr := newTrail(t)
	tr.clock.t = time.Date(2015, 3, 2, 9, 0, 0, 0, time.UTC)
	tr.record(t, 20)
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	tr.clock.t = time.Date(2026, 4, 6, 9, 0, 0, 0, time.UTC) // 11 years later
	tr.record(t, 3)

	// Not yet copied off the laptop: nothing may go.
	_, err := tr.log.RequestPurge(ctx, "req-0", officerA, "older than the clinic keeps them", audit.DefaultRetentionYears)
	refusedWith(t, err, ehr.EConflict, "Nothing old enough has been copied off this laptop yet")
	st, err := audit.Purges(ctx, tr.v.R, tr.clock.t, audit.DefaultRetentionYears)
	if err != nil || st.Eligible.Events() != 0 || !strings.Contains(st.Why, "copied off") {
		t.Fatalf("state before the copy: %+v %v", st, err)
	}

	cp := tr.acknowledge(t)
	tr.record(t, 2)
	st, err = audit.Purges(ctx, tr.v.R, tr.clock.t, audit.DefaultRetentionYears)
	if err != nil || st.Eligible.From != 1 || st.Eligible.Through != 20 || st.Eligible.Events() != 20 || st.Why != "" ||
		st.Eligible.Oldest.Year() != 2015 || st.Eligible.Newest.Year() != 2015 {
		t.Fatalf("eligible (copy confirmed through %d): %+v %v", cp.Seq, st, err)
	}

	var detail string
	_, err = tr.log.RequestPurge(ctx, "req-1", officerA, "  ", audit.DefaultRetentionYears)
	if ehr.ErrorFields(err)["reason"] == "" {
		t.Fatalf("no reason: %v", err)
	}
	req, err := tr.log.RequestPurge(ctx, "req-1", officerA, "Ten-year retention reached", audit.DefaultRetentionYears)
	if err != nil || req.From != 1 || req.Through != 20 || req.Events() != 20 {
		t.Fatalf("request: %+v %v", req, err)
	}
	tr.v.R.QueryRow("SELECT detail FROM audit WHERE action = 'audit.purge_request'").Scan(&detail)
	if want := "request req-1: events 1 to 20 (20, written 2015-03-02 to 2015-03-02), retention 10 years; reason: Ten-year retention reached"; detail != want {
		t.Errorf("request audited as %q, want %q", detail, want)
	}
	before := tr.count(t, "SELECT count(*) FROM audit")
	if st, _ = audit.Purges(ctx, tr.v.R, tr.clock.t, audit.DefaultRetentionYears); len(st.Pending) != 1 || st.Pending[0].ID != "req-1" ||
		st.Pending[0].RequestedByID != officerA.UserID || st.Pending[0].Reason != "Ten-year retention reached" || st.Pending[0].Events() != 20 {
		t.Fatalf("pending: %+v", st.Pending)
	}

	// The requester cannot approve; the refusal is audited, nothing goes.
	_, err = tr.log.ApprovePurge(ctx, "req-1", officerA, audit.DefaultRetentionYears)
	refusedWith(t, err, ehr.EForbidden, "second person")
	if n := tr.count(t, "SELECT count(*) FROM audit WHERE action = 'audit.purge_approve' AND outcome = 'denied' AND username = ?", officerA.Username); n != 1 {
		t.Errorf("%d denied approvals audited", n)
	}
	if n := tr.count(t, "SELECT count(*) FROM audit WHERE seq <= 20"); n != 20 {
		t.Fatalf("%d of the old events left after a refused approval", n)
	}
	if _, err := tr.log.ApprovePurge(ctx, "no-such-request", officerB, audit.DefaultRetentionYears); ehr.ErrorCode(err) != ehr.ENotFound {
		t.Errorf("unknown request: %v", err)
	}

	res, err := tr.log.ApprovePurge(ctx, "req-1", officerB, audit.DefaultRetentionYears)
	if err != nil || res.Events() != 20 || res.Through != 20 || res.Anchor.Seq != 20 || len(res.Anchor.Hash) != 64 {
		t.Fatalf("approve: %+v %v", res, err)
	}
	if n := tr.count(t, "SELECT count(*) FROM audit WHERE seq <= 20"); n != 0 {
		t.Fatalf("%d purged events left", n)
	}
	if n := tr.count(t, "SELECT count(*) FROM audit"); n != before+2-20 { // the denial and the approval were audited
		t.Errorf("%d events left, want %d", n, before+2-20)
	}
	tr.v.R.QueryRow("SELECT detail FROM audit WHERE action = 'audit.purge_approve' AND outcome = 'success'").Scan(&detail)
	for _, want := range []string{"request req-1", "events 1 to 20 (20,", "anchor: event 20, hash " + res.Anchor.Hash} {
		if !strings.Contains(detail, want) {
			t.Errorf("approval event %q lacks %q", detail, want)
		}
	}
	if n := tr.count(t, "SELECT count(*) FROM alerts"); n != 0 {
		t.Errorf("a purge raised %d alerts", n)
	}
	if _, err := tr.log.ApprovePurge(ctx, "req-1", officerB, audit.DefaultRetentionYears); ehr.ErrorCode(err) != ehr.ENotFound {
		t.Errorf("approved twice: %v", err)
	}

	// The vault verifies from the anchor; so does an export, and the
	// export still confirms as a copy off the device.
	rep, err := audit.VerifyVault(ctx, tr.v.R)
	head := tr.count(t, "SELECT max(seq) FROM audit")
	if err != nil || rep.Anchor != res.Anchor || rep.Events != head || rep.Count() != head-20 {
		t.Fatalf("verify vault after the purge: %+v %v", rep, err)
	}
	tr.record(t, 2)
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	file := tr.export(t)
	ls := lines(file)
	if !bytes.Contains(ls[0], []byte(`"format":"outpost-audit/2"`)) ||
		string(ls[1]) != fmt.Sprintf(`{"hash":"%s","seq":20,"type":"anchor"}`+"\n", res.Anchor.Hash) ||
		!bytes.Contains(ls[2], []byte(`"seq":21,`)) {
		t.Fatalf("anchored export:\n%s", bytes.Join(ls[:3], nil))
	}
	frep, err := audit.VerifyFile(bytes.NewReader(file), nil)
	if err != nil || frep.Anchor != res.Anchor || frep.Events != head+2 || frep.Count() != head+2-20 {
		t.Fatalf("verify anchored file: %+v %v", frep, err)
	}
	if got, err := audit.AcknowledgeCopy(ctx, tr.v.W, file, tr.clock.t); err != nil || got.Seq != head+2 {
		t.Fatalf("confirm an anchored copy: %+v %v", got, err)
	}

	// The viewer drops the purged events.
	if err := audit.RefreshView(ctx, tr.v.W); err != nil {
		t.Fatal(err)
	}
	if evs, n, err := audit.Query(ctx, tr.v.R, audit.Filter{Limit: 1}); err != nil || int64(n) != head+2-20 || evs[0].Seq != 21 {
		t.Fatalf("viewer after the purge: %d events, %v", n, err)
	}

	// Tampering after the purge is still named, in the vault and the file.
	tr.exec(t, "DROP TRIGGER audit_immutable_update", "UPDATE audit SET detail = 'nothing' WHERE seq = 22")
	if _, err := audit.VerifyVault(ctx, tr.v.R); breakAt(t, err) != 22 {
		t.Errorf("changed event after the purge: %v", err)
	}
	if _, err := audit.VerifyFile(bytes.NewReader(tr.export(t)), nil); breakAt(t, err) != 22 {
		t.Errorf("changed event in the anchored file: %v", err)
	}
}

// S32: the triggers keep the anchor and the events after it as they are:
// raw SQL may not delete an event after the anchor, move the anchor back
// or to an event no acknowledged checkpoint covers, or remove it.
func TestPurgeTriggers(t *testing.T) {
	tr := newTrail(t)
	tr.clock.t = time.Date(2014, 6, 1, 9, 0, 0, 0, time.UTC)
	tr.record(t, 10)
	tr.clock.t = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	tr.acknowledge(t) // through 10
	tr.record(t, 5)
	if _, err := tr.log.Checkpoint(ctx); err != nil { // 15: signed, not acknowledged
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"DELETE FROM audit WHERE seq = 1",
		"DELETE FROM audit",
		"UPDATE audit_anchor SET seq = 15, hash = (SELECT hash FROM audit WHERE seq = 15)",
		"UPDATE audit_anchor SET seq = 5, hash = (SELECT hash FROM audit WHERE seq = 5)", // no checkpoint of event 5
		"UPDATE audit_anchor SET seq = 10, hash = 'x'",
		"INSERT INTO audit_anchor (id, seq, hash) VALUES (2, 1, 'x')",
		"DELETE FROM audit_anchor",
	} {
		if _, err := tr.v.W.Exec(stmt); err == nil {
			t.Errorf("%s: allowed", stmt)
		}
	}
	if _, err := tr.log.RequestPurge(ctx, "r", officerA, "retention reached", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.log.ApprovePurge(ctx, "r", officerB, 10); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"DELETE FROM audit WHERE seq = 11",
		"UPDATE audit_anchor SET seq = 1, hash = 'x'",
	} {
		if _, err := tr.v.W.Exec(stmt); err == nil {
			t.Errorf("after the purge, %s: allowed", stmt)
		}
	}
	// Removing the anchor's checkpoint (triggers dropped, with the key) is
	// noticed: nothing vouches for the anchor any more.
	tr.exec(t, "DROP TRIGGER audit_checkpoints_immutable_delete", "DELETE FROM audit_checkpoints WHERE seq = 10")
	if _, err := audit.VerifyVault(ctx, tr.v.R); breakAt(t, err) != 11 {
		t.Errorf("anchor without its checkpoint: %v", err)
	}
}

// S32: nothing younger than the retention period is ever purged: not
// when asked, not when the retention is raised before the approval, not
// with a retention below the minimum, not after a clock set back; and an
// approval never purges beyond what was asked.
func TestPurgeNeverTakesYoungEvents(t *testing.T) {
	tr := newTrail(t)
	tr.clock.t = time.Date(2016, 1, 10, 9, 0, 0, 0, time.UTC)
	tr.record(t, 5) // 1-5: 2016
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	tr.clock.t = time.Date(2030, 1, 10, 9, 0, 0, 0, time.UTC) // a clock set forward
	tr.record(t, 1)                                           // 6: "2030"
	tr.clock.t = time.Date(2016, 2, 10, 9, 0, 0, 0, time.UTC) // and back
	tr.record(t, 4)                                           // 7-10: 2016
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC) // 9 years on
	tr.clock.t = now
	tr.acknowledge(t)
	tr.record(t, 2)

	_, err := tr.log.RequestPurge(ctx, "r1", officerA, "retention reached", 10)
	refusedWith(t, err, ehr.EConflict, "Nothing is old enough")
	// A retention below the minimum counts as the minimum (7 years):
	// the events of 2016 are old enough, but event 6 ("2030") is not, so
	// the purge stops at the checkpoint before it.
	req, err := tr.log.RequestPurge(ctx, "r1", officerA, "retention reached", 3)
	if err != nil || req.Through != 5 || req.Events() != 5 {
		t.Fatalf("request with 3 years: %+v %v", req, err)
	}
	// Raised to 10 years before the approval: refused, nothing purged.
	_, err = tr.log.ApprovePurge(ctx, "r1", officerB, 10)
	refusedWith(t, err, ehr.EConflict, "Nothing is old enough")
	if n := tr.count(t, "SELECT count(*) FROM audit WHERE seq <= 5"); n != 5 {
		t.Fatalf("%d events left", n)
	}

	// Two more years: events 1-5 and 7-10 are old enough, but event 6
	// still is not ("2030"): the purge still stops before it, at 5.
	tr.clock.t = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	tr.acknowledge(t)
	st, err := audit.Purges(ctx, tr.v.R, tr.clock.t, 10)
	if err != nil || st.Eligible.Through != 5 || len(st.Pending) != 1 {
		t.Fatalf("state: %+v %v", st, err)
	}
	res, err := tr.log.ApprovePurge(ctx, "r1", officerB, 10)
	if err != nil || res.Through != 5 {
		t.Fatalf("approve: %+v %v", res, err)
	}
	if n := tr.count(t, "SELECT count(*) FROM audit WHERE substr(at, 1, 4) = '2030'"); n != 1 {
		t.Fatalf("the event of 2030 was purged")
	}
	if _, err := audit.VerifyVault(ctx, tr.v.R); err != nil {
		t.Fatal(err)
	}
}

// An approval recomputes the cut-off but never goes beyond the event the
// request named, even when more has become old enough since.
func TestPurgeApprovalStopsWhereAsked(t *testing.T) {
	tr := newTrail(t)
	tr.clock.t = time.Date(2012, 5, 1, 9, 0, 0, 0, time.UTC)
	tr.record(t, 4)
	if _, err := tr.log.Checkpoint(ctx); err != nil { // 4
		t.Fatal(err)
	}
	tr.clock.t = time.Date(2016, 5, 1, 9, 0, 0, 0, time.UTC)
	tr.record(t, 4)
	if _, err := tr.log.Checkpoint(ctx); err != nil { // 8
		t.Fatal(err)
	}
	tr.clock.t = time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	tr.acknowledge(t)
	req, err := tr.log.RequestPurge(ctx, "r", officerA, "retention reached", 10)
	if err != nil || req.Through != 4 {
		t.Fatalf("request: %+v %v", req, err)
	}
	tr.clock.t = time.Date(2027, 5, 1, 9, 0, 0, 0, time.UTC) // events 5-8 are old enough now too
	if st, _ := audit.Purges(ctx, tr.v.R, tr.clock.t, 10); st.Eligible.Through != 8 {
		t.Fatalf("eligible now: %+v", st.Eligible)
	}
	res, err := tr.log.ApprovePurge(ctx, "r", officerB, 10)
	if err != nil || res.Through != 4 || res.Events() != 4 {
		t.Fatalf("approve: %+v %v", res, err)
	}
	// A second purge continues from the anchor.
	req, err = tr.log.RequestPurge(ctx, "r2", officerB, "retention reached", 10)
	if err != nil || req.From != 5 || req.Through != 8 {
		t.Fatalf("second request: %+v %v", req, err)
	}
	if _, err := tr.log.ApprovePurge(ctx, "r2", officerA, 10); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyVault(ctx, tr.v.R)
	if err != nil || rep.Anchor.Seq != 8 {
		t.Fatalf("verify after two purges: %+v %v", rep, err)
	}
	if _, err := audit.VerifyFile(bytes.NewReader(tr.export(t)), nil); err != nil {
		t.Fatal(err)
	}
	// Read in several ranges at once, the chain after the anchor verifies
	// the same.
	tr.record(t, 9)
	restore := audit.SetParallel(3, 4)
	defer restore()
	if rep2, err := audit.VerifyVault(ctx, tr.v.R); err != nil || rep2.Anchor.Seq != 8 || rep2.Count() != rep.Count()+9 {
		t.Fatalf("verify in ranges: %+v %v", rep2, err)
	}
	// An event put back before the anchor (with the key) is named.
	tr.exec(t, `INSERT INTO audit (seq, at, username, roles, action, outcome, patient_id, record_id, device, workstation, session, detail, prev_hash, hash)
		SELECT 3, at, username, roles, action, outcome, patient_id, record_id, device, workstation, session, detail, prev_hash, hash FROM audit WHERE seq = 9`)
	if _, err := audit.VerifyVault(ctx, tr.v.R); breakAt(t, err) != 3 {
		t.Errorf("an event before the anchor: %v", err)
	}
}

// A chain that does not verify is never purged.
func TestPurgeRefusesABrokenChain(t *testing.T) {
	tr := newTrail(t)
	tr.clock.t = time.Date(2012, 5, 1, 9, 0, 0, 0, time.UTC)
	tr.record(t, 6)
	tr.clock.t = time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	tr.acknowledge(t)
	tr.record(t, 1)
	if _, err := tr.log.RequestPurge(ctx, "r", officerA, "retention reached", 10); err != nil {
		t.Fatal(err)
	}
	tr.exec(t, "DROP TRIGGER audit_immutable_update", "UPDATE audit SET username = 'x' WHERE seq = 3")
	_, err := tr.log.ApprovePurge(ctx, "r", officerB, 10)
	refusedWith(t, err, ehr.EConflict, "does not verify at event 3")
	if n := tr.count(t, "SELECT count(*) FROM audit WHERE seq <= 6"); n != 6 {
		t.Fatalf("%d events left of 6", n)
	}
}

// Anchored files: the anchor must be vouched for by the first checkpoint,
// and the formats are not mixed.
func TestAnchoredFileRules(t *testing.T) {
	tr := newTrail(t)
	tr.clock.t = time.Date(2012, 5, 1, 9, 0, 0, 0, time.UTC)
	tr.record(t, 6)
	tr.clock.t = time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	tr.acknowledge(t) // 6
	tr.record(t, 3)
	if _, err := tr.log.RequestPurge(ctx, "r", officerA, "retention reached", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.log.ApprovePurge(ctx, "r", officerB, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	file := tr.export(t)
	_, pub, _ := audit.PublicKey(ctx, tr.v.R)
	if _, err := audit.VerifyFile(bytes.NewReader(file), pub); err != nil {
		t.Fatal(err)
	}
	ls := lines(file)
	var cpLines []int
	for i, l := range ls {
		if bytes.Contains(l, []byte(`"type":"checkpoint"`)) {
			cpLines = append(cpLines, i)
		}
	}
	if !bytes.Contains(ls[cpLines[0]], []byte(`"seq":6,`)) {
		t.Fatalf("first checkpoint %s, want the anchor's", ls[cpLines[0]])
	}
	mutate := func(fn func(ls [][]byte) [][]byte) []byte {
		return join(fn(lines(bytes.Clone(file))))
	}
	formatErr := func(name string, b []byte, line int) {
		t.Helper()
		_, err := audit.VerifyFile(bytes.NewReader(b), pub)
		fe, ok := err.(*audit.FormatError)
		if !ok || fe.Line != line {
			t.Errorf("%s: %v, want a format error at line %d", name, err, line)
		}
	}
	// The anchor's hash changed: event 7 no longer follows it.
	if _, err := audit.VerifyFile(bytes.NewReader(mutate(func(ls [][]byte) [][]byte {
		ls[1] = []byte(`{"hash":"` + strings.Repeat("a", 64) + `","seq":6,"type":"anchor"}`)
		return ls
	})), pub); breakAt(t, err) != 7 {
		t.Errorf("changed anchor: %v", err)
	}
	// Without the anchor's checkpoint.
	if _, err := audit.VerifyFile(bytes.NewReader(mutate(func(ls [][]byte) [][]byte {
		return append(ls[:cpLines[0]:cpLines[0]], ls[cpLines[0]+1:]...)
	})), pub); breakAt(t, err) != 7 {
		t.Errorf("no checkpoint of the anchor: %v", err)
	}
	// Format 1 with an anchor; format 2 without one.
	formatErr("format 1 with an anchor", mutate(func(ls [][]byte) [][]byte {
		ls[0] = bytes.Replace(ls[0], []byte("outpost-audit/2"), []byte("outpost-audit/1"), 1)
		return ls
	}), 2)
	formatErr("format 2 without an anchor", mutate(func(ls [][]byte) [][]byte {
		return append(ls[:1:1], ls[2:]...)
	}), 2)
	formatErr("anchor of seq 0", mutate(func(ls [][]byte) [][]byte {
		ls[1] = bytes.Replace(ls[1], []byte(`"seq":6`), []byte(`"seq":0`), 1)
		return ls
	}), 2)
	// The events after the anchor cut at the front: a gap after it.
	if _, err := audit.VerifyFile(bytes.NewReader(mutate(func(ls [][]byte) [][]byte {
		return append(ls[:2:2], ls[3:]...)
	})), pub); breakAt(t, err) != 7 {
		t.Errorf("first event after the anchor cut: %v", err)
	}
}

// docs/audit-format.md's second example (version 2, after a purge)
// verifies with the reference verifier; with its anchor's checkpoint
// left out, the first event after the anchor is named.
func TestFormatDocumentAnchoredExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "audit-format.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```ndjson\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) != 2 {
		t.Fatalf("%d ndjson blocks, want 2", len(blocks))
	}
	example := blocks[1][1]
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	key := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	rep, err := audit.VerifyFile(bytes.NewReader(example), key)
	if err != nil || rep.Anchor.Seq != 2 || rep.Events != 3 || rep.Count() != 1 || rep.Checkpoints != 2 {
		t.Fatalf("anchored example: %+v, %v", rep, err)
	}
	// Its event and last checkpoint are the first example's, as they must be.
	if !bytes.Contains(blocks[0][1], lines(example)[2]) || !bytes.Contains(blocks[0][1], lines(example)[4]) {
		t.Errorf("the anchored example's event 3 or checkpoint differs from the first example's")
	}
	ls := lines(example)
	if _, err := audit.VerifyFile(bytes.NewReader(join(append(ls[:3:3], ls[4]))), key); breakAt(t, err) != 3 {
		t.Errorf("without the anchor's checkpoint: %v", err)
	}
}
