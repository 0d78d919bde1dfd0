package repo

import (
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// A key file holds one Ed25519 private key (PKCS #8, PEM) and is named
// <role>-<first 12 hex digits of the TUF key id>.key. Keys that rotation
// replaced move to the retired sub-folder.
const (
	keyExt     = ".key"
	retiredDir = "retired"
	pemType    = "PRIVATE KEY"
)

// keyring is the private keys found in a keys folder, by TUF key id.
type keyring struct {
	dir   string
	keys  map[string]ed25519.PrivateKey
	files map[string]string // key id -> file
}

// loadKeys reads every key file in dir (not the retired ones). A key file
// that group or others can read is reported through warn.
func loadKeys(dir string, warn func(string)) (*keyring, error) {
	kr := &keyring{dir: dir, keys: map[string]ed25519.PrivateKey{}, files: map[string]string{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("keys folder: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), keyExt) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		checkMode(p, warn)
		priv, err := readKey(p)
		if err != nil {
			return nil, err
		}
		id, err := keyID(priv.Public())
		if err != nil {
			return nil, err
		}
		kr.keys[id] = priv
		kr.files[id] = e.Name()
	}
	return kr, nil
}

// checkMode warns when a key file is readable by anyone but its owner.
func checkMode(p string, warn func(string)) {
	st, err := os.Stat(p)
	if err == nil && st.Mode().Perm()&0o077 != 0 && warn != nil {
		warn(fmt.Sprintf("key file %s is readable by others (mode %v): run chmod 600 on it, and keep the keys folder on the administrators' removable media", filepath.Base(p), st.Mode().Perm()))
	}
}

func readKey(p string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", filepath.Base(p), err)
	}
	blk, _ := pem.Decode(raw)
	if blk == nil || blk.Type != pemType {
		return nil, fmt.Errorf("key %s: not a PEM private key", filepath.Base(p))
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", filepath.Base(p), err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %s: not an Ed25519 key", filepath.Base(p))
	}
	return priv, nil
}

// keyID is the TUF key id of a public key.
func keyID(pub crypto.PublicKey) (string, error) {
	k, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("key id: %w", err)
	}
	return k.ID()
}

// generate makes a key for role, writes it (mode 0600, never replacing a
// file) and returns its public TUF key.
func (kr *keyring) generate(role string, rand io.Reader) (*metadata.Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", role, err)
	}
	key, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", role, err)
	}
	id, err := key.ID()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode %s key: %w", role, err)
	}
	name := role + "-" + id[:12] + keyExt
	f, err := os.OpenFile(filepath.Join(kr.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write %s key: %w", role, err)
	}
	werr := pem.Encode(f, &pem.Block{Type: pemType, Bytes: der})
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("write %s key: %w", role, err)
	}
	kr.keys[id] = priv
	kr.files[id] = name
	return key, nil
}

// retire moves the key files of ids into the retired sub-folder.
func (kr *keyring) retire(ids []string) error {
	if err := os.MkdirAll(filepath.Join(kr.dir, retiredDir), 0o700); err != nil {
		return fmt.Errorf("retire keys: %w", err)
	}
	for _, id := range ids {
		name, ok := kr.files[id]
		if !ok {
			continue
		}
		if err := os.Rename(filepath.Join(kr.dir, name), filepath.Join(kr.dir, retiredDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("retire key %s: %w", name, err)
		}
		delete(kr.keys, id)
		delete(kr.files, id)
	}
	return nil
}

// signers returns signers for the ids this keyring holds, in id order.
func (kr *keyring) signers(ids []string) ([]signature.Signer, error) {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	var out []signature.Signer
	for _, id := range sorted {
		priv, ok := kr.keys[id]
		if !ok {
			continue
		}
		s, err := signature.LoadED25519Signer(priv)
		if err != nil {
			return nil, fmt.Errorf("load signer: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}
