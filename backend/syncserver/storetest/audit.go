package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"outpost/backend/auditchain"
	"outpost/backend/syncserver"
)

// auditTests are the contract of syncserver.AuditStore.
var auditTests = []struct {
	name string
	fn   func(t *testing.T, s syncserver.Store)
}{
	{"AuditAppend", testAuditAppend},
	{"AuditMoved", testAuditMoved},
	{"AuditMismatch", testAuditMismatch},
	{"AuditAnchor", testAuditAnchor},
	{"Alerts", testAlerts},
}

// auditEvents makes n chained events after (seq, prev): export lines of
// made-up actions by a made-up user, no patient.
func auditEvents(n int, seq int64, prev string) []syncserver.AuditEvent {
	out := make([]syncserver.AuditEvent, n)
	for i := range out {
		r := auditchain.Record{Seq: seq + int64(i) + 1, At: t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano),
			Username: "user.test", Roles: []string{"nurse"}, Action: "test.action", Outcome: "success", Device: "audit-dev",
			Workstation: "ws-1", PrevHash: prev}
		r.Hash = r.ComputeHash()
		prev = r.Hash
		out[i] = syncserver.AuditEvent{Seq: r.Seq, Hash: r.Hash, Line: r.AppendJSON(nil, r.Hash)}
	}
	return out
}

func auditCheckpoint(e syncserver.AuditEvent) syncserver.AuditCheckpoint {
	return syncserver.AuditCheckpoint{Seq: e.Seq, Hash: e.Hash, At: t0.Format(time.RFC3339Nano), Signature: []byte(e.Hash)} // 64 bytes
}

func mustAppend(t *testing.T, s syncserver.Store, a syncserver.AuditAppend) {
	t.Helper()
	if err := s.AppendAudit(ctx, a); err != nil {
		t.Fatal(err)
	}
}

func checkHead(t *testing.T, s syncserver.Store, device string, wantSeq, wantEvents int64, wantHash string) syncserver.AuditHead {
	t.Helper()
	h, err := s.AuditHead(ctx, device)
	if err != nil {
		t.Fatal(err)
	}
	if h.Seq != wantSeq || h.Events != wantEvents || h.Hash != wantHash {
		t.Fatalf("head: got seq %d, %d events, hash %.8s; want %d, %d, %.8s", h.Seq, h.Events, h.Hash, wantSeq, wantEvents, wantHash)
	}
	return h
}

func testAuditAppend(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	d := mustDevice(t, s, "hill")
	h, err := s.AuditHead(ctx, d.ID)
	if err != nil || !h.Empty() || h.Device != d.ID {
		t.Fatalf("empty head: %+v %v", h, err)
	}
	evs := auditEvents(5, 0, auditchain.Genesis)
	mustAppend(t, s, syncserver.AuditAppend{Device: d.ID, Clinic: "hill", AuditDevice: "audit-dev", After: 0, AfterHash: auditchain.Genesis,
		Start: &syncserver.AuditStart{Seq: 0, Hash: auditchain.Genesis}, Events: evs[:3], Checkpoints: []syncserver.AuditCheckpoint{auditCheckpoint(evs[2])}, At: t0})
	h = checkHead(t, s, d.ID, 3, 3, evs[2].Hash)
	if h.Clinic != "hill" || h.AuditDevice != "audit-dev" || h.AnchorSeq != 0 || h.AnchorHash != auditchain.Genesis || h.Checkpoint.Seq != 3 || !h.Updated.Equal(t0) {
		t.Fatalf("head %+v", h)
	}
	// The next shipment continues it; a checkpoint sent again is kept.
	mustAppend(t, s, syncserver.AuditAppend{Device: d.ID, Clinic: "hill", AuditDevice: "audit-dev", After: 3, AfterHash: evs[2].Hash,
		Events: evs[3:], Checkpoints: []syncserver.AuditCheckpoint{auditCheckpoint(evs[2]), auditCheckpoint(evs[4])}, At: t0.Add(time.Hour)})
	checkHead(t, s, d.ID, 5, 5, evs[4].Hash)
	got, err := s.AuditEvents(ctx, d.ID, 1, 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("events: %d %v", len(got), err)
	}
	for i, e := range got {
		want := evs[i+1]
		if e.Seq != want.Seq || e.Hash != want.Hash || !bytes.Equal(e.Line, want.Line) {
			t.Errorf("event %d: got %d %.8s, want %d %.8s", i, e.Seq, e.Hash, want.Seq, want.Hash)
		}
	}
	if got[0].Received.IsZero() {
		t.Error("no received time")
	}
	cps, err := s.AuditCheckpoints(ctx, d.ID)
	if err != nil || len(cps) != 2 || cps[0].Seq != 3 || cps[1].Seq != 5 || len(cps[1].Signature) != 64 {
		t.Fatalf("checkpoints %+v %v", cps, err)
	}
	// A shipment of a checkpoint alone.
	mustAppend(t, s, syncserver.AuditAppend{Device: d.ID, Clinic: "hill", AuditDevice: "audit-dev", After: 5, AfterHash: evs[4].Hash,
		Checkpoints: []syncserver.AuditCheckpoint{auditCheckpoint(evs[4])}, At: t0.Add(2 * time.Hour)})
	checkHead(t, s, d.ID, 5, 5, evs[4].Hash)
	other := mustDevice(t, s, "hill")
	heads, err := s.AuditHeads(ctx)
	if err != nil || len(heads) != 1 || heads[0].Device != d.ID {
		t.Fatalf("heads %+v %v (the device %s shipped nothing)", heads, err, other.ID)
	}
}

func testAuditMoved(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	d := mustDevice(t, s, "hill")
	evs := auditEvents(4, 0, auditchain.Genesis)
	first := syncserver.AuditAppend{Device: d.ID, Clinic: "hill", AuditDevice: "audit-dev", After: 0, AfterHash: auditchain.Genesis,
		Start: &syncserver.AuditStart{Seq: 0, Hash: auditchain.Genesis}, Events: evs[:2], At: t0}
	mustAppend(t, s, first)
	for name, a := range map[string]syncserver.AuditAppend{
		"a second first shipment": first,
		"from an old head":        {Device: d.ID, Clinic: "hill", AuditDevice: "audit-dev", After: 1, AfterHash: evs[0].Hash, Events: evs[1:], At: t0},
		"another hash":            {Device: d.ID, Clinic: "hill", AuditDevice: "audit-dev", After: 2, AfterHash: evs[0].Hash, Events: evs[2:], At: t0},
		"no start for a new chain": {Device: mustDevice(t, s, "hill").ID, Clinic: "hill", AuditDevice: "audit-dev", After: 0,
			AfterHash: auditchain.Genesis, Events: evs[:1], At: t0},
	} {
		if err := s.AppendAudit(ctx, a); !errors.Is(err, syncserver.ErrAuditMoved) {
			t.Errorf("%s: got %v, want ErrAuditMoved", name, err)
		}
	}
	checkHead(t, s, d.ID, 2, 2, evs[1].Hash)
}

func testAuditMismatch(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	d := mustDevice(t, s, "hill")
	evs := auditEvents(4, 0, auditchain.Genesis)
	cp := auditCheckpoint(evs[1])
	mustAppend(t, s, syncserver.AuditAppend{Device: d.ID, Clinic: "hill", AuditDevice: "audit-dev", After: 0, AfterHash: auditchain.Genesis,
		Start: &syncserver.AuditStart{Seq: 0, Hash: auditchain.Genesis}, Events: evs[:2], Checkpoints: []syncserver.AuditCheckpoint{cp}, At: t0})
	resigned := cp
	resigned.Signature = sealed(64)
	later := cp
	later.At = t0.Add(time.Second).Format(time.RFC3339Nano)
	for name, a := range map[string]syncserver.AuditAppend{
		"checkpoint signed anew": {Device: d.ID, Clinic: "hill", AuditDevice: "audit-dev", After: 2, AfterHash: evs[1].Hash,
			Events: evs[2:], Checkpoints: []syncserver.AuditCheckpoint{resigned}, At: t0},
		"checkpoint of another time": {Device: d.ID, Clinic: "hill", AuditDevice: "audit-dev", After: 2, AfterHash: evs[1].Hash,
			Events: evs[2:], Checkpoints: []syncserver.AuditCheckpoint{later}, At: t0},
		"another audit device": {Device: d.ID, Clinic: "hill", AuditDevice: "audit-other", After: 2, AfterHash: evs[1].Hash, Events: evs[2:], At: t0},
	} {
		if err := s.AppendAudit(ctx, a); !errors.Is(err, syncserver.ErrAuditMismatch) {
			t.Errorf("%s: got %v, want ErrAuditMismatch", name, err)
		}
	}
	checkHead(t, s, d.ID, 2, 2, evs[1].Hash)
	if got, _ := s.AuditEvents(ctx, d.ID, 0, 10); len(got) != 2 {
		t.Fatalf("%d events stored after refusals", len(got))
	}
}

func testAuditAnchor(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	d := mustDevice(t, s, "hill")
	anchor := auditEvents(100, 0, auditchain.Genesis)[99]
	evs := auditEvents(2, 100, anchor.Hash)
	mustAppend(t, s, syncserver.AuditAppend{Device: d.ID, Clinic: "hill", AuditDevice: "audit-dev", After: 100, AfterHash: anchor.Hash,
		Start: &syncserver.AuditStart{Seq: 100, Hash: anchor.Hash}, Events: evs,
		Checkpoints: []syncserver.AuditCheckpoint{auditCheckpoint(anchor), auditCheckpoint(evs[1])}, At: t0})
	h := checkHead(t, s, d.ID, 102, 2, evs[1].Hash)
	if h.AnchorSeq != 100 || h.AnchorHash != anchor.Hash {
		t.Fatalf("anchor %d %.8s", h.AnchorSeq, h.AnchorHash)
	}
	if got, _ := s.AuditEvents(ctx, d.ID, 0, 10); len(got) != 2 || got[0].Seq != 101 {
		t.Fatalf("events %+v", got)
	}
}

func testAlerts(t *testing.T, s syncserver.Store) {
	if got, err := s.Alerts(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("alerts of a new store: %v %v", got, err)
	}
	raise := func(kind, device string, at time.Time) (syncserver.Alert, bool) {
		t.Helper()
		a, isNew, err := s.RaiseAlert(ctx, syncserver.Alert{Kind: kind, Source: syncserver.AlertFromServer, Clinic: "hill", Device: device, At: at,
			Message: fmt.Sprintf("fixed text of %s", kind)})
		if err != nil {
			t.Fatal(err)
		}
		return a, isNew
	}
	a1, new1 := raise("audit-chain-broken", "dev-a", t0)
	a2, new2 := raise("revoked-device", "dev-b", t0.Add(time.Minute))
	again, newAgain := raise("audit-chain-broken", "dev-a", t0)
	if !new1 || !new2 || newAgain || again.ID != a1.ID || a1.ID == a2.ID || a1.ID == 0 {
		t.Fatalf("raised %v %v %v, ids %d %d %d", new1, new2, newAgain, a1.ID, a2.ID, again.ID)
	}
	list, err := s.Alerts(ctx, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("alerts: %d %v", len(list), err)
	}
	want := []struct {
		id     int64
		kind   string
		device string
		at     time.Time
	}{{a2.ID, "revoked-device", "dev-b", t0.Add(time.Minute)}, {a1.ID, "audit-chain-broken", "dev-a", t0}}
	for i, w := range want {
		g := list[i]
		if g.ID != w.id || g.Kind != w.kind || g.Device != w.device || !g.At.Equal(w.at) || g.Clinic != "hill" ||
			g.Source != syncserver.AlertFromServer || g.Message != "fixed text of "+w.kind || !g.Acknowledged.IsZero() {
			t.Errorf("alert %d: got %+v, want %+v", i, g, w)
		}
	}
	if got, _ := s.Alerts(ctx, 1); len(got) != 1 || got[0].ID != a2.ID {
		t.Errorf("limit 1: %+v", got)
	}
	if err := s.AcknowledgeAlert(ctx, a1.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.AcknowledgeAlert(ctx, a1.ID, t0.Add(2*time.Hour)); !errors.Is(err, syncserver.ErrNotFound) {
		t.Errorf("acknowledged twice: %v", err)
	}
	if err := s.AcknowledgeAlert(ctx, 999999, t0); !errors.Is(err, syncserver.ErrNotFound) {
		t.Errorf("acknowledged an unknown alert: %v", err)
	}
	list, _ = s.Alerts(ctx, 10)
	if !list[1].Acknowledged.Equal(t0.Add(time.Hour)) || !list[0].Acknowledged.IsZero() {
		t.Errorf("acknowledged: %v %v", list[1].Acknowledged, list[0].Acknowledged)
	}
}
