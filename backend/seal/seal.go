// Package seal encrypts record versions with the clinic key before they
// leave the laptop, so the sync server keeps only ciphertext (DESIGN.md
// "Keys"). A sealed version is a 24-byte nonce followed by
// XChaCha20-Poly1305 ciphertext of the gzip-compressed JSON of the whole
// version (Stable derives the nonce from the key and the version, so a
// version always seals to the same bytes and a retried push is seen as
// the same); the record id, version id and parents, which the server needs
// for routing and sees in the clear, are bound in as associated data, so
// a sealed body moved to another record or version does not open.
package seal

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"

	"outpost/backend/ehr"
)

// Key is a clinic key: 32 random bytes, made at clinic setup, kept inside
// every enrolled laptop's vault and never on the server.
type Key [chacha20poly1305.KeySize]byte

// NewKey makes a key from r (crypto/rand when nil).
func NewKey(r io.Reader) (Key, error) {
	if r == nil {
		r = rand.Reader
	}
	var k Key
	if _, err := io.ReadFull(r, k[:]); err != nil {
		return Key{}, fmt.Errorf("new clinic key: %w", err)
	}
	return k, nil
}

// ParseKey reads a key written by Key.String.
func ParseKey(s string) (Key, error) {
	var k Key
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(k) {
		return Key{}, errors.New("seal: not a clinic key")
	}
	copy(k[:], b)
	return k, nil
}

// String returns the key in hex, for storing inside the vault only.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// ErrOpen is returned for every sealed version that does not open: the
// wrong key, a changed byte, another record's or version's ciphertext, or
// contents that disagree with the routing metadata.
var ErrOpen = errors.New("seal: the version does not open with the clinic key")

// MaxVersion bounds an opened version (a 20 MB document body, encoded).
const MaxVersion = 32 << 20

// associated returns the routing metadata bound into the ciphertext.
func associated(record, id string, parents []string) []byte {
	return []byte("outpost-version/1\n" + record + "\n" + id + "\n" + strings.Join(parents, ","))
}

// The gzip state is reused: a new reader or writer allocates its window
// and tables (tens of kilobytes), which for every version of a pull of
// hundreds of thousands was most of the garbage the laptop made. A reset
// gzip writer writes the same bytes as a new one.
var (
	gzWriters = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
		return w
	}}
	gzReaders sync.Pool
)

// Seal encrypts v under k, with randomness from rnd (crypto/rand when nil).
func Seal(k Key, v ehr.Version, rnd io.Reader) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	var z bytes.Buffer
	zw := gzWriters.Get().(*gzip.Writer)
	defer gzWriters.Put(zw)
	zw.Reset(&z)
	if _, err := zw.Write(plain); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+z.Len()+aead.Overhead())
	if _, err := io.ReadFull(rnd, out); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return aead.Seal(out, out, z.Bytes(), associated(v.RecordID, v.VersionID, v.Parents)), nil
}

// Stable seals v with a nonce derived from the key and v's contents
// (HMAC-SHA-256 under a subkey), so the same version always seals to the
// same bytes: a push retried after a lost answer is then a duplicate, not
// a different version under the same id. Equal ciphertexts reveal only
// that a version was sent twice.
func Stable(k Key, v ehr.Version) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	sub := hmac.New(sha256.New, k[:])
	sub.Write([]byte("outpost-seal-nonce/1"))
	mac := hmac.New(sha256.New, sub.Sum(nil))
	mac.Write(plain)
	return Seal(k, v, bytes.NewReader(mac.Sum(nil)))
}

// Open decrypts a sealed version that travelled as record, id and
// parents, and checks that what it holds is that version.
func Open(k Key, record, id string, parents []string, sealed []byte) (ehr.Version, error) {
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return ehr.Version{}, ErrOpen
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return ehr.Version{}, ErrOpen
	}
	nonce, box := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	z, err := aead.Open(nil, nonce, box, associated(record, id, parents))
	if err != nil {
		return ehr.Version{}, ErrOpen
	}
	zr, _ := gzReaders.Get().(*gzip.Reader)
	if zr == nil {
		zr = new(gzip.Reader)
	}
	defer gzReaders.Put(zr)
	if err := zr.Reset(bytes.NewReader(z)); err != nil {
		return ehr.Version{}, ErrOpen
	}
	plain, err := io.ReadAll(io.LimitReader(zr, MaxVersion+1))
	if err != nil || len(plain) > MaxVersion {
		return ehr.Version{}, ErrOpen
	}
	var v ehr.Version
	if err := json.Unmarshal(plain, &v); err != nil {
		return ehr.Version{}, ErrOpen
	}
	if v.RecordID != record || v.VersionID != id || !slices.Equal(v.Parents, parents) {
		return ehr.Version{}, ErrOpen
	}
	return v, nil
}
