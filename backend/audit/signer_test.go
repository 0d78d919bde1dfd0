package audit_test

import (
	"crypto"
	"crypto/ed25519"
	"testing"

	"outpost/backend/audit"
)

func TestDeviceSigner(t *testing.T) {
	tr := newTrail(t)
	s, err := audit.NewDeviceSigner(ctx, tr.v.W)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("outpost-sync-request/1\nPOST\n/v1/push")
	sig, err := s.Sign(nil, msg, crypto.Hash(0))
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(s.Public().(ed25519.PublicKey), msg, sig) {
		t.Fatal("the signature does not verify under the device's public key")
	}
	// It signs nothing that could pass for a checkpoint or another protocol.
	for _, m := range []string{audit.CheckpointDomain + "\ndev\n1\nabc\n2026-01-01T00:00:00Z", "anything else", ""} {
		if _, err := s.Sign(nil, []byte(m), crypto.Hash(0)); err == nil {
			t.Errorf("signed %q", m)
		}
	}
}
