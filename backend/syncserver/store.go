package syncserver

import (
	"context"
	"crypto/ed25519"
	"errors"
	"time"
)

// Store is everything the server keeps. The embedded default is one
// SQLite file (backend/syncserver/sqlite); a PostgreSQL store can take
// its place by passing the same contract tests (backend/syncserver/storetest).
//
// Per version a store keeps exactly: clinic, record id, version id,
// parents, server sequence number, device, size and ciphertext. It
// never holds a clinic key, and nothing it holds decrypts a record.
// Audit shipments (AuditStore) and sessions across devices
// (SessionStore) and document contents (BlobStore) are declared in
// their own files.
type Store interface {
	AuditStore
	SessionStore
	BlobStore

	// CreateClinic adds a clinic with head 0; ErrExists if its id is taken.
	CreateClinic(ctx context.Context, c Clinic) error
	// Clinic returns one clinic, or ErrNotFound.
	Clinic(ctx context.Context, id string) (Clinic, error)
	// Clinics returns every clinic, by id.
	Clinics(ctx context.Context) ([]Clinic, error)

	// AddToken stores an enrollment token's hash for a clinic that
	// exists (ErrNotFound otherwise); ErrExists if the hash is stored.
	AddToken(ctx context.Context, t Token) error
	// Enroll spends the token with this hash and adds d (its ID,
	// Clinic unset, Name, PublicKey) as an active device of the token's
	// clinic, at now, in one transaction. The token must exist, be
	// unspent and not expired at now: otherwise ErrTokenRefused, and
	// nothing changes. A token already spent on this same device (same
	// id and key, still active) returns that device again, so a client
	// may retry an enrollment whose answer it lost. A device id that is
	// already enrolled is ErrTokenRefused too.
	Enroll(ctx context.Context, tokenHash [32]byte, d Device, now time.Time) (Device, error)

	// Device returns one device, or ErrNotFound.
	Device(ctx context.Context, id string) (Device, error)
	// Devices returns every device, by clinic then enrollment time.
	Devices(ctx context.Context) ([]Device, error)
	// Revoke marks a device revoked at at (ErrNotFound if unknown); it
	// is never active again. Revoking a revoked device changes nothing.
	Revoke(ctx context.Context, id string, at time.Time) error
	// Touch records that the device was last seen at at.
	Touch(ctx context.Context, id string, at time.Time) error

	// Push stores the versions as pushed by device (which must be an
	// active device of clinic: ErrRevoked or ErrNotFound otherwise), in
	// one transaction, idempotent by (clinic, version id): a new version
	// gets the clinic's next sequence number; one stored before with the
	// same record, parents and ciphertext is a duplicate; one stored
	// before with anything different is a mismatch and changes nothing.
	// The results are in the order of vs; head is the clinic's newest
	// sequence number after the push. Versions arrive validated.
	Push(ctx context.Context, clinic, device string, vs []Version) (results []PushResult, head int64, err error)
	// Pull returns the clinic's versions with sequence numbers above
	// after, in order: at most limit, and no more than maxBytes of
	// ciphertext except that the first is always returned. head is the
	// clinic's newest sequence number, read in the same snapshot.
	Pull(ctx context.Context, clinic string, after int64, limit int, maxBytes int64) (vs []Version, head int64, err error)

	Close() error
}

// Errors a store returns for callers to branch on.
var (
	ErrNotFound     = errors.New("syncserver: not found")
	ErrExists       = errors.New("syncserver: already exists")
	ErrTokenRefused = errors.New("syncserver: enrollment token refused")
	ErrRevoked      = errors.New("syncserver: device revoked")
)

// Clinic is one clinic the server holds versions for.
type Clinic struct {
	ID      string
	Name    string
	Created time.Time
	Head    int64 // newest sequence number, 0 when empty
}

// Token is a stored enrollment token: its hash only.
type Token struct {
	Hash    [32]byte
	Clinic  string
	Created time.Time
	Expires time.Time
}

// Device is one enrolled laptop.
type Device struct {
	ID        string
	Clinic    string
	Name      string
	PublicKey ed25519.PublicKey
	Status    string // syncproto.StatusActive or StatusRevoked
	Enrolled  time.Time
	Revoked   time.Time // zero while active
	LastSeen  time.Time // zero until its first request after enrollment
}

// Version is one stored version. Seq and Device are the server's.
type Version struct {
	Record  string
	ID      string
	Parents []string
	Seq     int64
	Device  string
	Sealed  []byte
}

// Size is the ciphertext's length, as stored.
func (v Version) Size() int { return len(v.Sealed) }

// PushResult says what became of one pushed version: its status is one
// of syncproto.PushStored, PushDuplicate or PushMismatch, and Seq the
// sequence number it is (or was already) stored under.
type PushResult struct {
	ID     string
	Seq    int64
	Status string
}
