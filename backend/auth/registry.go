package auth

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Sessions across devices (S22, S34). A laptop enrolled with the clinic
// server tells it about its sign-in sessions through a SessionRegistry
// (backend/sync implements it over signed requests): the server learns
// only an opaque key per user and an opaque id per session, and answers
// the user's sessions active on every laptop. A sign-in asks it before
// the session is usable: over the limit with the other laptops' sessions
// counted, the sign-in is refused as the local limit refuses it; active
// on another laptop, the sign-in is audited and alerted. When the server
// cannot be reached within the registry timeout, the local rules alone
// apply and the sign-in's audit event says so.

// RemoteSession is a session the clinic server knows of.
type RemoteSession struct {
	Device     string // the laptop's device id at the server
	DeviceName string
	Started    time.Time
	LastSeen   time.Time
	This       bool // on this laptop
}

// SessionRegistry keeps a clinic's sessions across its laptops. ttl is
// the idle time: the server forgets a session not touched for that long.
type SessionRegistry interface {
	// Start registers a new session and returns the user's active
	// sessions on every laptop, this one included.
	Start(ctx context.Context, userID, sessionID string, ttl time.Duration) ([]RemoteSession, error)
	// Touch says the session is still in use (registering it again if
	// the server forgot it).
	Touch(ctx context.Context, userID, sessionID string, ttl time.Duration) error
	// End says the session ended or locked.
	End(ctx context.Context, userID, sessionID string) error
}

// DefaultRegistryTimeout bounds every call to the registry: a sign-in
// never waits longer for the server.
const DefaultRegistryTimeout = 3 * time.Second

// remoteTouchEvery limits how often a session in use is touched at the
// server.
const remoteTouchEvery = time.Minute

// SetRegistry sets the registry of sessions across devices (nil: local
// rules only), and how long a call to it may take (zero:
// DefaultRegistryTimeout). The app sets it once the laptop is enrolled
// with a clinic server, which may be after the Service was made.
func (s *Service) SetRegistry(r SessionRegistry, timeout time.Duration) {
	if timeout <= 0 {
		timeout = DefaultRegistryTimeout
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registry, s.regTimeout = r, timeout
	s.regTouched = map[string]time.Time{}
}

func (s *Service) sessionRegistry() (SessionRegistry, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registry, s.regTimeout
}

// remoteCheck is what the server said at a sign-in.
type remoteCheck struct {
	asked   bool            // a registry is set and was asked
	err     error           // the server could not be reached or refused
	others  []RemoteSession // active sessions on other laptops
	started bool            // the server holds the new session
}

// startRemote registers a new session at the server, within the
// registry timeout.
func (s *Service) startRemote(ctx context.Context, u User, sessionID string, ttl time.Duration) remoteCheck {
	reg, timeout := s.sessionRegistry()
	if reg == nil {
		return remoteCheck{}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	all, err := reg.Start(ctx, u.ID, sessionID, ttl)
	if err != nil {
		return remoteCheck{asked: true, err: err}
	}
	rc := remoteCheck{asked: true, started: true}
	for _, r := range all {
		if !r.This {
			rc.others = append(rc.others, r)
		}
	}
	s.mu.Lock()
	if s.regTouched != nil {
		s.regTouched[sessionID] = s.now()
	}
	s.mu.Unlock()
	return rc
}

// endRemote ends a session at the server. wait: in the caller's time
// (a refused sign-in); otherwise in the background.
func (s *Service) endRemote(userID, sessionID string, wait bool) {
	reg, timeout := s.sessionRegistry()
	if reg == nil {
		return
	}
	s.mu.Lock()
	delete(s.regTouched, sessionID)
	s.mu.Unlock()
	run := func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_ = reg.End(ctx, userID, sessionID) // the server forgets it after its idle time anyway
	}
	if wait {
		run()
		return
	}
	go run()
}

// touchRemote tells the server a session is in use, at most once a
// minute per session, in the background.
func (s *Service) touchRemote(userID, sessionID string, ttl time.Duration, force bool) {
	reg, timeout := s.sessionRegistry()
	if reg == nil {
		return
	}
	now := s.now()
	s.mu.Lock()
	if !force && now.Sub(s.regTouched[sessionID]) < remoteTouchEvery {
		s.mu.Unlock()
		return
	}
	s.regTouched[sessionID] = now
	s.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_ = reg.Touch(ctx, userID, sessionID, ttl)
	}()
}

// deviceNames names the laptops of remote sessions for an audit event
// ("Ward laptop (4f2a…)"), each once.
func deviceNames(rs []RemoteSession) string {
	var names []string
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Device] {
			continue
		}
		seen[r.Device] = true
		id := r.Device
		if len(id) > 8 {
			id = id[:8]
		}
		names = append(names, fmt.Sprintf("%s (device %s)", r.DeviceName, id))
	}
	return strings.Join(names, ", ")
}
