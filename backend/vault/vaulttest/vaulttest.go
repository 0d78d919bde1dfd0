// Package vaulttest makes real SQLCipher vaults in temporary directories
// for other packages' tests. Only the keyring is stood in for, by an
// in-memory map; the keyring itself is tested against the real OS keyring
// in package vault.
package vaulttest

import (
	"context"
	"sync"
	"testing"

	"outpost/backend/vault"
)

// Keyring is an in-memory vault.Keyring.
type Keyring struct {
	mu      sync.Mutex
	secrets map[string]string
	Broken  bool // every call fails, as with no keyring daemon
}

// NewKeyring returns an empty in-memory keyring.
func NewKeyring() *Keyring { return &Keyring{secrets: map[string]string{}} }

type brokenErr struct{}

func (brokenErr) Error() string { return "keyring unavailable" }

// Get implements vault.Keyring.
func (k *Keyring) Get(service, account string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.Broken {
		return "", brokenErr{}
	}
	s, ok := k.secrets[service+"\x00"+account]
	if !ok {
		return "", vault.ErrKeyNotFound
	}
	return s, nil
}

// Set implements vault.Keyring.
func (k *Keyring) Set(service, account, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.Broken {
		return brokenErr{}
	}
	k.secrets[service+"\x00"+account] = secret
	return nil
}

// Delete implements vault.Keyring.
func (k *Keyring) Delete(service, account string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.Broken {
		return brokenErr{}
	}
	if _, ok := k.secrets[service+"\x00"+account]; !ok {
		return vault.ErrKeyNotFound
	}
	delete(k.secrets, service+"\x00"+account)
	return nil
}

// FastArgon2 keeps tests quick; production uses vault.DefaultArgon2.
var FastArgon2 = vault.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}

// Options returns vault options for a fresh temporary directory.
func Options(t testing.TB) vault.Options {
	return vault.Options{Dir: t.TempDir(), Keyring: NewKeyring(), Argon2: FastArgon2}
}

// New creates an open vault in a temporary directory, closed at the end
// of the test.
func New(t testing.TB) *vault.Vault {
	t.Helper()
	v, _, err := vault.Create(context.Background(), Options(t), vault.StoreKeyring, nil)
	if err != nil {
		t.Fatalf("create vault: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
