package sync

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"outpost/backend/auth"
	"outpost/backend/syncproto"
)

// Registry is the clinic server's view of sign-in sessions across the
// clinic's laptops (S22, S34): an auth.SessionRegistry over a Client's
// signed requests (POST /v1/sessions). The server is told opaque keys
// only: the user as HMAC-SHA256 under the clinic key of a domain and the
// user's id, the session likewise from this laptop's session id. It
// never sees a username, a name, the laptop's own session id or any
// patient data, and cannot link a key to a person without the clinic
// key.
type Registry struct {
	c *Client
}

var _ auth.SessionRegistry = (*Registry)(nil)

// NewRegistry returns the registry of sessions over c (an enrolled
// laptop's client).
func NewRegistry(c *Client) *Registry { return &Registry{c: c} }

// Domains of the opaque keys.
const (
	userKeyDomain    = "outpost-session-user/1\n"
	sessionKeyDomain = "outpost-session-id/1\n"
)

func (r *Registry) opaque(domain, id string) string {
	m := hmac.New(sha256.New, r.c.Key[:])
	m.Write([]byte(domain))
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))
}

// UserKey is the opaque key the server knows a user by.
func (r *Registry) UserKey(userID string) string { return r.opaque(userKeyDomain, userID) }

func ttlSeconds(ttl time.Duration) int {
	return min(max(int(ttl/time.Second), syncproto.MinSessionTTL), syncproto.MaxSessionTTL)
}

func (r *Registry) do(ctx context.Context, op, userID, sessionID string, ttl time.Duration) (syncproto.SessionResponse, error) {
	req := syncproto.SessionRequest{Op: op, User: r.UserKey(userID), Session: r.opaque(sessionKeyDomain, sessionID)}
	if op != syncproto.SessionEnd {
		req.TTL = ttlSeconds(ttl)
	}
	var resp syncproto.SessionResponse
	err := r.c.call(ctx, http.MethodPost, syncproto.PathSessions, req, &resp)
	return resp, err
}

// Start registers a new session and returns the user's active sessions
// on every laptop, this one's marked.
func (r *Registry) Start(ctx context.Context, userID, sessionID string, ttl time.Duration) ([]auth.RemoteSession, error) {
	resp, err := r.do(ctx, syncproto.SessionStart, userID, sessionID, ttl)
	if err != nil {
		return nil, err
	}
	out := make([]auth.RemoteSession, 0, len(resp.Sessions))
	for _, s := range resp.Sessions {
		out = append(out, auth.RemoteSession{Device: s.Device, DeviceName: s.DeviceName, Started: s.Started, LastSeen: s.LastSeen,
			This: s.Device == r.c.Signer.Device})
	}
	return out, nil
}

// Touch says the session is in use.
func (r *Registry) Touch(ctx context.Context, userID, sessionID string, ttl time.Duration) error {
	_, err := r.do(ctx, syncproto.SessionTouch, userID, sessionID, ttl)
	return err
}

// End says the session ended or locked.
func (r *Registry) End(ctx context.Context, userID, sessionID string) error {
	_, err := r.do(ctx, syncproto.SessionEnd, userID, sessionID, 0)
	return err
}
