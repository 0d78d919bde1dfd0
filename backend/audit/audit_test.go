package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

var ctx = context.Background()

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// trail is a vault with an open log and a settable clock.
type trail struct {
	v     *vault.Vault
	log   *audit.Log
	clock *clock
	addrs []string // what the injected address reader returns
	reads int      // how often it was called
}

func newTrail(t testing.TB) *trail {
	t.Helper()
	tr := &trail{v: vaulttest.New(t), clock: &clock{t: time.Date(2026, 2, 2, 8, 0, 0, 0, time.UTC)}}
	tr.log = &audit.Log{Device: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", Workstation: "ws-1", Now: tr.clock.Now, OSUser: "ama",
		Addresses: func() []string { tr.reads++; return tr.addrs }}
	if err := tr.log.Open(ctx, tr.v.W); err != nil {
		t.Fatal(err)
	}
	return tr
}

// record appends n events a minute apart.
func (tr *trail) record(t testing.TB, n int) {
	t.Helper()
	actions := []string{"user.login", "patient.read", "condition.read", "patient.update", "user.logout"}
	for i := range n {
		tr.clock.t = tr.clock.t.Add(time.Minute)
		if err := tr.log.Record(ctx, tr.v.W, audit.Event{Username: "u", Roles: []string{"nurse"}, Action: actions[i%len(actions)],
			Outcome: audit.Success, PatientID: fmt.Sprintf("p%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func (tr *trail) exec(t testing.TB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := tr.v.W.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func (tr *trail) export(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := audit.Export(ctx, tr.v.R, tr.clock.t, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func breakAt(t testing.TB, err error) int64 {
	t.Helper()
	var be *audit.BreakError
	if !errors.As(err, &be) {
		t.Fatalf("want a break, got %v", err)
	}
	return be.Seq
}

func lines(b []byte) [][]byte {
	return bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

func join(ls [][]byte) []byte {
	var out []byte
	for _, l := range ls {
		out = append(out, bytes.TrimSuffix(l, []byte("\n"))...)
		out = append(out, '\n')
	}
	return out
}

// An untouched chain verifies in the vault and as an export.
func TestUntouchedChainVerifies(t *testing.T) {
	tr := newTrail(t)
	tr.record(t, 12)
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyVault(ctx, tr.v.R)
	if err != nil || rep.Events != 12 || rep.Checkpoints != 2 || rep.Latest.Seq != 12 || rep.Uncovered() != 0 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
	file := tr.export(t)
	frep, err := audit.VerifyFile(bytes.NewReader(file), nil)
	if err != nil || frep.Events != 12 || frep.Checkpoints != 2 || !bytes.Equal(frep.PublicKey, rep.PublicKey) {
		t.Fatalf("verify file = %+v, %v", frep, err)
	}
	if _, err := audit.VerifyFile(bytes.NewReader(file), rep.PublicKey); err != nil {
		t.Fatalf("verify pinned: %v", err)
	}
	ls := lines(file)
	if len(ls) != 1+12+2 {
		t.Fatalf("%d lines", len(ls))
	}
	var h map[string]any
	if err := json.Unmarshal(ls[0], &h); err != nil || h["format"] != "outpost-audit/1" || h["device"] != tr.log.Device {
		t.Fatalf("header %s: %v", ls[0], err)
	}
	var e audit.Event
	if err := json.Unmarshal(ls[3], &e); err != nil || e.Seq != 3 || audit.Hash(e) != e.Hash || !bytes.Equal(audit.CanonicalJSON(e), bytes.TrimSpace(ls[3])) {
		t.Fatalf("event line %s: %v", ls[3], err)
	}
	// Nothing of the private key is in the export.
	var seed []byte
	tr.v.R.QueryRow("SELECT private_key FROM audit_key").Scan(&seed)
	for _, enc := range []string{base64.StdEncoding.EncodeToString(seed), fmt.Sprintf("%x", seed), base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(seed))} {
		if len(seed) != 32 || bytes.Contains(file, []byte(enc)) {
			t.Fatalf("the export holds the private key")
		}
	}
}

// Acceptance: a row changed through SQL with the key, one deleted, the
// tail cut, two reordered, a checkpoint or the key replaced: both
// verifiers fail and name the first bad event.
func TestTamperedVaultIsNamed(t *testing.T) {
	noGuards := []string{"DROP TRIGGER audit_immutable_update", "DROP TRIGGER audit_immutable_delete"}
	tests := []struct {
		name  string
		stmts []string
		want  int64
	}{
		{"change one row", []string{"UPDATE audit SET action = 'patient.search' WHERE seq = 5"}, 5},
		{"change a new column", []string{"UPDATE audit SET os_user = 'someone' WHERE seq = 7"}, 7},
		{"change the time", []string{"UPDATE audit SET at = '2026-02-02T08:05:00.000Z' WHERE seq = 4"}, 4},
		{"delete one", []string{"DELETE FROM audit WHERE seq = 5"}, 5},
		{"delete the first", []string{"DELETE FROM audit WHERE seq = 1"}, 1},
		{"truncate the tail", []string{"DELETE FROM audit WHERE seq >= 10"}, 10},
		{"reorder two", []string{"UPDATE audit SET seq = -5 WHERE seq = 5", "UPDATE audit SET seq = 5 WHERE seq = 6", "UPDATE audit SET seq = 6 WHERE seq = -5"}, 5},
		{"forge a checkpoint", []string{"DROP TRIGGER audit_checkpoints_immutable_update",
			"UPDATE audit_checkpoints SET at = '2026-02-03T00:00:00Z' WHERE seq = 12"}, 12},
		{"replace the key", []string{"DROP TRIGGER audit_key_immutable_update",
			"UPDATE audit_key SET public_key = zeroblob(32)"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTrail(t)
			tr.record(t, 12)
			if _, err := tr.log.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			tr.exec(t, noGuards...)
			tr.exec(t, tt.stmts...)
			rep, err := audit.VerifyVault(ctx, tr.v.R)
			t.Log(err)
			if got := breakAt(t, err); got != tt.want {
				t.Errorf("vault: break at %d, want %d (%v)", got, tt.want, err)
			}
			// Read in ranges at once, as a long chain is: the same answer.
			for _, from := range []int64{2, 3, 4, 5} {
				restore := audit.SetParallel(from, 4)
				prep, perr := audit.VerifyVault(ctx, tr.v.R)
				restore()
				if got := breakAt(t, perr); got != tt.want || perr.Error() != err.Error() || prep.Events != rep.Events {
					t.Errorf("vault in ranges of %d: %v (%d events), want %v (%d events)", from, perr, prep.Events, err, rep.Events)
				}
			}
			_, err = audit.VerifyFile(bytes.NewReader(tr.export(t)), nil)
			if got := breakAt(t, err); got != tt.want {
				t.Errorf("file: break at %d, want %d (%v)", got, tt.want, err)
			}
		})
	}
}

// Every event changed, deleted or moved in turn, or the tail cut there,
// so that the change falls at every place of the ranges a long chain is
// read in: the parallel verifier names what one pass names.
func TestVaultRangesAgree(t *testing.T) {
	for _, stmt := range []string{"UPDATE audit SET detail = 'x' WHERE seq = ?", "DELETE FROM audit WHERE seq = ?",
		"UPDATE audit SET seq = 100 + seq WHERE seq = ?", "UPDATE audit SET seq = -seq WHERE seq = ?", "DELETE FROM audit WHERE seq >= ?"} {
		for seq := 1; seq <= 11; seq++ {
			tr := newTrail(t)
			tr.record(t, 11)
			if _, err := tr.log.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			tr.exec(t, "DROP TRIGGER audit_immutable_update", "DROP TRIGGER audit_immutable_delete")
			if _, err := tr.v.W.Exec(stmt, seq); err != nil {
				t.Fatal(err)
			}
			rep, err := audit.VerifyVault(ctx, tr.v.R)
			if err == nil {
				t.Fatalf("%s (%d): verified", stmt, seq)
			}
			for _, from := range []int64{1, 2, 3, 4, 6} {
				restore := audit.SetParallel(from, 4)
				prep, perr := audit.VerifyVault(ctx, tr.v.R)
				restore()
				if perr == nil || perr.Error() != err.Error() || prep.Events != rep.Events {
					t.Errorf("%s (%d), ranges of %d: %v (%d events); one pass: %v (%d events)", stmt, seq, from, perr, prep.Events, err, rep.Events)
				}
			}
		}
	}
	tr := newTrail(t)
	tr.record(t, 11)
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	restore := audit.SetParallel(3, 4)
	defer restore()
	if rep, err := audit.VerifyVault(ctx, tr.v.R); err != nil || rep.Events != 11 || rep.Checkpoints != 2 || rep.Latest.Seq != 11 {
		t.Fatalf("untouched, in ranges: %+v %v", rep, err)
	}
}

// The same attacks on an exported file, plus rewriting the chain after
// an event with fresh hashes (possible without the key), which only the
// signed checkpoints catch.
func TestTamperedFileIsNamed(t *testing.T) {
	tr := newTrail(t)
	tr.record(t, 12)
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	file := tr.export(t)
	pub := func() ed25519.PublicKey { _, k, _ := audit.PublicKey(ctx, tr.v.R); return k }()
	edit := func(fn func(ls [][]byte) [][]byte) []byte {
		return join(fn(lines(slices.Clone(file))))
	}
	event := func(line []byte) audit.Event {
		var e audit.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	rehashFrom := func(ls [][]byte, from int) [][]byte {
		prev := event(ls[from-1]).Hash
		if from == 1 {
			prev = audit.Genesis
		}
		for i := from; i <= 12; i++ {
			e := event(ls[i])
			if i == from {
				e.Action = "patient.search"
			}
			e.PrevHash = prev
			e.Hash = audit.Hash(e)
			prev = e.Hash
			ls[i] = audit.CanonicalJSON(e)
		}
		return ls
	}
	otherKey, _, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name string
		file []byte
		want int64 // -1: a format error
	}{
		{"change a line", edit(func(ls [][]byte) [][]byte {
			ls[5] = bytes.Replace(ls[5], []byte(`"p4"`), []byte(`"p9"`), 1)
			return ls
		}), 5},
		{"white space", edit(func(ls [][]byte) [][]byte {
			ls[6] = bytes.Replace(ls[6], []byte(`,"at"`), []byte(`, "at"`), 1)
			return ls
		}), 6},
		{"delete a line", edit(func(ls [][]byte) [][]byte { return slices.Delete(ls, 5, 6) }), 5},
		{"truncate the tail", edit(func(ls [][]byte) [][]byte { return slices.Delete(ls, 10, 13) }), 10},
		{"reorder two", edit(func(ls [][]byte) [][]byte { ls[5], ls[6] = ls[6], ls[5]; return ls }), 5},
		{"rewrite with fresh hashes", edit(func(ls [][]byte) [][]byte { return rehashFrom(ls, 5) }), 12},
		{"rewrite from the first", edit(func(ls [][]byte) [][]byte { return rehashFrom(ls, 1) }), 1},
		{"drop the checkpoints", edit(func(ls [][]byte) [][]byte { return ls[:13] }), 12},
		{"drop the checkpoints and the tail", edit(func(ls [][]byte) [][]byte { return ls[:10] }), 9},
		{"another key", edit(func(ls [][]byte) [][]byte {
			ls[0] = bytes.Replace(ls[0], []byte(base64.StdEncoding.EncodeToString(pub)), []byte(base64.StdEncoding.EncodeToString(otherKey)), 1)
			return ls
		}), 1},
		{"move a checkpoint", edit(func(ls [][]byte) [][]byte {
			ls[14] = bytes.Replace(ls[14], []byte(`"seq":12`), []byte(`"seq":11`), 1)
			return ls
		}), 11},
		{"event after the checkpoints", edit(func(ls [][]byte) [][]byte { return append(ls, ls[12]) }), -1},
		{"not a header", edit(func(ls [][]byte) [][]byte { return ls[1:] }), -1},
		{"empty", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := audit.VerifyFile(bytes.NewReader(tt.file), nil)
			t.Log(err)
			if tt.want < 0 {
				var fe *audit.FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("want a format error, got %v", err)
				}
				return
			}
			if got := breakAt(t, err); got != tt.want {
				t.Errorf("break at %d, want %d (%v)", got, tt.want, err)
			}
		})
	}
	// A verifier told the device's key refuses a file signed by another.
	if _, err := audit.VerifyFile(bytes.NewReader(file), ed25519.PublicKey(otherKey)); err == nil {
		t.Errorf("a pinned key of another device was accepted")
	}
}

// S30: the log sets the OS user and addresses itself, reads the
// addresses at most once a minute, and omits them offline; reason and
// on-behalf-of are kept and covered by the hash.
func TestEventFields(t *testing.T) {
	tr := newTrail(t)
	tr.addrs = []string{"192.168.1.20", "127.0.0.1", "fe80::1"}
	tx, _ := tr.v.W.Begin()
	e, err := tr.log.Append(ctx, tx, audit.Event{Username: "u", Action: "patient.breakglass", Outcome: audit.Success,
		OSUser: "typed-in", Addresses: []string{"6.6.6.6"}, Reason: "unconscious at the door", OnBehalfOf: "guardian: Joe Banda"})
	if err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if e.OSUser != "ama" || !slices.Equal(e.Addresses, []string{"192.168.1.20"}) || e.Reason != "unconscious at the door" || e.OnBehalfOf != "guardian: Joe Banda" {
		t.Fatalf("event %+v", e)
	}
	tr.addrs = []string{"10.0.0.9"}
	tr.clock.t = tr.clock.t.Add(30 * time.Second)
	tr.record(t, 0)
	if err := tr.log.Record(ctx, tr.v.W, audit.Event{Username: "u", Action: "x", Outcome: audit.Success}); err != nil {
		t.Fatal(err)
	}
	tr.addrs = nil // offline
	tr.clock.t = tr.clock.t.Add(31 * time.Second)
	if err := tr.log.Record(ctx, tr.v.W, audit.Event{Username: "u", Action: "y", Outcome: audit.Success}); err != nil {
		t.Fatal(err)
	}
	if tr.reads != 2 {
		t.Errorf("addresses read %d times in 61 seconds, want 2", tr.reads)
	}
	var got []string
	rows, _ := tr.v.R.Query("SELECT os_user || '|' || addresses || '|' || reason || '|' || on_behalf_of FROM audit ORDER BY seq")
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	rows.Close()
	want := []string{"ama|192.168.1.20|unconscious at the door|guardian: Joe Banda", "ama|192.168.1.20||", "ama|||"}
	if !slices.Equal(got, want) {
		t.Fatalf("stored %q, want %q", got, want)
	}
	file := tr.export(t)
	ls := lines(file)
	if !bytes.Contains(ls[1], []byte(`"addresses":["192.168.1.20"]`)) || !bytes.Contains(ls[1], []byte(`"onBehalfOf":"guardian: Joe Banda","osUser":"ama"`)) ||
		bytes.Contains(ls[3], []byte("addresses")) || bytes.Contains(ls[3], []byte("reason")) {
		t.Fatalf("export:\n%s", file)
	}
	if _, err := audit.VerifyFile(bytes.NewReader(file), nil); err != nil {
		t.Fatal(err)
	}
	tr.exec(t, "DROP TRIGGER audit_immutable_update", "UPDATE audit SET reason = 'routine' WHERE seq = 1")
	if got := breakAt(t, func() error { _, err := audit.VerifyVault(ctx, tr.v.R); return err }()); got != 1 {
		t.Errorf("changed reason: break at %d", got)
	}
}

// Checkpoints: one on open and at the first event, then when an event
// comes 24 hours after the latest; Checkpoint covers the newest event
// and repeats nothing; a rolled-back event leaves no checkpoint.
func TestCheckpointsDaily(t *testing.T) {
	tr := newTrail(t)
	count := func() int {
		var n int
		tr.v.R.QueryRow("SELECT count(*) FROM audit_checkpoints").Scan(&n)
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("%d checkpoints of an empty chain", n)
	}
	if c, err := tr.log.Checkpoint(ctx); err != nil || c.Seq != 0 {
		t.Fatalf("checkpoint of an empty chain: %+v %v", c, err)
	}
	tr.record(t, 3) // the first is checkpointed: there was none
	cps, _ := audit.Checkpoints(ctx, tr.v.R)
	if len(cps) != 1 || cps[0].Seq != 1 {
		t.Fatalf("checkpoints %+v", cps)
	}
	tr.clock.t = tr.clock.t.Add(23 * time.Hour)
	tr.record(t, 1) // 23h03m after the first
	if n := count(); n != 1 {
		t.Fatalf("%d checkpoints within a day", n)
	}
	tr.clock.t = tr.clock.t.Add(time.Hour)
	tx, _ := tr.v.W.Begin()
	if _, err := tr.log.Append(ctx, tx, audit.Event{Action: "rolled.back"}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	if n := count(); n != 1 {
		t.Fatalf("a rolled-back event left a checkpoint")
	}
	tr.record(t, 2) // a day after the first: event 5 is checkpointed
	cps, _ = audit.Checkpoints(ctx, tr.v.R)
	if len(cps) != 2 || cps[1].Seq != 5 || !cps[1].At.Equal(tr.clock.t.Add(-time.Minute)) {
		t.Fatalf("checkpoints %+v", cps)
	}
	c, err := tr.log.Checkpoint(ctx)
	if err != nil || c.Seq != 6 {
		t.Fatalf("checkpoint = %+v, %v", c, err)
	}
	if again, err := tr.log.Checkpoint(ctx); err != nil || again.Seq != 6 || count() != 3 {
		t.Fatalf("second checkpoint = %+v, %v (%d stored)", again, err, count())
	}
	_, pub, _ := audit.PublicKey(ctx, tr.v.R)
	if !c.Verify(pub) || c.Device != tr.log.Device {
		t.Fatalf("checkpoint does not verify")
	}
	want := fmt.Sprintf("outpost-audit-checkpoint/1\n%s\n6\n%s\n%s", tr.log.Device, c.Hash, c.At.Format(time.RFC3339Nano))
	if string(c.Message()) != want {
		t.Errorf("message %q, want %q", c.Message(), want)
	}
	// Opening again signs nothing new; an event later does, on open.
	if err := tr.log.Open(ctx, tr.v.W); err != nil || count() != 3 {
		t.Fatalf("reopen: %v, %d", err, count())
	}
}

// Triggers keep key and checkpoints as they are, but for acknowledging a
// checkpoint once.
func TestKeyAndCheckpointsImmutable(t *testing.T) {
	tr := newTrail(t)
	tr.record(t, 2)
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"UPDATE audit SET detail = 'x' WHERE seq = 1",
		"DELETE FROM audit WHERE seq = 2",
		"UPDATE audit_checkpoints SET hash = 'x' WHERE seq = 2",
		"UPDATE audit_checkpoints SET acknowledged_at = '2026-01-01T00:00:00Z', hash = 'x' WHERE seq = 2",
		"DELETE FROM audit_checkpoints WHERE seq = 1",
		"UPDATE audit_key SET device = 'other'",
		"DELETE FROM audit_key",
		"INSERT INTO audit_key (id, device, public_key, private_key, created_at) VALUES (2, 'd', x'00', x'00', '')",
		"INSERT INTO audit_checkpoints (seq, hash, at, signature) VALUES (9, 'x', '', x'00')",
	} {
		if _, err := tr.v.W.Exec(stmt); err == nil {
			t.Errorf("%s: allowed", stmt)
		}
	}
	ackAt := tr.clock.t.Add(time.Hour)
	tx, _ := tr.v.W.Begin()
	if err := audit.Acknowledge(ctx, tx, 2, ackAt); err != nil {
		t.Fatal(err)
	}
	if err := audit.Acknowledge(ctx, tx, 2, ackAt); err == nil {
		t.Errorf("acknowledged twice")
	}
	tx.Commit()
	if _, err := tr.v.W.Exec("UPDATE audit_checkpoints SET acknowledged_at = '2030-01-01T00:00:00Z' WHERE seq = 2"); err == nil {
		t.Errorf("acknowledgement changed")
	}
	cps, _ := audit.Checkpoints(ctx, tr.v.R)
	if !cps[1].AcknowledgedAt.Equal(ackAt) || !cps[0].AcknowledgedAt.IsZero() {
		t.Errorf("acknowledged: %+v", cps)
	}
	if _, err := audit.VerifyVault(ctx, tr.v.R); err != nil {
		t.Fatalf("verify after acknowledging: %v", err)
	}
}

// Record commits without waiting for the disk but puts the connection's
// level back; a failed event fails the call.
func TestRecordRestoresSynchronous(t *testing.T) {
	tr := newTrail(t)
	tr.record(t, 2)
	level := func() int {
		var n int
		if err := tr.v.W.QueryRow("PRAGMA synchronous").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if level() != 2 {
		t.Fatalf("synchronous = %d after Record, want 2 (FULL)", level())
	}
	tr.exec(t, "CREATE TRIGGER audit_fails BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END")
	if err := tr.log.Record(ctx, tr.v.W, audit.Event{Action: "patient.read"}); err == nil {
		t.Fatalf("Record succeeded without its event")
	}
	if level() != 2 {
		t.Fatalf("synchronous = %d after a failed Record", level())
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := tr.log.Record(cancelled, tr.v.W, audit.Event{Action: "patient.read"}); err == nil {
		t.Fatalf("Record with a cancelled context succeeded")
	}
	if level() != 2 {
		t.Fatalf("synchronous = %d after a cancelled Record", level())
	}
}

func vaultOptions(t testing.TB) vault.Options { return vaulttest.Options(t) }
