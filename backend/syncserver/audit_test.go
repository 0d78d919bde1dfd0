package syncserver_test

import (
	"bytes"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/backend/auditchain"
	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

// trail is a device's audit trail as backend/audit writes it: export
// lines chained by hash, checkpoints signed by the device key. Made-up
// users and actions; no patient.
type trail struct {
	d      *device
	id     string // the audit device id
	lines  [][]byte
	hashes []string // hashes[i] is event i+1's
	at     time.Time
}

func newTrail(d *device) *trail {
	return &trail{d: d, id: "0190a1b2-c3d4-7e5f-8a9b-" + d.id[:12], at: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
}

// add writes n more events.
func (tr *trail) add(n int) {
	for range n {
		prev := auditchain.Genesis
		if len(tr.hashes) > 0 {
			prev = tr.hashes[len(tr.hashes)-1]
		}
		tr.at = tr.at.Add(1500 * time.Millisecond)
		r := auditchain.Record{Seq: int64(len(tr.lines) + 1), At: tr.at.Format(time.RFC3339Nano), Username: "nurse.test",
			Roles: []string{"nurse"}, Action: "patient.read", Outcome: "success", PatientID: "0190a1c0-0000-7000-8000-000000000001",
			Device: tr.id, Workstation: "WS-1", PrevHash: prev}
		r.Hash = r.ComputeHash()
		tr.lines = append(tr.lines, r.AppendJSON(nil, r.Hash))
		tr.hashes = append(tr.hashes, r.Hash)
	}
}

// checkpoint signs a checkpoint of event seq.
func (tr *trail) checkpoint(seq int64) *syncproto.AuditCheckpoint {
	at := tr.at.Add(time.Minute).Format(time.RFC3339Nano)
	sig := ed25519.Sign(tr.d.priv, auditchain.CheckpointMessage(tr.id, seq, tr.hashes[seq-1], at))
	return &syncproto.AuditCheckpoint{Seq: seq, Hash: tr.hashes[seq-1], At: at, Signature: sig}
}

// shipment holds events from to through (1-based), with a checkpoint of
// through.
func (tr *trail) shipment(from, through int64) syncproto.AuditShipment {
	sh := syncproto.AuditShipment{Device: tr.id, Checkpoint: tr.checkpoint(through)}
	for s := from; s <= through; s++ {
		sh.Events = append(sh.Events, json.RawMessage(tr.lines[s-1]))
	}
	return sh
}

// newShipper is a server and an enrolled device of clinic hill with a
// trail of n events.
func newShipper(t *testing.T, n int, tune func(*syncserver.Config)) (*harness, *device, *trail) {
	t.Helper()
	h := newHarness(t, tune)
	d := h.newDevice()
	h.enroll(d, "hill")
	tr := newTrail(d)
	tr.add(n)
	return h, d, tr
}

func (h *harness) ship(d *device, sh syncproto.AuditShipment) (syncproto.AuditResponse, error) {
	h.t.Helper()
	var resp syncproto.AuditResponse
	err := h.call(d, http.MethodPost, syncproto.PathAudit, sh, &resp)
	return resp, err
}

func (h *harness) auditState(d *device) syncproto.AuditState {
	h.t.Helper()
	var st syncproto.AuditState
	if err := h.call(d, http.MethodGet, syncproto.PathAuditState, nil, &st); err != nil {
		h.t.Fatalf("audit state: %v", err)
	}
	return st
}

func (h *harness) alerts() []syncserver.Alert {
	h.t.Helper()
	list, err := h.store.Alerts(ctx, 100)
	if err != nil {
		h.t.Fatal(err)
	}
	return list
}

// A device ships its trail in two shipments and sends one again; each
// answer is a receipt signed by the server's key, and the server's copy
// verifies.
func TestAuditShipping(t *testing.T) {
	h, d, tr := newShipper(t, 5, nil)
	st := h.auditState(d)
	if st.Seq != 0 || st.Hash != "" || st.Device != d.id || len(st.ReceiptKey) != 32 {
		t.Fatalf("state of a new device: %+v", st)
	}
	steps := []struct {
		name          string
		from, through int64
		stored, dup   int
	}{
		{"first", 1, 3, 3, 0},
		{"continued", 4, 5, 2, 0},
		{"sent again", 3, 5, 0, 3},
		{"checkpoint alone", 6, 5, 0, 0},
	}
	for _, s := range steps {
		h.clock.Add(time.Minute)
		resp, err := h.ship(d, tr.shipment(s.from, s.through))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		r := resp.Receipt
		if resp.Stored != s.stored || resp.Duplicate != s.dup {
			t.Errorf("%s: stored %d duplicate %d, want %d %d", s.name, resp.Stored, resp.Duplicate, s.stored, s.dup)
		}
		if !r.Verify(st.ReceiptKey) || r.Seq != s.through || r.Hash != tr.hashes[s.through-1] || r.Device != d.id || r.Clinic != "hill" ||
			!r.ReceivedAt.Equal(h.clock.Now()) {
			t.Errorf("%s: receipt %+v does not hold", s.name, r)
		}
		r.Seq++
		if r.Verify(st.ReceiptKey) {
			t.Errorf("%s: a changed receipt verifies", s.name)
		}
	}
	if st := h.auditState(d); st.Seq != 5 || st.Hash != tr.hashes[4] {
		t.Fatalf("state after shipping: %+v", st)
	}
	rep, err := syncserver.VerifyAudit(ctx, h.store, d.id)
	if err != nil || rep.Break != nil || rep.Events != 5 || rep.LastSeq != 5 || rep.Checkpoints != 2 || rep.Latest.Seq != 5 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	// Batches without a checkpoint, as a client sends a long trail.
	tr.add(3)
	sh := tr.shipment(5, 8) // opening with an event held: a retry that overlaps
	sh.Checkpoint = nil
	resp, err := h.ship(d, sh)
	if err != nil || resp.Receipt.Seq != 8 || !resp.Receipt.Verify(st.ReceiptKey) || resp.Stored != 3 || resp.Duplicate != 1 {
		t.Fatalf("batch without checkpoint: %+v %v", resp, err)
	}
	if len(h.alerts()) != 0 {
		t.Fatalf("alerts: %+v", h.alerts())
	}
}

// A shipment that breaks the chain is refused with audit_refused, stores
// nothing and raises an alert naming the event by number.
func TestAuditShipmentRefused(t *testing.T) {
	h, d, tr := newShipper(t, 6, nil)
	if _, err := h.ship(d, tr.shipment(1, 2)); err != nil {
		t.Fatal(err)
	}
	tampered := func(seq int64) []byte {
		return bytes.Replace(tr.lines[seq-1], []byte(`"action":"patient.read"`), []byte(`"action":"patient.list"`), 1)
	}
	cases := []struct {
		name    string
		ship    func() syncproto.AuditShipment
		wantSeq int64
	}{
		{"changed event", func() syncproto.AuditShipment {
			sh := tr.shipment(3, 5)
			sh.Events[1] = tampered(4)
			return sh
		}, 4},
		{"missing event", func() syncproto.AuditShipment {
			sh := tr.shipment(3, 5)
			sh.Events = append(sh.Events[:1], sh.Events[2])
			return sh
		}, 4},
		{"reordered events", func() syncproto.AuditShipment {
			sh := tr.shipment(3, 5)
			sh.Events[0], sh.Events[1] = sh.Events[1], sh.Events[0]
			return sh
		}, 3},
		{"gap after the server's copy", func() syncproto.AuditShipment { return tr.shipment(4, 5) }, 3},
		{"bad checkpoint signature", func() syncproto.AuditShipment {
			sh := tr.shipment(3, 5)
			sh.Checkpoint.Signature[0] ^= 1
			return sh
		}, 5},
		{"checkpoint of another hash", func() syncproto.AuditShipment {
			sh := tr.shipment(3, 5)
			sh.Checkpoint = tr.checkpoint(4)
			sh.Checkpoint.Seq = 5
			return sh
		}, 5},
		{"checkpoint beyond the shipment", func() syncproto.AuditShipment {
			sh := tr.shipment(3, 4)
			sh.Checkpoint = tr.checkpoint(6)
			return sh
		}, 5},
		{"held event sent changed", func() syncproto.AuditShipment {
			sh := tr.shipment(2, 3)
			sh.Events[0] = bytes.Replace(tr.lines[1], []byte(`"WS-1"`), []byte(`"WS-2"`), 1)
			return sh
		}, 2},
		{"not canonical", func() syncproto.AuditShipment {
			sh := tr.shipment(3, 3)
			sh.Events[0] = json.RawMessage(strings.Replace(string(tr.lines[2]), `"nurse.test"`, `"nurse\u002etest"`, 1))
			return sh
		}, 3},
		{"another audit device", func() syncproto.AuditShipment {
			sh := tr.shipment(3, 3)
			sh.Device = "another-device"
			return sh
		}, 3},
	}
	for i, c := range cases {
		h.clock.Add(time.Hour) // the same break is alerted once an hour
		_, err := h.ship(d, c.ship())
		if e, ok := err.(*syncproto.Error); !ok || e.Code != syncproto.CodeAuditRefused {
			t.Fatalf("%s: got %v, want %s", c.name, err, syncproto.CodeAuditRefused)
		}
		list := h.alerts()
		if len(list) != i+1 {
			t.Fatalf("%s: %d alerts, want %d", c.name, len(list), i+1)
		}
		a := list[0]
		want := fmt.Sprintf("event %d", c.wantSeq)
		if a.Kind != syncserver.AlertAuditRefused || a.Device != d.id || a.Clinic != "hill" || a.Source != syncserver.AlertFromServer ||
			!strings.Contains(a.Message, want+":") || !a.At.Equal(h.clock.Now()) {
			t.Errorf("%s: alert %+v, want one naming %s", c.name, a, want)
		}
		if strings.Contains(a.Message, "0190a1c0") || strings.Contains(a.Message, "nurse.test") {
			t.Errorf("%s: the alert names a patient or user: %s", c.name, a.Message)
		}
		if st := h.auditState(d); st.Seq != 2 {
			t.Fatalf("%s: the server's copy moved to %d", c.name, st.Seq)
		}
	}
	// The same broken shipment at every sync raises one alert an hour.
	h.clock.Add(time.Minute)
	_, err := h.ship(d, cases[len(cases)-1].ship())
	wantCode(t, err, syncproto.CodeAuditRefused)
	if n := len(h.alerts()); n != len(cases) {
		t.Errorf("%d alerts after the same break again, want %d", n, len(cases))
	}
	if !strings.Contains(h.logs.String(), "code=audit_refused") {
		t.Error("the refusals are not in the log")
	}
	// The honest shipment still goes through.
	if _, err := h.ship(d, tr.shipment(3, 6)); err != nil {
		t.Fatal(err)
	}
}

// A first shipment after a purge starts at the anchor, which the
// device's signed checkpoint vouches for.
func TestAuditShipmentAnchor(t *testing.T) {
	h, d, tr := newShipper(t, 12, nil)
	anchor := func(seq int64) *syncproto.AuditAnchor {
		return &syncproto.AuditAnchor{Seq: seq, Hash: tr.hashes[seq-1], Checkpoint: *tr.checkpoint(seq)}
	}
	// An anchor whose checkpoint is of another event is refused.
	sh := tr.shipment(11, 12)
	sh.Anchor = anchor(10)
	sh.Anchor.Checkpoint = *tr.checkpoint(9)
	_, err := h.ship(d, sh)
	wantCode(t, err, syncproto.CodeAuditRefused)
	// Without its anchor, a chain that does not start at 1 is refused.
	_, err = h.ship(d, tr.shipment(11, 12))
	wantCode(t, err, syncproto.CodeAuditRefused)
	sh = tr.shipment(11, 12)
	sh.Anchor = anchor(10)
	if _, err := h.ship(d, sh); err != nil {
		t.Fatal(err)
	}
	if st := h.auditState(d); st.Anchor != 10 || st.Seq != 12 {
		t.Fatalf("state %+v", st)
	}
	rep, err := syncserver.VerifyAudit(ctx, h.store, d.id)
	if err != nil || rep.Break != nil || rep.Events != 2 || rep.Checkpoints != 2 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// A device's own alerts arrive as kind and time; the server stores its
// own text for them, once.
func TestAuditDeviceAlerts(t *testing.T) {
	h, d, tr := newShipper(t, 1, nil)
	at := h.clock.Now().Add(-time.Hour)
	sh := tr.shipment(1, 1)
	sh.Alerts = []syncproto.AuditAlert{{Kind: "lockout", At: at}, {Kind: "new-kind", At: at}}
	for range 2 {
		if _, err := h.ship(d, sh); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]string{}
	for _, a := range h.alerts() {
		if a.Source != syncserver.AlertFromDevice || !a.At.Equal(at) || a.Device != d.id {
			t.Errorf("alert %+v", a)
		}
		got[a.Kind] = a.Message
	}
	want := map[string]string{"lockout": syncserver.DeviceAlertMessage("lockout"), "new-kind": "A laptop raised a security alert of kind new-kind."}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("alerts %v, want %v", got, want)
	}
	// A kind is a word, never text.
	sh.Alerts = []syncproto.AuditAlert{{Kind: "Patient Jane Doe", At: at}}
	_, err := h.ship(d, sh)
	wantCode(t, err, syncproto.CodeBadRequest)
}

// A revoked device that tries to sync raises one alert an hour.
func TestRevokedDeviceRaisesAlert(t *testing.T) {
	h, d, _ := newShipper(t, 0, nil)
	if err := h.store.Revoke(ctx, d.id, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, err := h.push(d, nil)
		wantCode(t, err, syncproto.CodeRevoked)
	}
	list := h.alerts()
	if len(list) != 1 || list[0].Kind != syncserver.AlertRevokedDevice || list[0].Device != d.id || list[0].Clinic != "hill" {
		t.Fatalf("alerts %+v", list)
	}
	h.clock.Add(2 * time.Hour)
	_, err := h.push(d, nil)
	wantCode(t, err, syncproto.CodeRevoked)
	if n := len(h.alerts()); n != 2 {
		t.Fatalf("%d alerts after an hour", n)
	}
}

// Each new alert is posted to the webhook, as JSON, without blocking the
// request that raised it.
func TestAlertWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []syncserver.WebhookPayload
	arrived := make(chan struct{}, 10)
	calls := 0
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 { // the first attempt fails: the webhook tries again
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p syncserver.WebhookPayload
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&p) != nil {
			t.Errorf("webhook request %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		got = append(got, p)
		arrived <- struct{}{}
	}))
	defer hook.Close()
	wh, err := syncserver.NewWebhook(hook.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	h, d, tr := newShipper(t, 2, func(c *syncserver.Config) { c.Alerted = wh.Notify })
	sh := tr.shipment(1, 2)
	sh.Events[1] = bytes.Replace(sh.Events[1], []byte("WS-1"), []byte("WS-9"), 1)
	_, err = h.ship(d, sh)
	wantCode(t, err, syncproto.CodeAuditRefused)
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook was not called")
	}
	mu.Lock()
	defer mu.Unlock()
	p := got[0]
	if p.Kind != syncserver.AlertAuditRefused || p.Device != d.id || p.Clinic != "hill" || p.ID == 0 || !strings.Contains(p.Message, "event 2:") || calls != 2 {
		t.Fatalf("payload %+v after %d calls", p, calls)
	}
}

func TestWebhookURL(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://alerts.example.org/hook?token=x", true},
		{"http://127.0.0.1:9000/hook", true},
		{"http://[::1]:9000/hook", true},
		{"http://localhost/hook", true},
		{"http://alerts.example.org/hook", false},
		{"http://10.0.0.5/hook", false},
		{"ftp://alerts.example.org/", false},
		{"https://user:secret@alerts.example.org/", false},
		{"alerts.example.org/hook", false},
		{"", false},
	} {
		_, err := syncserver.CheckWebhookURL(c.url)
		if got := err == nil; got != c.ok {
			t.Errorf("CheckWebhookURL(%q): got ok %v, want %v (%v)", c.url, got, c.ok, err)
		}
	}
}

// The server's database, changed behind its back, no longer verifies:
// VerifyAudit names the first bad event.
func TestAuditVerifyFindsTampering(t *testing.T) {
	h, d, tr := newShipper(t, 6, nil)
	if _, err := h.ship(d, tr.shipment(1, 6)); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"DROP TRIGGER audit_events_immutable_update",
		"UPDATE audit_events SET line = replace(line, 'patient.read', 'patient.list') WHERE seq = 4",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := syncserver.VerifyAudit(ctx, h.store, d.id)
	if err != nil || rep.Break == nil || rep.Break.Seq != 4 || rep.Events != 3 {
		t.Fatalf("verify after tampering: %+v %v", rep, err)
	}
}

// P1, P4: the audit routes answer nothing without a valid signature; a
// GET of the shipment path or a POST of the state path is not found.
func TestAuditRoutesNeedASignature(t *testing.T) {
	h, d, tr := newShipper(t, 1, nil)
	stranger := h.newDevice()
	for _, c := range []struct {
		d       *device
		method  string
		uri     string
		payload any
		want    syncproto.Code
	}{
		{nil, http.MethodPost, syncproto.PathAudit, tr.shipment(1, 1), syncproto.CodeUnauthenticated},
		{nil, http.MethodGet, syncproto.PathAuditState, nil, syncproto.CodeUnauthenticated},
		{stranger, http.MethodPost, syncproto.PathAudit, tr.shipment(1, 1), syncproto.CodeUnauthenticated},
		{stranger, http.MethodGet, syncproto.PathAuditState, nil, syncproto.CodeUnauthenticated},
		{d, http.MethodGet, syncproto.PathAudit, nil, syncproto.CodeNotFound},
		{d, http.MethodPost, syncproto.PathAuditState, nil, syncproto.CodeNotFound},
		{d, http.MethodPost, syncproto.PathAudit, map[string]any{"device": "x", "events": []string{}, "extra": 1}, syncproto.CodeBadRequest},
	} {
		if er := refusal(t, h.plain(c.d, c.method, c.uri, c.payload)); er.Code != c.want {
			t.Errorf("%s %s: %s, want %s", c.method, c.uri, er.Code, c.want)
		}
	}
	if n := len(h.alerts()); n != 0 {
		t.Errorf("%d alerts", n)
	}
}
