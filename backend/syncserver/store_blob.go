package syncserver

import (
	"context"
	"time"
)

// BlobStore keeps document contents (docs/sync-protocol.md, "Document
// contents"): per blob exactly the clinic, its opaque id (which a laptop
// derives with the clinic key), the size, the ciphertext, the device that
// sent it and when. Never a file name, a type or a checksum of the
// contents; nothing it holds opens a blob.
type BlobStore interface {
	// PutBlob stores b for an active device of its clinic (ErrRevoked or
	// ErrNotFound otherwise), idempotent by (clinic, id): the same
	// ciphertext stored before is syncproto.BlobDuplicate, other
	// ciphertext under the id is syncproto.BlobMismatch and changes
	// nothing, else syncproto.BlobStored. b arrives validated.
	PutBlob(ctx context.Context, b Blob) (status string, err error)
	// Blob returns one blob of clinic, or ErrNotFound.
	Blob(ctx context.Context, clinic, id string) (Blob, error)
	// MissingBlobs returns those of ids clinic does not hold, in the
	// order given.
	MissingBlobs(ctx context.Context, clinic string, ids []string) ([]string, error)
}

// Blob is one stored blob.
type Blob struct {
	Clinic string
	ID     string
	Device string
	Stored time.Time
	Sealed []byte
}

// Size is the ciphertext's length, as stored.
func (b Blob) Size() int { return len(b.Sealed) }
