package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/vault/vaulttest"
)

func TestChainVerifiesAndDetectsTampering(t *testing.T) {
	ctx := context.Background()
	v := vaulttest.New(t)
	at := time.Date(2026, 2, 2, 2, 2, 2, 0, time.UTC)
	log := &audit.Log{Device: "dev", Workstation: "ws", Now: func() time.Time { return at }}
	for i, action := range []string{"user.login", "patient.read", "patient.update", "user.logout"} {
		at = at.Add(time.Minute)
		if err := log.Record(ctx, v.W, audit.Event{Username: "u", Roles: []string{"nurse"}, Action: action, Outcome: audit.Success, RecordID: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := audit.Verify(ctx, v.R)
	if err != nil || n != 4 {
		t.Fatalf("verify = %d, %v", n, err)
	}
	// Someone with the key drops the guards and edits event 2.
	for _, stmt := range []string{
		"DROP TRIGGER audit_immutable_update",
		"UPDATE audit SET action = 'patient.search' WHERE seq = 2",
	} {
		if _, err := v.W.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	_, err = audit.Verify(ctx, v.R)
	var br *audit.BreakError
	if !errors.As(err, &br) || br.Seq != 2 {
		t.Fatalf("verify after edit = %v, want a break at 2", err)
	}
	// Or removes one.
	v2 := vaulttest.New(t)
	for range 3 {
		log.Record(ctx, v2.W, audit.Event{Username: "u", Action: "x", Outcome: audit.Success})
	}
	v2.W.Exec("DROP TRIGGER audit_immutable_delete")
	v2.W.Exec("DELETE FROM audit WHERE seq = 2")
	if _, err := audit.Verify(ctx, v2.R); !errors.As(err, &br) || br.Seq != 2 {
		t.Fatalf("verify after delete = %v, want a break at 2", err)
	}
}
