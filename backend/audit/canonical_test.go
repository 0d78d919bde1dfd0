package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"testing"
	"time"

	"outpost/backend/ehr"
)

// oldHash is how events were hashed before the hand-written encoder:
// SHA-256(prevHash ‖ ehr.Canonical(event with an empty hash)).
func oldHash(t testing.TB, e Event) string {
	e.Hash = ""
	body, err := ehr.Canonical(e)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

var awkward = []string{
	"", "plain", `quote " and back\slash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "caf\u00e9 \u4e2d\u6587 \U0001F600", "bad \xff\xfe utf8 \xed\xa0\x80", "\u2028\u2029",
	"\ufffd", "ends with \\", `\"`, "\u007f\u0080",
}

func checkCanonical(t *testing.T, e Event) {
	t.Helper()
	want, err := ehr.Canonical(e)
	if err != nil {
		t.Fatal(err)
	}
	got := CanonicalJSON(e)
	if string(got) != string(want) {
		t.Fatalf("canonical JSON differs:\n got %s\nwant %s", got, want)
	}
	if Hash(e) != oldHash(t, e) {
		t.Fatalf("hash differs from ehr.Canonical's")
	}
	// A line reads back to the same record.
	r, err := parseRecord(got)
	if err != nil {
		t.Fatalf("parse %s: %v", got, err)
	}
	back := r.AppendJSON(nil, r.Hash)
	if string(back) != string(got) {
		t.Fatalf("read back differs:\n got %s\nwant %s", back, got)
	}
}

func TestCanonicalMatchesEhrCanonical(t *testing.T) {
	at := time.Date(2026, 2, 2, 2, 2, 2, 123456000, time.UTC)
	base := Event{Seq: 42, At: at, Username: "dr.banda", Roles: []string{"clinician", "nurse"}, Action: "condition.read",
		Outcome: Success, PatientID: "p", RecordID: "r", Device: "d", Workstation: "ws", Session: "s", Detail: "x",
		PrevHash: Genesis, Hash: "abc"}
	checkCanonical(t, base)
	e := base
	e.Roles = nil
	checkCanonical(t, e)
	e.Roles = []string{}
	e.At = at.Truncate(time.Second)
	checkCanonical(t, e)
	e.OSUser, e.Addresses, e.Reason, e.OnBehalfOf = "ama", []string{"10.0.0.5", "2001:db8::1"}, "unconscious", "guardian: Joe"
	checkCanonical(t, e)
	for _, s := range awkward {
		e := base
		e.Username, e.Detail, e.Reason, e.OnBehalfOf, e.OSUser = s, s, s, s, s
		e.Roles = []string{s, "x" + s}
		e.Addresses = []string{s}
		checkCanonical(t, e)
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, s, int64(7))
	}
	f.Fuzz(func(t *testing.T, a, b string, seq int64) {
		e := Event{Seq: seq, At: time.Unix(seq%4e9, 0).UTC(), Username: a, Roles: []string{b}, Action: a, Outcome: b,
			Detail: a + b, Reason: b, OnBehalfOf: a, OSUser: b, PrevHash: Genesis, Hash: a}
		if a != "" {
			e.Addresses = []string{a, b}
		}
		checkCanonical(t, e)
	})
}

// The parser refuses what is not an event; what it accepts that the
// encoder would not write is caught by the verifier's byte comparison.
func TestParseRecordRefuses(t *testing.T) {
	good := string(CanonicalJSON(Event{Seq: 1, At: time.Unix(0, 0).UTC(), Roles: []string{}, PrevHash: Genesis}))
	for _, line := range []string{
		"", "{", "{}", "[]", good[:len(good)-1], good + "x", `{"action":"a","extra":1}`, `{"action":1}`,
		`{"action":"a","roles":[1]}`, `{"action":"a","seq":"1"}`, `{"action":"a\u00"}`, `{"act\"ion":"a"}`,
	} {
		r, err := parseRecord([]byte(line))
		if err == nil && string(r.AppendJSON(nil, r.Hash)) == line {
			t.Errorf("accepted %q", line)
		}
	}
	if _, err := parseRecord([]byte(good)); err != nil {
		t.Fatalf("refused a good line: %v", err)
	}
	r, _ := parseRecord([]byte(good))
	if !reflect.DeepEqual(r.Roles, []string{}) || r.Seq != 1 {
		t.Errorf("read %+v", r)
	}
}

func TestCleanAddresses(t *testing.T) {
	got := cleanAddresses([]string{"127.0.0.1", "::1", "fe80::1%eth0", "169.254.3.4", "10.1.2.3", "not an ip", "2001:DB8::5", "10.1.2.3", "0.0.0.0", "192.168.1.20"})
	want := []string{"10.1.2.3", "192.168.1.20", "2001:db8::5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cleanAddresses = %v, want %v", got, want)
	}
	if cleanAddresses(nil) != nil {
		t.Errorf("no addresses should be nil")
	}
}
