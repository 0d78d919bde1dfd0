package syncproto

import (
	"regexp"
	"time"
)

// Sessions across devices (S22, S34; docs/sync-protocol.md, "Sessions
// across devices"). A laptop tells the server when a sign-in session
// starts, is still in use, and ends; the server answers the user's
// sessions active on every device of the clinic, so a laptop can count
// them against the session limit and notice a sign-in while the account
// is in use elsewhere. The server never learns who: the user is an
// opaque key (HMAC-SHA256 under the clinic key, which the server never
// has, of a domain and the user's id), the session an opaque id derived
// the same way from the laptop's own session id.

// PathSessions takes session operations (POST).
const PathSessions = "/v1/sessions"

// Session operations.
const (
	SessionStart = "start" // a new session; the answer lists the user's active sessions
	SessionTouch = "touch" // still in use (registers it again if the server forgot it)
	SessionEnd   = "end"   // ended or locked
)

// Session limits.
const (
	// MinSessionTTL and MaxSessionTTL bound a session's idle time in
	// seconds: the server forgets a session not touched for that long.
	MinSessionTTL = 60
	MaxSessionTTL = 24 * 60 * 60
	// MaxActiveSessions is the most sessions an answer lists.
	MaxActiveSessions = 50
)

// SessionRequest is the body of POST /v1/sessions.
type SessionRequest struct {
	Op      string `json:"op"`
	User    string `json:"user"`          // 64 lower-case hex: the opaque user key
	Session string `json:"session"`       // 64 lower-case hex: the opaque session id
	TTL     int    `json:"ttl,omitempty"` // seconds, for start and touch
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate checks a session request.
func (r SessionRequest) Validate() error {
	switch r.Op {
	case SessionStart, SessionTouch:
		if r.TTL < MinSessionTTL || r.TTL > MaxSessionTTL {
			return invalid("session ttl out of range")
		}
	case SessionEnd:
		if r.TTL != 0 {
			return invalid("session ttl on end")
		}
	default:
		return invalid("unknown session operation")
	}
	if !hex64.MatchString(r.User) || !hex64.MatchString(r.Session) {
		return invalid("malformed session or user key")
	}
	return nil
}

// ActiveSession is one session the server holds for a user.
type ActiveSession struct {
	Device     string    `json:"device"`
	DeviceName string    `json:"device_name"`
	Started    time.Time `json:"started"`
	LastSeen   time.Time `json:"last_seen"`
}

// SessionResponse answers a session operation: for start (and touch),
// the user's active sessions on every device, this one included, oldest
// first; for end, none.
type SessionResponse struct {
	Sessions   []ActiveSession `json:"sessions"`
	ServerTime time.Time       `json:"server_time"`
}
