package audit

import (
	"context"
	"testing"
	"time"

	"outpost/backend/vault/vaulttest"
)

// Events recorded without waiting for the disk are flushed within
// FlushWithin, and the log then waits for the next one.
func TestRecordFlushes(t *testing.T) {
	ctx := context.Background()
	v := vaulttest.New(t)
	l := &Log{Device: "d", Workstation: "w", Now: time.Now}
	if err := l.Open(ctx, v.W); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := l.Record(ctx, v.W, Event{Action: "patient.read", Outcome: Success}); err != nil {
			t.Fatal(err)
		}
	}
	state := func() (int, bool) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.unflushed, l.flushing
	}
	if n, on := state(); n != 3 || !on {
		t.Fatalf("after three reads: %d unflushed, flushing %v", n, on)
	}
	deadline := time.Now().Add(FlushWithin + 2*time.Second)
	for {
		n, on := state()
		if n == 0 && !on {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not flushed after %s: %d unflushed", FlushWithin+2*time.Second, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A write transaction of its own (Append in the caller's) commits
	// with the vault's FULL sync and needs no flush.
	tx, _ := v.W.Begin()
	if _, err := l.Append(ctx, tx, Event{Action: "patient.update", Outcome: Success}); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if n, on := state(); n != 0 || on {
		t.Fatalf("after a write: %d unflushed, flushing %v", n, on)
	}
}
