package syncserver

// SessionStore keeps the sign-in sessions open across a clinic's
// devices (S22, S34).
type SessionStore interface{}
