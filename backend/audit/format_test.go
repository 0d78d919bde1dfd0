package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"outpost/backend/audit"
)

// docs/audit-format.md's example verifies with the reference verifier
// and its example key, and its hashed bytes and signed message are what
// the code hashes and signs.
func TestFormatDocumentExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "audit-format.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := func(lang string) []byte {
		m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindSubmatch(doc)
		if m == nil {
			t.Fatalf("no %s block", lang)
		}
		return m[1]
	}
	example := block("ndjson")
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	key := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	rep, err := audit.VerifyFile(bytes.NewReader(example), key)
	if err != nil || rep.Events != 3 || rep.Checkpoints != 1 {
		t.Fatalf("example: %+v, %v", rep, err)
	}
	// The documented hash input of event 2 and the checkpoint's message.
	lines := bytes.Split(bytes.TrimSpace(example), []byte("\n"))
	hashed := append([]byte(nil), lines[2]...)
	hashed = regexp.MustCompile(`"hash":"[0-9a-f]{64}"`).ReplaceAll(hashed, []byte(`"hash":""`))
	hashed = append([]byte(`1b7a5edf9659e26bdb429635af4793d52bc1140dd2e4c5cf0032b1167429494c`), hashed...)
	if !bytes.Contains(doc, append(append([]byte("```\n"), hashed...), '\n')) {
		t.Errorf("the document's hashed bytes are not event 2's")
	}
	if !bytes.Contains(doc, []byte("outpost-audit-checkpoint/1\\n0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\\n3\\n4c15e294c82a41eb9c53f1336088696a9be20900fc7dadbf898cc73f3c884275\\n2026-03-02T08:20:00.25Z")) ||
		!bytes.Contains(lines[4], []byte(`"at":"2026-03-02T08:20:00.25Z","hash":"4c15e294c82a41eb9c53f1336088696a9be20900fc7dadbf898cc73f3c884275","seq":3`)) {
		t.Errorf("the document's signed message is not the checkpoint's")
	}
	// And a changed character anywhere in an event is caught.
	bad := bytes.Replace(example, []byte("unconscious"), []byte("Unconscious"), 1)
	if _, err := audit.VerifyFile(bytes.NewReader(bad), key); breakAt(t, err) != 2 {
		t.Errorf("changed example: %v", err)
	}
}
