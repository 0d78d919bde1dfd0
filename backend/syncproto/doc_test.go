package syncproto

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"strings"
	"testing"
)

// The example in docs/sync-protocol.md is what this package computes:
// the device id, the signed message and the signature.
func TestProtocolDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/sync-protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(doc)), " ") // the signature is wrapped in the text
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	dev := DeviceID(pub)
	msg := RequestMessage("GET", "/v1/pull?after=1200&limit=500", sha256.Sum256(nil), dev, "2026-03-14T09:26:53Z", "AAECAwQFBgcICQoLDA0ODw")
	sig := base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, msg))
	for name, want := range map[string]string{
		"public key": base64.StdEncoding.EncodeToString(pub),
		"device id":  "`" + dev + "`",
		"signature":  sig,
		"domain":     SignDomain,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the document lacks the example's %s %s", name, want)
		}
	}
	if !strings.Contains(string(doc), "```\n"+string(msg)+"\n```") {
		t.Errorf("the document's signed message is not:\n%s", msg)
	}
	for _, c := range Codes() {
		if !strings.Contains(string(doc), "| `"+string(c)+"` | ") {
			t.Errorf("the document's error table lacks %s", c)
		}
	}
}
