package vault

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of the database key: 32 random bytes used as a raw
// SQLCipher key.
const KeySize = 32

// Wrapped is a database key sealed with XChaCha20-Poly1305 under a key
// derived from a recovery key (HKDF-SHA256) or a passphrase (argon2id).
// The vault id is the associated data, so a wrapped key cannot be moved to
// another vault.
type Wrapped struct {
	Format     int    `json:"format"`
	VaultID    string `json:"vaultId"`
	KDF        string `json:"kdf"` // "hkdf-sha256" or "argon2id"
	MemoryKiB  uint32 `json:"memoryKiB,omitempty"`
	Time       uint32 `json:"time,omitempty"`
	Threads    uint8  `json:"threads,omitempty"`
	Salt       []byte `json:"salt"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// Argon2Params are the argon2id cost parameters for passphrase key files.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 is at least 64 MiB as the design requires (about 0.2 s on
// a 2-core laptop).
var DefaultArgon2 = Argon2Params{MemoryKiB: 64 * 1024, Time: 3, Threads: 2}

var errUnwrap = errors.New("wrapped key does not open")

func wrapKey(rand io.Reader, vaultID string, kek, key []byte, w Wrapped) (Wrapped, error) {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return Wrapped{}, err
	}
	w.Format = 1
	w.VaultID = vaultID
	w.Nonce = make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rand, w.Nonce); err != nil {
		return Wrapped{}, fmt.Errorf("wrap key: %w", err)
	}
	w.Ciphertext = aead.Seal(nil, w.Nonce, key, []byte("outpost-vault-key:"+vaultID))
	return w, nil
}

func unwrapKey(w Wrapped, kek []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, err
	}
	if len(w.Nonce) != aead.NonceSize() {
		return nil, errUnwrap
	}
	key, err := aead.Open(nil, w.Nonce, w.Ciphertext, []byte("outpost-vault-key:"+w.VaultID))
	if err != nil || len(key) != KeySize {
		return nil, errUnwrap
	}
	return key, nil
}

// wrapWithRecovery seals key under the recovery key's secret bytes.
func wrapWithRecovery(rand io.Reader, vaultID string, secret, key []byte) (Wrapped, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return Wrapped{}, fmt.Errorf("wrap key: %w", err)
	}
	kek, err := hkdf.Key(sha256.New, secret, salt, "outpost recovery key v1", 32)
	if err != nil {
		return Wrapped{}, err
	}
	return wrapKey(rand, vaultID, kek, key, Wrapped{KDF: "hkdf-sha256", Salt: salt})
}

func unwrapWithRecovery(w Wrapped, secret []byte) ([]byte, error) {
	if w.KDF != "hkdf-sha256" {
		return nil, fmt.Errorf("recovery file: unknown kdf %q", w.KDF)
	}
	kek, err := hkdf.Key(sha256.New, secret, w.Salt, "outpost recovery key v1", 32)
	if err != nil {
		return nil, err
	}
	return unwrapKey(w, kek)
}

// wrapWithPassphrase seals key under an argon2id hash of the passphrase.
func wrapWithPassphrase(rand io.Reader, vaultID string, pass, key []byte, p Argon2Params) (Wrapped, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return Wrapped{}, fmt.Errorf("wrap key: %w", err)
	}
	kek := argon2.IDKey(pass, salt, p.Time, p.MemoryKiB, p.Threads, 32)
	return wrapKey(rand, vaultID, kek, key, Wrapped{KDF: "argon2id", MemoryKiB: p.MemoryKiB, Time: p.Time, Threads: p.Threads, Salt: salt})
}

func unwrapWithPassphrase(w Wrapped, pass []byte) ([]byte, error) {
	if w.KDF != "argon2id" {
		return nil, fmt.Errorf("key file: unknown kdf %q", w.KDF)
	}
	if w.MemoryKiB < 8*1024 || w.MemoryKiB > 4*1024*1024 || w.Time < 1 || w.Time > 100 || w.Threads < 1 {
		return nil, errors.New("key file: argon2id parameters out of range")
	}
	kek := argon2.IDKey(pass, w.Salt, w.Time, w.MemoryKiB, w.Threads, 32)
	return unwrapKey(w, kek)
}

// keyCheck is a value that tells whether a key belongs to a vault without
// revealing the key: HMAC-SHA256(key, "outpost-key-check:" + vault id).
func keyCheck(key []byte, vaultID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("outpost-key-check:" + vaultID))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Recovery keys are 20 random bytes written in Crockford's base32 as eight
// groups of four characters, followed by a ninth group that checks for
// typing mistakes: 160 bits of secret a person can copy onto paper.
const (
	recoveryBytes  = 20
	crockford      = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	recoveryGroups = 9
)

// ErrRecoveryFormat means a recovery key was mistyped.
var ErrRecoveryFormat = errors.New("recovery key mistyped")

func newRecoveryKey(rand io.Reader) (string, []byte, error) {
	secret := make([]byte, recoveryBytes)
	if _, err := io.ReadFull(rand, secret); err != nil {
		return "", nil, fmt.Errorf("recovery key: %w", err)
	}
	return formatRecovery(secret), secret, nil
}

func formatRecovery(secret []byte) string {
	body := base32Crockford(secret) // 32 characters
	sum := sha256.Sum256(secret)
	check := base32Crockford(sum[:5])[:4]
	var groups []string
	for i := 0; i < len(body); i += 4 {
		groups = append(groups, body[i:i+4])
	}
	groups = append(groups, check)
	return strings.Join(groups, "-")
}

// parseRecovery reads a recovery key as a person typed it: case, spaces
// and hyphens do not matter, and O, I, L are read as 0, 1, 1.
func parseRecovery(s string) ([]byte, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\n' || r == '\r':
		case r == 'O':
			b.WriteByte('0')
		case r == 'I' || r == 'L':
			b.WriteByte('1')
		case strings.ContainsRune(crockford, r):
			b.WriteRune(r)
		default:
			return nil, ErrRecoveryFormat
		}
	}
	clean := b.String()
	if len(clean) != 4*recoveryGroups {
		return nil, ErrRecoveryFormat
	}
	secret, ok := unbase32Crockford(clean[:32])
	if !ok || len(secret) != recoveryBytes {
		return nil, ErrRecoveryFormat
	}
	if formatRecovery(secret) != groupsOf4(clean) {
		return nil, ErrRecoveryFormat
	}
	return secret, nil
}

func groupsOf4(s string) string {
	var g []string
	for i := 0; i < len(s); i += 4 {
		g = append(g, s[i:i+4])
	}
	return strings.Join(g, "-")
}

func base32Crockford(b []byte) string {
	var out strings.Builder
	var acc, bits uint
	for _, c := range b {
		acc = acc<<8 | uint(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out.WriteByte(crockford[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		out.WriteByte(crockford[(acc<<(5-bits))&31])
	}
	return out.String()
}

func unbase32Crockford(s string) ([]byte, bool) {
	var out []byte
	var acc, bits uint
	for _, r := range s {
		i := strings.IndexRune(crockford, r)
		if i < 0 {
			return nil, false
		}
		acc = acc<<5 | uint(i)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return out, true
}
