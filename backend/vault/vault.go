// Package vault keeps Outpost's data in one SQLCipher file whose 32-byte
// raw key lives in the OS keyring, with a recovery key that can put it back
// and, where no keyring exists, a passphrase-protected key file instead.
// It is the only package that imports the SQLCipher driver.
package vault

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"outpost/backend/ehr"
)

// File names inside the data directory.
const (
	DBFile       = "outpost.db"
	MetaFile     = "vault.json"
	RecoveryFile = "recovery.json"
	KeyFile      = "key.json"
)

// Key stores.
const (
	StoreKeyring    = "keyring"
	StorePassphrase = "passphrase"
)

// MinPassphrase is the shortest passphrase accepted for a key file.
const MinPassphrase = 12

// Meta describes a vault; it is written beside the database and holds no
// secret.
type Meta struct {
	Format   int    `json:"format"`
	VaultID  string `json:"vaultId"`
	KeyStore string `json:"keyStore"`
	KeyCheck string `json:"keyCheck"`
	Created  string `json:"created"`
}

// Options locate a vault and supply its dependencies.
type Options struct {
	Dir     string
	Keyring Keyring   // nil: SystemKeyring
	Rand    io.Reader // nil: crypto/rand
	Now     func() time.Time
	Argon2  Argon2Params // zero: DefaultArgon2
}

func (o Options) withDefaults() Options {
	if o.Keyring == nil {
		o.Keyring = SystemKeyring{}
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Argon2 == (Argon2Params{}) {
		o.Argon2 = DefaultArgon2
	}
	return o
}

// Vault is an open, migrated vault. W is the single writer connection; R
// is a pool of read-only connections.
type Vault struct {
	dir  string
	meta Meta
	W    *sql.DB
	R    *sql.DB
}

// DefaultDir is the data directory when none is given: the user's
// configuration directory, then "Outpost".
func DefaultDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("default data dir: %w", err)
	}
	return filepath.Join(base, "Outpost"), nil
}

// ReadMeta returns the vault metadata in dir, or an error wrapping
// ErrNoVault when dir holds no vault.
func ReadMeta(dir string) (Meta, error) {
	raw, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(filepath.Join(dir, DBFile)); serr == nil {
			return Meta{}, fail(ErrCorrupt, "The vault's description file is missing beside the database. Restore it from a backup; do not create a new vault.")
		}
		return Meta{}, fail(ErrNoVault, "No vault exists in this data folder yet.")
	}
	if err != nil {
		return Meta{}, failWrap(ErrUnreadable, "The vault's description file cannot be read. Check the data folder's permissions.", err)
	}
	var m Meta
	if err := json.Unmarshal(raw, &m); err != nil || m.Format != 1 || !ehr.ValidID(m.VaultID) ||
		(m.KeyStore != StoreKeyring && m.KeyStore != StorePassphrase) {
		return Meta{}, fail(ErrCorrupt, "The vault's description file is damaged. Restore it from a backup; do not create a new vault.")
	}
	return m, nil
}

// Dir returns the data directory.
func (v *Vault) Dir() string { return v.dir }

// Meta returns the vault's metadata.
func (v *Vault) Meta() Meta { return v.meta }

// ID returns the vault id.
func (v *Vault) ID() string { return v.meta.VaultID }

// Close closes both pools.
func (v *Vault) Close() error {
	return errors.Join(v.R.Close(), v.W.Close())
}

// Create makes a new vault in o.Dir with its key in the keyring (store
// StoreKeyring) or in a key file under passphrase (StorePassphrase). It
// returns the open vault and the recovery key, which is shown once and
// never stored. Create refuses a directory that already holds a vault.
func Create(ctx context.Context, o Options, store string, passphrase []byte) (*Vault, string, error) {
	o = o.withDefaults()
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, "", failWrap(ErrUnreadable, "The data folder cannot be created.", err)
	}
	if err := os.Chmod(o.Dir, 0o700); err != nil {
		return nil, "", failWrap(ErrUnreadable, "The data folder's permissions cannot be set.", err)
	}
	for _, f := range []string{MetaFile, DBFile, RecoveryFile, KeyFile} {
		if _, err := os.Lstat(filepath.Join(o.Dir, f)); err == nil {
			return nil, "", fail(ErrExists, "This data folder already holds a vault; it is never replaced.")
		}
	}
	ids := &ehr.IDs{Now: o.Now, Rand: o.Rand}
	vaultID, err := ids.New()
	if err != nil {
		return nil, "", err
	}
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(o.Rand, key); err != nil {
		return nil, "", fmt.Errorf("create vault: %w", err)
	}
	meta := Meta{Format: 1, VaultID: vaultID, KeyStore: store, KeyCheck: keyCheck(key, vaultID), Created: o.Now().UTC().Format(time.RFC3339)}

	var created []string // files to remove if creation fails
	cleanup := func() {
		for _, f := range created {
			os.Remove(f)
		}
	}
	switch store {
	case StoreKeyring:
		if err := ProbeKeyring(o.Keyring); err != nil {
			return nil, "", failWrap(ErrNoKeyring, KeyringHelp, err)
		}
		if err := o.Keyring.Set(Service, vaultID, hex.EncodeToString(key)); err != nil {
			return nil, "", failWrap(ErrNoKeyring, KeyringHelp, err)
		}
	case StorePassphrase:
		if len([]rune(string(passphrase))) < MinPassphrase {
			return nil, "", &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
				Fields: map[string]string{"passphrase": fmt.Sprintf("Use at least %d characters.", MinPassphrase)}}
		}
		w, err := wrapWithPassphrase(o.Rand, vaultID, passphrase, key, o.Argon2)
		if err != nil {
			return nil, "", err
		}
		path := filepath.Join(o.Dir, KeyFile)
		if err := writeJSON(path, w); err != nil {
			return nil, "", err
		}
		created = append(created, path)
	default:
		return nil, "", fmt.Errorf("create vault: unknown key store %q", store)
	}
	rollback := func() {
		cleanup()
		if store == StoreKeyring {
			o.Keyring.Delete(Service, vaultID)
		}
	}

	recovery, secret, err := newRecoveryKey(o.Rand)
	if err != nil {
		rollback()
		return nil, "", err
	}
	rw, err := wrapWithRecovery(o.Rand, vaultID, secret, key)
	if err != nil {
		rollback()
		return nil, "", err
	}
	recPath := filepath.Join(o.Dir, RecoveryFile)
	if err := writeJSON(recPath, rw); err != nil {
		rollback()
		return nil, "", err
	}
	created = append(created, recPath)

	dbPath := filepath.Join(o.Dir, DBFile)
	f, err := os.OpenFile(dbPath, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		rollback()
		return nil, "", failWrap(ErrExists, "The vault file cannot be created.", err)
	}
	f.Close()
	created = append(created, dbPath, dbPath+"-wal", dbPath+"-shm")

	v, err := openDB(ctx, o.Dir, meta, key, true)
	if err != nil {
		rollback()
		return nil, "", err
	}
	if err := writeJSON(filepath.Join(o.Dir, MetaFile), meta); err != nil {
		v.Close()
		rollback()
		return nil, "", err
	}
	return v, recovery, nil
}

// Open opens the vault in o.Dir with the key from the keyring.
func Open(ctx context.Context, o Options) (*Vault, error) {
	o = o.withDefaults()
	meta, err := ReadMeta(o.Dir)
	if err != nil {
		return nil, err
	}
	if meta.KeyStore != StoreKeyring {
		return nil, fail(ErrNeedPassphrase, "This vault's key is protected by a passphrase. Enter the passphrase to unlock it.")
	}
	if err := checkFile(o.Dir); err != nil {
		return nil, err
	}
	secret, err := o.Keyring.Get(Service, meta.VaultID)
	if errors.Is(err, ErrKeyNotFound) {
		return nil, fail(ErrKeyMissing, "This vault's key is not in this computer's keyring. Restore it with the recovery key: outpost-admin recover.")
	}
	if err != nil {
		return nil, failWrap(ErrNoKeyring, KeyringHelp, err)
	}
	key, err := hex.DecodeString(secret)
	if err != nil || len(key) != KeySize {
		return nil, fail(ErrWrongKey, "The key in the keyring does not open this vault. Restore the right key with the recovery key: outpost-admin recover.")
	}
	return openKey(ctx, o.Dir, meta, key)
}

// OpenPassphrase opens a vault whose key is in a passphrase key file.
func OpenPassphrase(ctx context.Context, o Options, passphrase []byte) (*Vault, error) {
	o = o.withDefaults()
	meta, err := ReadMeta(o.Dir)
	if err != nil {
		return nil, err
	}
	if meta.KeyStore != StorePassphrase {
		return nil, fmt.Errorf("open vault: key store is %q, not a passphrase", meta.KeyStore)
	}
	if err := checkFile(o.Dir); err != nil {
		return nil, err
	}
	var w Wrapped
	if err := readJSON(filepath.Join(o.Dir, KeyFile), &w); err != nil {
		return nil, failWrap(ErrKeyMissing, "The vault's key file is missing or damaged. Restore it with the recovery key: outpost-admin recover.", err)
	}
	key, err := unwrapWithPassphrase(w, passphrase)
	if err != nil {
		return nil, failWrap(ErrPassphrase, "The passphrase is not right.", err)
	}
	return openKey(ctx, o.Dir, meta, key)
}

func openKey(ctx context.Context, dir string, meta Meta, key []byte) (*Vault, error) {
	if !hmacEqual(keyCheck(key, meta.VaultID), meta.KeyCheck) {
		return nil, fail(ErrWrongKey, "The key does not open this vault. Restore the right key with the recovery key: outpost-admin recover.")
	}
	return openDB(ctx, dir, meta, key, false)
}

// Recover reads the recovery key, checks it against the vault, and puts
// the database key back: into the keyring for a keyring vault, or into a
// new key file under newPassphrase for a passphrase vault.
func Recover(o Options, recoveryKey string, newPassphrase []byte) error {
	o = o.withDefaults()
	meta, err := ReadMeta(o.Dir)
	if err != nil {
		return err
	}
	secret, err := parseRecovery(recoveryKey)
	if err != nil {
		return fail(ErrRecoveryFormat, "The recovery key is mistyped: check each group of four characters.")
	}
	var w Wrapped
	if err := readJSON(filepath.Join(o.Dir, RecoveryFile), &w); err != nil {
		return failWrap(ErrCorrupt, "The recovery file beside the vault is missing or damaged.", err)
	}
	if w.VaultID != meta.VaultID {
		return fail(ErrWrongKey, "The recovery file belongs to another vault.")
	}
	key, err := unwrapWithRecovery(w, secret)
	if err != nil || !hmacEqual(keyCheck(key, meta.VaultID), meta.KeyCheck) {
		return fail(ErrWrongKey, "This recovery key does not belong to this vault.")
	}
	switch meta.KeyStore {
	case StoreKeyring:
		if err := o.Keyring.Set(Service, meta.VaultID, hex.EncodeToString(key)); err != nil {
			return failWrap(ErrNoKeyring, KeyringHelp, err)
		}
		return nil
	default:
		if len([]rune(string(newPassphrase))) < MinPassphrase {
			return &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
				Fields: map[string]string{"passphrase": fmt.Sprintf("Use at least %d characters.", MinPassphrase)}}
		}
		nw, err := wrapWithPassphrase(o.Rand, meta.VaultID, newPassphrase, key, o.Argon2)
		if err != nil {
			return err
		}
		return writeJSON(filepath.Join(o.Dir, KeyFile), nw)
	}
}

// Erase removes the vault's key from the keyring and overwrites and
// removes its files. It is for a revoked device; nothing can be recovered
// afterwards without the recovery key and a copy of the data.
func Erase(o Options) error {
	o = o.withDefaults()
	meta, err := ReadMeta(o.Dir)
	if err != nil {
		return err
	}
	var errs []error
	if meta.KeyStore == StoreKeyring {
		if err := o.Keyring.Delete(Service, meta.VaultID); err != nil && !errors.Is(err, ErrKeyNotFound) {
			errs = append(errs, err)
		}
	}
	for _, f := range []string{DBFile + "-wal", DBFile + "-shm", DBFile, KeyFile, RecoveryFile, MetaFile} {
		if err := shred(filepath.Join(o.Dir, f)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func shred(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	zero := make([]byte, 64*1024)
	for left := st.Size(); left > 0; {
		n := int64(len(zero))
		if left < n {
			n = left
		}
		if _, err := f.Write(zero[:n]); err != nil {
			f.Close()
			return err
		}
		left -= n
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	return os.Remove(path)
}
