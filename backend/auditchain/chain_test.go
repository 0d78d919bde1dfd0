package auditchain

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The example of docs/audit-format.md holds, with this package alone (as
// the clinic server checks a chain), and a change to any event breaks it
// at that event.
func TestDocumentExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/audit-format.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```ndjson\n")
	block, _, _ = strings.Cut(block, "```")
	lines := strings.Split(strings.TrimSuffix(block, "\n"), "\n")
	if !ok || len(lines) != 5 {
		t.Fatalf("example not found (%d lines)", len(lines))
	}
	var header struct{ Device, PublicKey string }
	var cp struct {
		Seq                 int64
		Hash, At, Signature string
	}
	if json.Unmarshal([]byte(lines[0]), &header) != nil || json.Unmarshal([]byte(lines[4]), &cp) != nil {
		t.Fatal("header or checkpoint")
	}
	pub, _ := base64.StdEncoding.DecodeString(header.PublicKey)
	sig, _ := base64.StdEncoding.DecodeString(cp.Signature)
	events := lines[1:4]

	check := func(events []string) *BreakError {
		ch := NewChain()
		var buf []byte
		for _, line := range events {
			var r Record
			var err error
			if r, buf, err = ParseLine([]byte(line), buf); err != nil {
				return &BreakError{Seq: ch.Next, Reason: err.Error()}
			}
			if _, berr := ch.Add(&r); berr != nil {
				return berr
			}
		}
		if ch.Prev != cp.Hash || !VerifyCheckpoint(ed25519.PublicKey(pub), header.Device, cp.Seq, cp.Hash, cp.At, sig) {
			return &BreakError{Seq: cp.Seq, Reason: "checkpoint"}
		}
		return nil
	}
	if berr := check(events); berr != nil {
		t.Fatalf("the example does not verify: %v", berr)
	}
	for i := range events {
		changed := append([]string(nil), events...)
		changed[i] = strings.Replace(changed[i], `"outcome":"success"`, `"outcome":"failure"`, 1)
		if berr := check(changed); berr == nil || berr.Seq != int64(i+1) {
			t.Errorf("event %d changed: %v", i+1, berr)
		}
	}
	if VerifyCheckpoint(ed25519.PublicKey(pub), "another-device", cp.Seq, cp.Hash, cp.At, sig) {
		t.Error("a checkpoint verifies for another device")
	}
	// A line not in canonical form is refused, though it means the same.
	spaced := strings.Replace(events[0], `,"at":`, `, "at":`, 1)
	if _, _, err := ParseLine([]byte(spaced), nil); err == nil {
		t.Error("a line with a space parsed")
	}
	if !bytes.HasPrefix(CheckpointMessage("d", 3, "h", "t"), []byte(CheckpointDomain+"\nd\n3\nh\nt")) || !IsHash(cp.Hash) || IsHash(strings.ToUpper(cp.Hash)) {
		t.Error("message or hash form")
	}
}
