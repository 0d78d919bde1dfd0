package syncproto

// Document contents (docs/sync-protocol.md, "Document contents"). A
// document version names its bytes by their SHA-256; the bytes travel
// apart from the version, as a blob: sealed by the laptop with the clinic
// key, stored and served by the server under an opaque id the laptop
// derives from the clinic key and the SHA-256 (so the server cannot test
// whether a file it knows is stored). The server keeps the clinic, the
// id, the size, the ciphertext, the device that sent it and when; never
// a file name, a type or a checksum of the contents.

// Paths of blobs: POST PathBlobs uploads one blob (BlobPut), GET
// PathBlobs?id=X fetches one (BlobResponse), POST PathBlobsMissing says
// which of a list of ids the server lacks (BlobsMissingRequest).
const (
	PathBlobs        = "/v1/blobs"
	PathBlobsMissing = "/v1/blobs/missing"
)

// Blob limits.
const (
	// MaxBlobSealed is the largest sealed blob: a 20 MB document, the
	// 24-byte nonce and the 16-byte tag, and some room.
	MaxBlobSealed = 20<<20 + 4<<10
	// MaxBlobDecoded is the largest blob body (upload or answer) once
	// decompressed: the sealed bytes in base64 and the JSON around them.
	MaxBlobDecoded = MaxBlobSealed/3*4 + 8<<10
	// MaxBlobBody is the largest blob upload as sent (compressed): gzip
	// of base64 of ciphertext is about three quarters of the base64, and
	// never much more than it.
	MaxBlobBody = MaxBlobDecoded + 64<<10
	// MaxBlobQuery is the most ids one missing-blobs question holds.
	MaxBlobQuery = 100
)

// Blob statuses of a BlobPutResponse, as for versions.
const (
	BlobStored    = PushStored    // new, now stored
	BlobDuplicate = PushDuplicate // the same ciphertext was stored under this id before
	BlobMismatch  = PushMismatch  // other ciphertext is stored under this id: nothing changed
)

// BlobPut is the body of POST /v1/blobs: one sealed blob under its
// opaque id. Idempotent: the same id with the same bytes is a duplicate.
type BlobPut struct {
	ID     string `json:"id"`     // 64 lower-case hex
	Sealed []byte `json:"sealed"` // base64 in JSON
}

// BlobPutResponse answers an upload.
type BlobPutResponse struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// BlobResponse answers GET /v1/blobs?id=X: Found false (and no bytes)
// when the server does not hold the blob, which is no error: the laptop
// that wrote the document has not sent it yet.
type BlobResponse struct {
	ID     string `json:"id"`
	Found  bool   `json:"found"`
	Sealed []byte `json:"sealed,omitempty"`
}

// BlobsMissingRequest is the body of POST /v1/blobs/missing.
type BlobsMissingRequest struct {
	IDs []string `json:"ids"`
}

// BlobsMissingResponse lists the asked ids the server does not hold, in
// the order asked.
type BlobsMissingResponse struct {
	Missing []string `json:"missing"`
}

// ValidBlobID says whether id has the form of a blob id: 64 lower-case
// hex digits.
func ValidBlobID(id string) bool { return hex64.MatchString(id) }

// Validate checks an upload: a well-formed id, and sealed bytes present
// and at most MaxBlobSealed.
func (b BlobPut) Validate() error {
	if !ValidBlobID(b.ID) {
		return invalid("malformed blob id")
	}
	if len(b.Sealed) == 0 || len(b.Sealed) > MaxBlobSealed {
		return invalid("sealed blob size %d", len(b.Sealed))
	}
	return nil
}

// Validate checks a missing-blobs question: 1 to MaxBlobQuery distinct,
// well-formed ids.
func (q BlobsMissingRequest) Validate() error {
	if len(q.IDs) == 0 || len(q.IDs) > MaxBlobQuery {
		return invalid("a question holds 1 to %d blob ids, not %d", MaxBlobQuery, len(q.IDs))
	}
	seen := make(map[string]struct{}, len(q.IDs))
	for i, id := range q.IDs {
		if !ValidBlobID(id) {
			return invalid("blob id %d malformed", i)
		}
		if _, dup := seen[id]; dup {
			return invalid("blob id %d repeated", i)
		}
		seen[id] = struct{}{}
	}
	return nil
}
