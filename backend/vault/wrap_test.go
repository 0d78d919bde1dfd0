package vault

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

func TestRecoveryKeyRoundTrip(t *testing.T) {
	s, secret, err := newRecoveryKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, typed := range []string{s, strings.ToLower(s), strings.ReplaceAll(s, "-", " "), " " + s + "\n"} {
		got, err := parseRecovery(typed)
		if err != nil || !bytes.Equal(got, secret) {
			t.Errorf("parse %q: %v", typed, err)
		}
	}
	// Every single-character typo is caught by the check group or the length.
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			continue
		}
		b := []byte(s)
		b[i] = map[bool]byte{true: 'Z', false: 'Y'}[b[i] != 'Z']
		if _, err := parseRecovery(string(b)); err == nil {
			t.Errorf("typo at %d accepted", i)
		}
	}
}

func FuzzParseRecovery(f *testing.F) {
	f.Add("ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789-ABCD")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		secret, err := parseRecovery(s)
		if err != nil {
			return
		}
		if len(secret) != recoveryBytes {
			t.Fatalf("secret of %d bytes", len(secret))
		}
		back, err := parseRecovery(formatRecovery(secret))
		if err != nil || !bytes.Equal(back, secret) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func TestWrapIsBoundToVault(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	secret := bytes.Repeat([]byte{9}, recoveryBytes)
	w, err := wrapWithRecovery(rand.Reader, "vault-a", secret, key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := unwrapWithRecovery(w, secret); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap: %v", err)
	}
	moved := w
	moved.VaultID = "vault-b"
	if _, err := unwrapWithRecovery(moved, secret); err == nil {
		t.Error("a wrapped key opened for another vault id")
	}
	tampered := w
	tampered.Ciphertext = append([]byte(nil), w.Ciphertext...)
	tampered.Ciphertext[0] ^= 1
	if _, err := unwrapWithRecovery(tampered, secret); err == nil {
		t.Error("a tampered wrapped key opened")
	}
}
