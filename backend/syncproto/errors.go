package syncproto

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Code is one of a small, closed set of error codes. Each has an HTTP
// status and a message that is safe to show to a user: it names no
// path, query, key, record or stack. The detail of a refusal stays in
// the server's log under the incident id.
type Code string

// The codes. A client branches on these, never on the message.
const (
	CodeBadRequest      Code = "bad_request"
	CodeUnauthenticated Code = "unauthenticated"
	CodeClockSkew       Code = "clock_skew"
	CodeReplayed        Code = "replayed"
	CodeRevoked         Code = "revoked"
	CodeEnrollRefused   Code = "enroll_refused"
	CodeNotFound        Code = "not_found"
	CodeTooLarge        Code = "too_large"
	CodeRateLimited     Code = "rate_limited"
	CodeUnavailable     Code = "unavailable"
	CodeInternal        Code = "internal"
	// CodeAuditRefused: an audit shipment does not continue the chain
	// the server holds for the device (docs/sync-protocol.md).
	CodeAuditRefused Code = "audit_refused"
)

type codeInfo struct {
	status  int
	message string
}

var codes = map[Code]codeInfo{
	CodeBadRequest: {http.StatusBadRequest,
		"The server did not understand the request. Update Outpost; if it keeps happening, give the incident id to the administrator."},
	CodeUnauthenticated: {http.StatusUnauthorized,
		"The server did not accept this device's signature. Ask the administrator whether this laptop is enrolled."},
	CodeClockSkew: {http.StatusUnauthorized,
		"This computer's clock differs from the server's by more than 5 minutes. Correct the date and time, then sync again."},
	CodeReplayed: {http.StatusUnauthorized,
		"The server already received this request. Sync again."},
	CodeRevoked: {http.StatusForbidden,
		"This laptop's enrollment was revoked. Its local data must be erased; ask the administrator."},
	CodeEnrollRefused: {http.StatusForbidden,
		"The enrollment was refused: the code may be mistyped, already used or expired. Ask the administrator for a new one."},
	CodeNotFound: {http.StatusNotFound,
		"There is nothing at this address on the server. Check the server address."},
	CodeTooLarge: {http.StatusRequestEntityTooLarge,
		"The request is too large for the server. Sync again; Outpost sends smaller parts."},
	CodeRateLimited: {http.StatusTooManyRequests,
		"The server is receiving too many requests. Outpost waits a moment and tries again."},
	CodeUnavailable: {http.StatusServiceUnavailable,
		"The server cannot take requests at the moment. Outpost tries again later."},
	CodeAuditRefused: {http.StatusConflict,
		"The clinic server refused this laptop's audit trail: it does not continue the copy the server holds. Tell the security officer."},
	CodeInternal: {http.StatusInternalServerError,
		"The server could not complete the request. Try again later; if it keeps happening, give the incident id to the administrator."},
}

// Codes returns every code, for tests and documentation.
func Codes() []Code {
	out := make([]Code, 0, len(codes))
	for c := range codes {
		out = append(out, c)
	}
	return out
}

// Known reports whether c is one of the codes.
func (c Code) Known() bool { _, ok := codes[c]; return ok }

// Status is the HTTP status the code travels with (500 for an unknown
// code).
func (c Code) Status() int {
	if i, ok := codes[c]; ok {
		return i.status
	}
	return http.StatusInternalServerError
}

// Message is the code's message, safe to show.
func (c Code) Message() string {
	if i, ok := codes[c]; ok {
		return i.message
	}
	return codes[CodeInternal].message
}

// Retryable reports whether the same work may succeed if tried again
// later, after a backoff (the request itself is signed anew).
func (c Code) Retryable() bool {
	switch c {
	case CodeRateLimited, CodeUnavailable, CodeInternal, CodeReplayed:
		return true
	}
	return false
}

// Error is a refusal as a client sees it.
type Error struct {
	Code     Code
	Message  string
	Incident string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Incident != "" {
		return fmt.Sprintf("sync: %s (incident %s)", e.Code, e.Incident)
	}
	return fmt.Sprintf("sync: %s", e.Code)
}

// Response returns the body the server sends for e.
func (e *Error) Response() ErrorResponse {
	return ErrorResponse{Code: e.Code, Message: e.Code.Message(), Incident: e.Incident}
}

// parseRetryAfter reads a Retry-After of whole seconds.
func parseRetryAfter(v string) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 86400 {
		return 0
	}
	return time.Duration(n) * time.Second
}
