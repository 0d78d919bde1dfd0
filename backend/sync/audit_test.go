package sync_test

import (
	"bytes"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/seal"
	"outpost/backend/sync"
	"outpost/backend/sync/synctest"
	"outpost/backend/syncproto"
)

// auditLaptop is an enrolled laptop whose audit checkpoints are signed
// on an injected clock (requests are signed on the real clock, which the
// server checks).
type auditLaptop struct {
	*laptop
	log   *audit.Log
	clock atomic.Int64 // Unix nanoseconds
}

func newAuditLaptop(t *testing.T, srv *server, name string) *auditLaptop {
	t.Helper()
	key, _ := seal.NewKey(nil)
	l := &auditLaptop{laptop: newLaptop(t, srv, key, name)}
	l.set(time.Now())
	l.log = &audit.Log{Device: "dev-" + name, Workstation: name, Now: l.now}
	if err := l.log.Open(ctx, l.v.W); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *auditLaptop) now() time.Time  { return time.Unix(0, l.clock.Load()).UTC() }
func (l *auditLaptop) set(t time.Time) { l.clock.Store(t.UnixNano()) }

func (l *auditLaptop) ship(t *testing.T, alerts ...audit.Alert) sync.ShipResult {
	t.Helper()
	res, err := l.c.ShipAudit(ctx, l.v.W, l.log, alerts...)
	if err != nil {
		t.Fatalf("ship audit: %v", err)
	}
	return res
}

func (l *auditLaptop) head(t *testing.T) int64 {
	t.Helper()
	var seq int64
	if err := l.v.R.QueryRow("SELECT max(seq) FROM audit").Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// webhookSink is an HTTP server on loopback that records the alerts
// posted to it.
type webhookSink struct {
	*httptest.Server
	mu  gosync.Mutex
	got []map[string]any
}

func newWebhookSink(t *testing.T) *webhookSink {
	w := &webhookSink{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var p map[string]any
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			rw.WriteHeader(http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.got = append(w.got, p)
		w.mu.Unlock()
	}))
	t.Cleanup(w.Close)
	return w
}

// wait returns the first posted alert of kind, waiting up to 10 s.
func (w *webhookSink) wait(t *testing.T, kind string) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.mu.Lock()
		for _, p := range w.got {
			if p["kind"] == kind {
				w.mu.Unlock()
				return p
			}
		}
		w.mu.Unlock()
	}
	t.Fatalf("no %s alert reached the webhook", kind)
	return nil
}

// S31, S33: the laptop ships its audit trail to the real server; the
// signed receipt acknowledges the checkpoint off the device, which ends
// the 7-day overdue state; a second shipment sends only what is new; the
// server's copy verifies with `outpost-server audit verify` and holds no
// patient name.
func TestAuditShippingAcknowledges(t *testing.T) {
	srv := startServer(t)
	l := newAuditLaptop(t, srv, "ada")
	if _, err := l.s.RegisterPatient(ctx, l.actor, patient("Zembalowski", "Lowland")); err != nil {
		t.Fatal(err)
	}
	// Eight days later, nothing has left the laptop: overdue.
	later := time.Now().Add(8 * 24 * time.Hour)
	l.set(later)
	st, err := audit.ShippingState(ctx, l.v.W, later)
	if err != nil || !st.Overdue || st.Acknowledged.Seq != 0 {
		t.Fatalf("before shipping: %+v %v", st, err)
	}
	rec, err := l.s.RegisterPatient(ctx, l.actor, patient("Zembalowski", "Upland"))
	if err != nil {
		t.Fatal(err)
	}
	head := l.head(t)
	res := l.ship(t)
	if res.Sent != int(head) || res.Stored != int(head) || res.Acknowledged.Seq != head || res.Acknowledged.AcknowledgedAt.IsZero() {
		t.Fatalf("first shipment: %+v (head %d)", res, head)
	}
	st, err = audit.ShippingState(ctx, l.v.W, later)
	if err != nil || st.Overdue || st.Acknowledged.Seq != head {
		t.Fatalf("after shipping: %+v %v", st, err)
	}
	// The receipt is signed by the key the server prints, now pinned, and
	// kept in the vault.
	pinned, err := sync.ReceiptKey(ctx, l.v.W)
	if err != nil || !res.Receipt.Verify(pinned) {
		t.Fatalf("receipt does not verify with the pinned key: %v", err)
	}
	if kept, ok, err := sync.LastReceipt(ctx, l.v.W); err != nil || !ok || !kept.Verify(pinned) || kept.Seq != head {
		t.Fatalf("kept receipt %+v %v %v", kept, ok, err)
	}
	if printed := strings.TrimSpace(srv.Run(t, "receipt-key", "--data-dir", srv.Dir)); printed != b64(pinned) {
		t.Fatalf("receipt-key prints %s, the laptop pinned %s", printed, b64(pinned))
	}

	// More work; the next shipment sends only the new events.
	l.set(later.Add(time.Hour))
	if _, err := l.s.Patient(ctx, l.actor, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := l.s.Patient(ctx, l.actor, rec.ID); err != nil {
		t.Fatal(err)
	}
	newHead := l.head(t)
	res = l.ship(t)
	if res.Sent != int(newHead-head) || res.Stored != res.Sent || res.Acknowledged.Seq != newHead {
		t.Fatalf("second shipment: %+v (head %d, before %d)", res, newHead, head)
	}
	// A long trail goes in batches, the checkpoint with the last.
	defer sync.SetShipBatch(2)()
	for range 3 {
		if _, err := l.s.Patient(ctx, l.actor, rec.ID); err != nil {
			t.Fatal(err)
		}
	}
	head, newHead = newHead, l.head(t)
	res = l.ship(t)
	if res.Batches != 2 || res.Sent != int(newHead-head) || res.Acknowledged.Seq != newHead {
		t.Fatalf("shipment in batches: %+v (head %d, before %d)", res, newHead, head)
	}
	// Nothing new: nothing is sent.
	if res := l.ship(t); res.Sent != 0 || res.Batches != 0 {
		t.Fatalf("third shipment: %+v", res)
	}

	out := srv.Run(t, "audit", "verify", "--data-dir", srv.Dir)
	if !strings.Contains(out, l.c.Signer.Device) || !strings.Contains(out, "OK") {
		t.Fatalf("audit verify:\n%s", out)
	}
	// The server holds the trail, which names patients by id only.
	entries, _ := os.ReadDir(srv.Dir)
	for _, e := range entries {
		raw, _ := os.ReadFile(filepath.Join(srv.Dir, e.Name()))
		if bytes.Contains(raw, []byte("Zembalowski")) || bytes.Contains(raw, []byte("Upland")) {
			t.Errorf("%s holds patient data", e.Name())
		}
	}
}

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// A trail changed before it is sent is refused: nothing is stored, the
// server's alert list and its webhook hear of it; the laptop's own
// alerts arrive as kind and time.
func TestAuditTamperedShipmentIsRefused(t *testing.T) {
	hook := newWebhookSink(t)
	srv := synctest.Start(t, serverBin, "--webhook", hook.URL)
	l := newAuditLaptop(t, srv, "ada")
	for _, village := range []string{"Lowland", "Upland", "Riverside"} {
		if _, err := l.s.RegisterPatient(ctx, l.actor, patient("Zembalowski", village)); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := l.log.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := audit.EventLines(ctx, l.v.W, 0, cp.Seq, 1000, 1<<20)
	if err != nil || int64(len(lines)) != cp.Seq {
		t.Fatalf("%d lines, checkpoint %d: %v", len(lines), cp.Seq, err)
	}
	device, _, _ := audit.PublicKey(ctx, l.v.W)
	sh := syncproto.AuditShipment{Device: device, Checkpoint: &syncproto.AuditCheckpoint{Seq: cp.Seq, Hash: cp.Hash,
		At: cp.At.UTC().Format(time.RFC3339Nano), Signature: cp.Signature}}
	for _, line := range lines {
		sh.Events = append(sh.Events, line)
	}
	// Event 2 says it was done on another workstation.
	sh.Events[1] = bytes.Replace(sh.Events[1], []byte(`"workstation":"ada"`), []byte(`"workstation":"eve"`), 1)
	req, err := syncproto.NewRequest(ctx, http.MethodPost, srv.Base, syncproto.PathAudit, sh, l.c.Signer)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := l.c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var pe *syncproto.Error
	if err := syncproto.ReadResponse(resp, 1<<20, nil); !errors.As(err, &pe) || pe.Code != syncproto.CodeAuditRefused {
		t.Fatalf("tampered shipment: %v", err)
	}
	p := hook.wait(t, "audit-chain-broken")
	if p["device"] != l.c.Signer.Device || p["clinic"] != "hill" || !strings.Contains(p["message"].(string), "event 2:") {
		t.Fatalf("webhook payload %v", p)
	}
	out := srv.Run(t, "alerts", "--data-dir", srv.Dir)
	if !strings.Contains(out, "audit-chain-broken") || !strings.Contains(out, l.c.Signer.Device) || strings.Contains(out, "Zembalowski") {
		t.Fatalf("alerts:\n%s", out)
	}
	if st, err := audit.ShippingState(ctx, l.v.W, time.Now()); err != nil || st.Acknowledged.Seq != 0 {
		t.Fatalf("acknowledged after a refusal: %+v %v", st, err)
	}
	// The honest trail still goes through, with the laptop's open alert.
	res := l.ship(t, audit.Alert{Kind: audit.AlertLockout, At: time.Now().Add(-time.Minute), Message: "sign-in locked after 5 failures"})
	if res.Acknowledged.Seq != cp.Seq {
		t.Fatalf("honest shipment: %+v", res)
	}
	if p := hook.wait(t, "lockout"); p["source"] != "device" || strings.Contains(p["message"].(string), "5 failures") {
		t.Fatalf("device alert: %v", p)
	}
}

// `outpost-server audit verify` passes on the shipped trail, and fails,
// naming the event, once the server's database is changed behind its
// back.
func TestAuditVerifyFindsTamperedServer(t *testing.T) {
	srv := startServer(t)
	l := newAuditLaptop(t, srv, "ada")
	for _, village := range []string{"Lowland", "Upland"} {
		if _, err := l.s.RegisterPatient(ctx, l.actor, patient("Zembalowski", village)); err != nil {
			t.Fatal(err)
		}
	}
	l.ship(t)
	srv.Run(t, "audit", "verify", "--data-dir", srv.Dir, "--device", l.c.Signer.Device[:8])
	srv.Kill()
	// The server's file is plain SQLite; the driver linked here (the
	// vault's SQLCipher) opens it without a key.
	db, err := sql.Open("sqlite3", filepath.Join(srv.Dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"DROP TRIGGER audit_events_immutable_update",
		`UPDATE audit_events SET line = replace(line, '"workstation":"ada"', '"workstation":"eve"') WHERE seq = 2`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out, err := exec.Command(srv.Bin, "audit", "verify", "--data-dir", srv.Dir).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "BROKEN: audit chain breaks at event 2: its content does not match its hash") {
		t.Fatalf("audit verify after tampering: %v\n%s", err, out)
	}
}

// A server that signs receipts with another key than the one pinned is
// refused, and the laptop alerts.
func TestAuditReceiptKeyMismatch(t *testing.T) {
	srv := startServer(t)
	l := newAuditLaptop(t, srv, "ada")
	if _, err := l.s.RegisterPatient(ctx, l.actor, patient("Zembalowski", "Lowland")); err != nil {
		t.Fatal(err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if _, err := l.v.W.Exec("INSERT INTO meta (key, value) VALUES ('sync_receipt_key', ?)", b64(other)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.c.ShipAudit(ctx, l.v.W, l.log); !errors.Is(err, sync.ErrReceiptKey) {
		t.Fatalf("ship with another key pinned: %v", err)
	}
	if len(l.alerts) != 1 || l.alerts[0] != "audit-receipt-key" {
		t.Fatalf("alerts %v", l.alerts)
	}
	if st, err := audit.ShippingState(ctx, l.v.W, time.Now()); err != nil || st.Acknowledged.Seq != 0 {
		t.Fatalf("acknowledged: %+v %v", st, err)
	}
}

// A laptop that purged old events after copying them to removable media
// ships for the first time from its anchor, which its signed checkpoint
// vouches for; the server's copy starts there and verifies.
func TestAuditShippingAfterPurge(t *testing.T) {
	srv := startServer(t)
	l := newAuditLaptop(t, srv, "ada")
	l.set(time.Now().AddDate(-12, 0, 0))
	for range 5 {
		tx, err := l.v.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.log.Append(ctx, tx, audit.Event{Username: "nurse.ada", Roles: []string{"nurse"}, Action: "test.read", Outcome: audit.Success}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// Copied off on removable media, then purged by two people.
	if _, err := l.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	var copied bytes.Buffer
	if _, err := audit.Export(ctx, l.v.W, l.now(), &copied); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.AcknowledgeCopy(ctx, l.v.W, copied.Bytes(), l.now()); err != nil {
		t.Fatal(err)
	}
	l.set(time.Now())
	a := audit.PurgeActor{UserID: "u-a", Username: "officer.a", Roles: []string{"officer"}, Session: "s-a"}
	b := audit.PurgeActor{UserID: "u-b", Username: "admin.b", Roles: []string{"administrator"}, Session: "s-b"}
	if _, err := l.log.RequestPurge(ctx, "req-1", a, "retention reached", audit.DefaultRetentionYears); err != nil {
		t.Fatal(err)
	}
	purged, err := l.log.ApprovePurge(ctx, "req-1", b, audit.DefaultRetentionYears)
	if err != nil || purged.Anchor.Seq == 0 {
		t.Fatalf("purge: %+v %v", purged, err)
	}
	res := l.ship(t)
	if head := l.head(t); res.Acknowledged.Seq != head || res.Sent != int(head-purged.Anchor.Seq) {
		t.Fatalf("shipment after the purge: %+v (anchor %d, head %d)", res, purged.Anchor.Seq, head)
	}
	out := srv.Run(t, "audit", "verify", "--data-dir", srv.Dir)
	if !strings.Contains(out, fmt.Sprintf("OK (after purged event %d)", purged.Anchor.Seq)) {
		t.Fatalf("audit verify:\n%s", out)
	}
}
