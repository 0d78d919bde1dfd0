package syncproto

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// The receipt's signed message is the documented one, and a change to
// any of its fields breaks the signature.
func TestReceipt(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	r := Receipt{Clinic: "hill", Device: "65b60673d6ed884bf01c2c222d82ada0", Seq: 44, Hash: strings.Repeat("ab", 32),
		ReceivedAt: time.Date(2026, 3, 2, 8, 21, 7, 123000000, time.FixedZone("CAT", 2*3600))}
	want := "outpost-audit-receipt/1\nhill\n65b60673d6ed884bf01c2c222d82ada0\n44\n" + strings.Repeat("ab", 32) + "\n2026-03-02T06:21:07.123Z"
	if got := string(r.Message()); got != want {
		t.Fatalf("message:\n got %q\nwant %q", got, want)
	}
	r.Sign(key)
	if !r.Verify(pub) {
		t.Fatal("a signed receipt does not verify")
	}
	// It survives JSON.
	raw, _ := json.Marshal(r)
	var back Receipt
	if err := json.Unmarshal(raw, &back); err != nil || !back.Verify(pub) {
		t.Fatalf("receipt from JSON: %v", err)
	}
	for name, change := range map[string]func(*Receipt){
		"clinic":   func(r *Receipt) { r.Clinic = "vale" },
		"device":   func(r *Receipt) { r.Device = strings.Repeat("0", 32) },
		"seq":      func(r *Receipt) { r.Seq++ },
		"hash":     func(r *Receipt) { r.Hash = strings.Repeat("cd", 32) },
		"time":     func(r *Receipt) { r.ReceivedAt = r.ReceivedAt.Add(time.Millisecond) },
		"no key":   func(r *Receipt) {},
		"sig size": func(r *Receipt) { r.Signature = r.Signature[:10] },
	} {
		c := r
		change(&c)
		k := pub
		if name == "no key" {
			k = nil
		}
		if c.Verify(k) {
			t.Errorf("%s: a changed receipt verifies", name)
		}
	}
}

func TestAuditShipmentValidate(t *testing.T) {
	hash := strings.Repeat("0a", 32)
	cp := &AuditCheckpoint{Seq: 3, Hash: hash, At: "2026-03-02T08:20:00.25Z", Signature: make([]byte, 64)}
	good := func() AuditShipment {
		return AuditShipment{Device: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", Events: []json.RawMessage{json.RawMessage(`{"action":"x"}`)},
			Checkpoint: cp, Alerts: []AuditAlert{{Kind: "break-glass", At: time.Now()}}}
	}
	cases := []struct {
		name   string
		change func(*AuditShipment)
		ok     bool
	}{
		{"good", func(*AuditShipment) {}, true},
		{"events alone", func(a *AuditShipment) { a.Checkpoint = nil }, true},
		{"checkpoint alone", func(a *AuditShipment) { a.Events = nil }, true},
		{"anchor", func(a *AuditShipment) { a.Anchor = &AuditAnchor{Seq: 3, Hash: hash, Checkpoint: *cp} }, true},
		{"nothing", func(a *AuditShipment) { a.Events, a.Checkpoint = nil, nil }, false},
		{"no device", func(a *AuditShipment) { a.Device = "" }, false},
		{"device with a newline", func(a *AuditShipment) { a.Device = "a\nb" }, false},
		{"too many events", func(a *AuditShipment) { a.Events = make([]json.RawMessage, MaxAuditBatch+1) }, false},
		{"empty event", func(a *AuditShipment) { a.Events = []json.RawMessage{nil} }, false},
		{"long event", func(a *AuditShipment) { a.Events = []json.RawMessage{make([]byte, MaxAuditLine+1)} }, false},
		{"checkpoint seq 0", func(a *AuditShipment) { c := *cp; c.Seq = 0; a.Checkpoint = &c }, false},
		{"checkpoint hash upper case", func(a *AuditShipment) { c := *cp; c.Hash = strings.ToUpper(hash); a.Checkpoint = &c }, false},
		{"checkpoint short signature", func(a *AuditShipment) { c := *cp; c.Signature = c.Signature[:63]; a.Checkpoint = &c }, false},
		{"checkpoint time not UTC", func(a *AuditShipment) { c := *cp; c.At = "2026-03-02T10:20:00.25+02:00"; a.Checkpoint = &c }, false},
		{"checkpoint time not a time", func(a *AuditShipment) { c := *cp; c.At = "yesterday"; a.Checkpoint = &c }, false},
		{"anchor without checkpoint", func(a *AuditShipment) { a.Anchor = &AuditAnchor{Seq: 3, Hash: hash} }, false},
		{"anchor seq 0", func(a *AuditShipment) { a.Anchor = &AuditAnchor{Seq: 0, Hash: hash, Checkpoint: *cp} }, false},
		{"alert kind with spaces", func(a *AuditShipment) { a.Alerts[0].Kind = "name of someone" }, false},
		{"alert kind too long", func(a *AuditShipment) { a.Alerts[0].Kind = strings.Repeat("a", MaxAlertKind+1) }, false},
		{"alert without time", func(a *AuditShipment) { a.Alerts[0].At = time.Time{} }, false},
		{"too many alerts", func(a *AuditShipment) { a.Alerts = make([]AuditAlert, MaxAuditAlerts+1) }, false},
	}
	for _, c := range cases {
		a := good()
		c.change(&a)
		err := a.Validate()
		if got := err == nil; got != c.ok {
			t.Errorf("%s: got %v, want ok %v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v is not ErrInvalid", c.name, err)
		}
	}
}
