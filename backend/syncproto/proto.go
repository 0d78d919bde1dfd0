// Package syncproto is the sync protocol shared by the desktop client
// (backend/sync) and the clinic server (backend/syncserver): the wire
// types, the closed set of error codes, the request-signing scheme and
// the compressed bodies. It depends on the standard library only, so the
// server can link it without linking anything that sees patient data.
//
// The protocol is described for other implementers in
// docs/sync-protocol.md; keep the two in step.
package syncproto

import (
	"time"
)

// Protocol names this version of the protocol; it starts every signed
// message, so a signature made for one version never verifies in another.
const Protocol = "outpost-sync/1"

// Paths served. Only PathHealth is answered without a device signature.
const (
	PathHealth = "/health"
	PathEnroll = "/v1/enroll"
	PathPush   = "/v1/push"
	PathPull   = "/v1/pull"
	PathStatus = "/v1/status"
)

// Limits every implementation keeps. A server may be configured lower,
// never higher: a client that stays within these is always understood.
const (
	// MaxSkew is how far a request's Outpost-Time may be from the
	// server's clock, either way.
	MaxSkew = 5 * time.Minute
	// MaxSealed is the largest sealed version: a 20 MB document with its
	// envelope and some room.
	MaxSealed = 24 << 20
	// MaxBatch is the most versions one push may carry.
	MaxBatch = 1000
	// MaxPushBody is the largest push body as sent (compressed).
	MaxPushBody = 40 << 20
	// MaxDecodedBody is the largest body once decompressed: a push of one
	// MaxSealed version in base64 fits, a decompression bomb does not.
	MaxDecodedBody = 48 << 20
	// MaxSmallBody is the largest body of an enrollment (and of any
	// request that is not a push).
	MaxSmallBody = 8 << 10
	// DefaultPullLimit and MaxPullLimit bound the versions in one page.
	DefaultPullLimit = 500
	MaxPullLimit     = 1000
	// MaxPageBytes is the ciphertext a pull page holds at most, except
	// that a page always holds at least one version.
	MaxPageBytes = 16 << 20
	// MaxParents is the most parents a version may name (one, or two
	// after a merge, in practice).
	MaxParents = 16
	// MaxIDLength bounds record and version ids.
	MaxIDLength = 64
	// MaxNameLength bounds a device's name.
	MaxNameLength = 100
	// TokenTTL is how long an enrollment token stays valid.
	TokenTTL = 24 * time.Hour
)

// Version is one record version as it travels: routing metadata in the
// clear, the record itself sealed by the client with the clinic key,
// which the server never has. The server stores exactly these fields and
// the ones it assigns (Seq, Device), and nothing else.
type Version struct {
	Record  string   `json:"record"`
	ID      string   `json:"id"`
	Parents []string `json:"parents,omitempty"`
	Sealed  []byte   `json:"sealed"` // base64 in JSON
	// Set by the server in a pull; ignored in a push.
	Seq    int64  `json:"seq,omitempty"`
	Device string `json:"device,omitempty"`
}

// PushRequest is the body of POST /v1/push: up to MaxBatch versions.
// A push is idempotent by version id: pushing a batch again, or any
// part of it, stores nothing twice.
type PushRequest struct {
	Versions []Version `json:"versions"`
}

// Push statuses, one per version in a PushResponse.
const (
	// PushStored: the version is new and now has sequence number Seq.
	PushStored = "stored"
	// PushDuplicate: the same version (same record, parents and sealed
	// bytes) was stored before, under Seq. Nothing changed.
	PushDuplicate = "duplicate"
	// PushMismatch: a different version with this id was stored before,
	// under Seq. Nothing changed; the client has a bug or was tampered
	// with, and should alert rather than retry.
	PushMismatch = "mismatch"
)

// PushResult says what became of one pushed version.
type PushResult struct {
	ID     string `json:"id"`
	Seq    int64  `json:"seq"`
	Status string `json:"status"`
}

// PushResponse answers a push: one result per version, in the order
// sent, and the clinic's newest sequence number after it.
type PushResponse struct {
	Results []PushResult `json:"results"`
	Head    int64        `json:"head"`
}

// PullResponse answers GET /v1/pull?after=N&limit=M: the clinic's
// versions with sequence numbers above N, in order, at most M (and at
// most MaxPageBytes of ciphertext, but at least one). Next is the cursor
// for the next page (the last Seq here, or N when the page is empty);
// More says whether the clinic has versions after Next.
type PullResponse struct {
	Versions []Version `json:"versions"`
	Next     int64     `json:"next"`
	More     bool      `json:"more"`
	Head     int64     `json:"head"`
}

// EnrollRequest is the body of POST /v1/enroll. The request is signed
// with the private half of PublicKey, and its Outpost-Device header must
// be DeviceID(PublicKey): the device proves it holds the key it enrolls.
type EnrollRequest struct {
	Token     string `json:"token"`
	PublicKey []byte `json:"public_key"` // Ed25519, 32 bytes; base64 in JSON
	Name      string `json:"name"`
}

// EnrollResponse answers an enrollment. Enrolling again with the same
// token and the same key (a retry after a lost answer) gets the same
// answer; any other reuse of a token is refused.
type EnrollResponse struct {
	Device     string    `json:"device"`
	Clinic     string    `json:"clinic"`
	ClinicName string    `json:"clinic_name"`
	ServerTime time.Time `json:"server_time"`
}

// Device statuses.
const (
	StatusActive  = "active"
	StatusRevoked = "revoked"
)

// StatusResponse answers GET /v1/status. A revoked device gets Erase:
// it must remove its vault's key and overwrite its vault.
type StatusResponse struct {
	Device     string    `json:"device"`
	Clinic     string    `json:"clinic"`
	Status     string    `json:"status"`
	Erase      bool      `json:"erase,omitempty"`
	Head       int64     `json:"head"`
	ServerTime time.Time `json:"server_time"`
}

// HealthResponse answers GET /health: nothing but that the server runs.
type HealthResponse struct {
	Status string `json:"status"`
}

// ErrorResponse is the body of every refusal: a code from the closed set,
// its message (safe to show), and an incident id matching the server's
// log line, which holds the detail.
type ErrorResponse struct {
	Code     Code   `json:"code"`
	Message  string `json:"message"`
	Incident string `json:"incident,omitempty"`
}
