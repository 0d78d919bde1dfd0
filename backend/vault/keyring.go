package vault

import (
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// Service is the keyring service name under which vault keys are kept; the
// account is the vault id.
const Service = "outpost"

// ErrKeyNotFound is returned by a Keyring that has no entry for the account.
var ErrKeyNotFound = errors.New("no key in keyring")

// Keyring stores secrets in the operating system's credential store.
type Keyring interface {
	Get(service, account string) (string, error)
	Set(service, account, secret string) error
	Delete(service, account string) error
}

// SystemKeyring is the OS keyring: Secret Service on Linux, Keychain on
// macOS, Credential Manager on Windows.
type SystemKeyring struct{}

// Get implements Keyring.
func (SystemKeyring) Get(service, account string) (string, error) {
	s, err := keyring.Get(service, account)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", ErrKeyNotFound
	}
	return s, err
}

// Set implements Keyring.
func (SystemKeyring) Set(service, account, secret string) error {
	return keyring.Set(service, account, secret)
}

// Delete implements Keyring.
func (SystemKeyring) Delete(service, account string) error {
	err := keyring.Delete(service, account)
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrKeyNotFound
	}
	return err
}

// ProbeKeyring reports whether kr can store and return a secret, by
// writing, reading and deleting a throw-away entry.
func ProbeKeyring(kr Keyring) error {
	const account = "outpost-probe"
	if err := kr.Set(Service, account, "probe"); err != nil {
		return fmt.Errorf("keyring set: %w", err)
	}
	got, err := kr.Get(Service, account)
	if err != nil {
		return fmt.Errorf("keyring get: %w", err)
	}
	if got != "probe" {
		return errors.New("keyring returned a different secret")
	}
	if err := kr.Delete(Service, account); err != nil {
		return fmt.Errorf("keyring delete: %w", err)
	}
	return nil
}

// KeyringHelp tells an operator how to make a keyring available.
const KeyringHelp = "No OS keyring is available, so the vault key cannot be stored safely. " +
	"On Linux, install and unlock a Secret Service keyring (for example: apt install gnome-keyring, then log in to a desktop session, " +
	"or start gnome-keyring-daemon --unlock inside a D-Bus session). On macOS the Keychain and on Windows the Credential Manager are used. " +
	"Alternatively, choose a passphrase-protected key file: the passphrase is then asked for at every start."
