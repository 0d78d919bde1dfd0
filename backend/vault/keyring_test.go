package vault_test

import (
	"errors"
	"os"
	"testing"

	"outpost/backend/vault"
)

// systemKeyring returns the OS keyring. Where none is reachable the test
// is skipped, unless OUTPOST_REQUIRE_KEYRING=1 (as in make test, which runs
// these tests inside a D-Bus session with an unlocked gnome-keyring).
func systemKeyring(t *testing.T) vault.Keyring {
	t.Helper()
	kr := vault.SystemKeyring{}
	if err := vault.ProbeKeyring(kr); err != nil {
		if os.Getenv("OUTPOST_REQUIRE_KEYRING") == "1" {
			t.Fatalf("OS keyring required but not usable: %v", err)
		}
		t.Skipf("no OS keyring here (%v); make test runs this with gnome-keyring", err)
	}
	return kr
}

func TestSystemKeyringLifecycle(t *testing.T) {
	kr := systemKeyring(t)
	o := vault.Options{Dir: t.TempDir(), Keyring: kr}
	v, rk, err := vault.Create(ctx, o, vault.StoreKeyring, nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := v.ID()
	t.Cleanup(func() { kr.Delete(vault.Service, id) })
	v.Close()

	secret, err := kr.Get(vault.Service, id)
	if err != nil || len(secret) != 64 {
		t.Fatalf("keyring entry: %d chars, %v", len(secret), err)
	}
	v, err = vault.Open(ctx, o)
	if err != nil {
		t.Fatalf("open with the system keyring: %v", err)
	}
	v.Close()

	// The keyring loses the key (a new user profile, a wiped keyring).
	if err := kr.Delete(vault.Service, id); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(ctx, o); !errors.Is(err, vault.ErrKeyMissing) {
		t.Fatalf("open without key: %v, want ErrKeyMissing", err)
	}
	if err := vault.Recover(o, rk, nil); err != nil {
		t.Fatalf("recover into the system keyring: %v", err)
	}
	v, err = vault.Open(ctx, o)
	if err != nil {
		t.Fatalf("open after recover: %v", err)
	}
	v.Close()

	if err := vault.Erase(o); err != nil {
		t.Fatalf("erase: %v", err)
	}
	if _, err := kr.Get(vault.Service, id); !errors.Is(err, vault.ErrKeyNotFound) {
		t.Fatalf("key survived erase: %v", err)
	}
}
