package audit_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

var fastSeal = audit.SealParams{Memory: 64, Time: 1, Threads: 1}

func openAlerts(t *testing.T, tr *trail, kind string) int {
	t.Helper()
	var n int
	if err := tr.v.R.QueryRow("SELECT count(*) FROM alerts WHERE kind = ? AND acknowledged_by = ''", kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// S31, S33: eight days without an acknowledged checkpoint raise one alarm;
// a sealed copy read back and confirmed clears the state.
func TestShippingAlarmAndSealedCopy(t *testing.T) {
	tr := newTrail(t)
	alerts := &audit.Alerts{Now: tr.clock.Now, IDs: ehr.NewIDs()}
	if s, err := audit.CheckShipping(ctx, tr.v.W, alerts, tr.clock.t); err != nil || s.Overdue {
		t.Fatalf("fresh vault: %+v %v", s, err)
	}
	tr.record(t, 5)
	tr.clock.t = tr.clock.t.Add(6 * 24 * time.Hour)
	if s, _ := audit.CheckShipping(ctx, tr.v.W, alerts, tr.clock.t); s.Overdue || openAlerts(t, tr, audit.AlertUnshipped) != 0 {
		t.Fatalf("6 days: overdue %v", s.Overdue)
	}
	tr.clock.t = tr.clock.t.Add(2 * 24 * time.Hour)
	for range 2 {
		s, err := audit.CheckShipping(ctx, tr.v.W, alerts, tr.clock.t)
		if err != nil || !s.Overdue {
			t.Fatalf("8 days: %+v %v", s, err)
		}
	}
	if got := openAlerts(t, tr, audit.AlertUnshipped); got != 1 {
		t.Fatalf("%d open alarms, want 1", got)
	}

	// Seal a copy, read it back from the "removable media" and confirm it.
	if _, err := tr.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	plain := tr.export(t)
	var media bytes.Buffer
	if err := audit.Seal(plain, "a long sealing passphrase", fastSeal, rand.Reader, &media); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(media.Bytes(), []byte("user.login")) {
		t.Fatal("the sealed copy is readable without the passphrase")
	}
	if _, err := audit.Unseal(bytes.NewReader(media.Bytes()), "the wrong passphrase!", 1<<20); !errors.Is(err, audit.ErrSealed) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	opened, err := audit.Unseal(bytes.NewReader(media.Bytes()), "a long sealing passphrase", 1<<20)
	if err != nil || !bytes.Equal(opened, plain) {
		t.Fatalf("unseal: %v", err)
	}
	cp, err := audit.AcknowledgeCopy(ctx, tr.v.W, opened, tr.clock.t)
	if err != nil || cp.AcknowledgedAt.IsZero() {
		t.Fatalf("acknowledge: %+v %v", cp, err)
	}
	s, err := audit.ShippingState(ctx, tr.v.R, tr.clock.t)
	if err != nil || s.Overdue || s.Acknowledged.Seq != cp.Seq {
		t.Fatalf("after the copy: %+v %v", s, err)
	}
	// The same copy again changes nothing.
	if again, err := audit.AcknowledgeCopy(ctx, tr.v.W, opened, tr.clock.t.Add(time.Hour)); err != nil || !again.AcknowledgedAt.Equal(cp.AcknowledgedAt) {
		t.Fatalf("again: %+v %v", again, err)
	}
	// Eight days later without another copy: overdue again.
	if s, _ := audit.ShippingState(ctx, tr.v.R, tr.clock.t.Add(8*24*time.Hour)); !s.Overdue {
		t.Fatal("the state does not age")
	}
}

// A copy that is not this vault's chain, or is altered, confirms nothing.
func TestAcknowledgeRefusesForeignAndAlteredCopies(t *testing.T) {
	mine, other := newTrail(t), newTrail(t)
	mine.record(t, 3)
	other.record(t, 3)
	for _, tr := range []*trail{mine, other} {
		if _, err := tr.log.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := audit.AcknowledgeCopy(ctx, mine.v.W, other.export(t), mine.clock.t); ehr.ErrorCode(err) != ehr.EInvalid {
		t.Errorf("another vault's copy: %v", err)
	}
	altered := bytes.Replace(mine.export(t), []byte("user.login"), []byte("user.logon"), 1)
	if _, err := audit.AcknowledgeCopy(ctx, mine.v.W, altered, mine.clock.t); ehr.ErrorCode(err) != ehr.EInvalid {
		t.Errorf("altered copy: %v", err)
	}
	if s, _ := audit.ShippingState(ctx, mine.v.R, mine.clock.t); s.Acknowledged.Seq != 0 {
		t.Errorf("something was acknowledged: %+v", s.Acknowledged)
	}
}

func TestSealRefusesBadInput(t *testing.T) {
	var buf bytes.Buffer
	if err := audit.Seal([]byte("x"), "short", fastSeal, rand.Reader, &buf); ehr.ErrorFields(err)["passphrase"] == "" {
		t.Errorf("short passphrase: %v", err)
	}
	if err := audit.Seal([]byte("chain"), "a long sealing passphrase", fastSeal, rand.Reader, &buf); err != nil {
		t.Fatal(err)
	}
	sealed := buf.Bytes()
	flipped := append([]byte(nil), sealed...)
	flipped[len(flipped)-1] ^= 1
	greedy := bytes.Replace(sealed, []byte(`"m":64`), []byte(`"m":4294967295`), 1)
	for name, in := range map[string][]byte{
		"flipped ciphertext": flipped,
		"header changed":     bytes.Replace(sealed, []byte(`"t":1`), []byte(`"t":2`), 1),
		"greedy KDF costs":   greedy,
		"not sealed":         []byte("{\"format\":\"outpost-audit/1\"}\n{}"),
		"empty":              nil,
	} {
		if _, err := audit.Unseal(bytes.NewReader(in), "a long sealing passphrase", 1<<20); !errors.Is(err, audit.ErrSealed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := audit.Unseal(bytes.NewReader(sealed), "a long sealing passphrase", int64(len(sealed)-10)); !errors.Is(err, audit.ErrSealed) {
		t.Errorf("over the size limit: %v", err)
	}
}
