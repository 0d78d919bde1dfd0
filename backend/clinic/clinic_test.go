package clinic_test

import (
	"context"
	"testing"

	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

var fast = auth.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}

// Setup makes the clinic key inside the vault; a vault set up before sync
// gets one on first use, and keeps it.
func TestClinicKey(t *testing.T) {
	ctx := context.Background()
	s, _, err := clinic.Setup(ctx, vaulttest.Options(t), clinic.Deps{Workstation: "ws", Passwords: fast}, clinic.SetupRequest{
		Clinic: "Hill Clinic", AdminUsername: "admin.ama", AdminName: "Ama Admin", Password: "copper-lantern-morning-41", KeyStore: vault.StoreKeyring})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k1, err := clinic.ClinicKey(ctx, s.Vault, nil)
	if err != nil {
		t.Fatal(err)
	}
	if k2, _ := clinic.ClinicKey(ctx, s.Vault, nil); k2 != k1 {
		t.Fatal("the clinic key changed between reads")
	}
	if _, err := s.Vault.W.Exec("DELETE FROM meta WHERE key = 'clinic_key'"); err != nil {
		t.Fatal(err)
	}
	k3, err := clinic.ClinicKey(ctx, s.Vault, nil)
	if err != nil || k3 == k1 {
		t.Fatalf("older vault: %v (same key: %v)", err, k3 == k1)
	}
	if k4, _ := clinic.ClinicKey(ctx, s.Vault, nil); k4 != k3 {
		t.Fatal("the made key was not kept")
	}
}
