package seal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Blobs (document contents) travel apart from their versions
// (docs/sync-protocol.md, "Document contents"). The server knows a blob
// by an opaque id only: HMAC-SHA-256, under a subkey of the clinic key,
// of the contents' SHA-256, so without the clinic key nobody can tell
// whether a file they hold is stored. The contents are sealed with
// XChaCha20-Poly1305 under the clinic key with the id as associated
// data, so a blob moved under another id does not open. They are not
// compressed (PDF, PNG and JPEG mostly are already, and compressing
// before encrypting would leak through the size).

// ErrBlob is returned for every sealed blob that does not open under its
// id, and for opened bytes that are not the contents named.
var ErrBlob = errors.New("seal: the document content does not open with the clinic key")

// subkey derives a key for one purpose from k.
func subkey(k Key, domain string) []byte {
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(domain))
	return m.Sum(nil)
}

// BlobID returns the opaque id (64 lower-case hex) under which the
// server keeps the contents whose SHA-256 is sha (lower-case hex).
func BlobID(k Key, sha string) string {
	m := hmac.New(sha256.New, subkey(k, "outpost-blob-id/1"))
	m.Write([]byte("outpost-blob/1\n" + sha))
	return hex.EncodeToString(m.Sum(nil))
}

func blobAD(id string) []byte { return []byte("outpost-blob/1\n" + id) }

// SealBlob seals data (whose SHA-256 is sha) for the server under
// BlobID(k, sha), which it returns too. The nonce is derived from the
// key and the contents, so the same contents always seal to the same
// bytes: an upload retried after a lost answer is a duplicate.
func SealBlob(k Key, sha string, data []byte) (id string, sealed []byte, err error) {
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != sha {
		return "", nil, fmt.Errorf("seal blob: %w", ErrBlob)
	}
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return "", nil, fmt.Errorf("seal blob: %w", err)
	}
	id = BlobID(k, sha)
	m := hmac.New(sha256.New, subkey(k, "outpost-blob-nonce/1"))
	m.Write(sum[:])
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(data)+aead.Overhead())
	copy(out, m.Sum(nil)) // 24 of its 32 bytes
	return id, aead.Seal(out, out, data, blobAD(id)), nil
}

// OpenBlob opens a blob fetched for the contents whose SHA-256 is sha,
// and checks that what it holds are those contents: ErrBlob otherwise
// (tampered, swapped for another blob, or from another clinic).
func OpenBlob(k Key, sha string, sealed []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil || len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrBlob
	}
	data, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], blobAD(BlobID(k, sha)))
	if err != nil {
		return nil, ErrBlob
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha {
		return nil, ErrBlob
	}
	return data, nil
}
