package syncserver

import (
	"context"
	"time"
)

// SessionStore keeps the sign-in sessions open across a clinic's
// devices (S22, S34). A session is named by opaque keys only (the user
// key and session id a laptop derives with the clinic key, which the
// server never has): the store learns neither who signed in nor the
// laptop's own session id.
type SessionStore interface {
	// PutSession records that device (active, of clinic) has session s
	// open: a new session starts at s.LastSeen; a known one (same clinic,
	// user key and session id, started by the same device) keeps its
	// start and moves its last-seen time and expiry. A session id held
	// by another device is ErrExists and changes nothing.
	PutSession(ctx context.Context, s Session) error
	// EndSession forgets a session of device; an unknown or already
	// ended one changes nothing.
	EndSession(ctx context.Context, clinic, user, session, device string) error
	// ActiveSessions returns the user's sessions in clinic that expire
	// after now, oldest first, at most limit, with their device's name;
	// sessions of revoked devices are left out.
	ActiveSessions(ctx context.Context, clinic, user string, now time.Time, limit int) ([]Session, error)
	// PurgeSessions forgets every session that expired at or before now
	// and returns how many.
	PurgeSessions(ctx context.Context, now time.Time) (int, error)
}

// Session is one sign-in session open on a device.
type Session struct {
	Clinic     string
	User       string // opaque user key
	ID         string // opaque session id
	Device     string
	DeviceName string // filled by ActiveSessions
	Started    time.Time
	LastSeen   time.Time
	Expires    time.Time
}
