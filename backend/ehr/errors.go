// Package ehr holds Outpost's domain types, their validation and the error
// type that crosses package boundaries. It depends on the standard library
// only, so every other package can use it.
package ehr

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error codes. Callers branch on these; users see them next to a message.
const (
	EInvalid   = "E_VALIDATION" // input failed validation; Fields says where
	EAuth      = "E_AUTH"       // wrong username or password
	ESession   = "E_SESSION"    // no session, or the session has ended
	EForbidden = "E_FORBIDDEN"  // the session may not do this
	ENotFound  = "E_NOT_FOUND"  // no such record
	EConflict  = "E_CONFLICT"   // the record changed since it was read
	EKeyring   = "E_KEYRING"    // the OS keyring is missing or has no key
	EVault     = "E_VAULT"      // the encrypted database cannot be used
	EInternal  = "E_INTERNAL"   // anything else; details stay in the log

	ELocked     = "E_LOCKED"     // the session is locked: the user must unlock it
	ERestricted = "E_RESTRICTED" // the chart is restricted: emergency access only
	EPassword   = "E_PASSWORD"   // a new password must be set first
	EMFA        = "E_MFA"        // the second factor (or its enrolment) is due
)

// Error is the one error type with a code and a message that is safe to
// show a user. Err keeps the technical cause for the log; it is never shown.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string // field name -> message, for EInvalid
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	b.WriteString(": ")
	b.WriteString(e.Message)
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "; %s: %s", k, e.Fields[k])
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with a safe message that keeps err as its cause.
func Wrap(code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the safe message of the first *Error in err's chain,
// and a generic message for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong. Try again; if it happens again, tell your administrator the incident id."
}

// ErrorFields returns the field messages of the first *Error in err's chain.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Invalid collects field-level validation messages.
type Invalid map[string]string

// Add records msg for field unless the field already has a message.
func (v Invalid) Add(field, msg string) {
	if _, ok := v[field]; !ok {
		v[field] = msg
	}
}

// Err returns nil when nothing was added, else an EInvalid *Error.
func (v Invalid) Err() error {
	if len(v) == 0 {
		return nil
	}
	return &Error{Code: EInvalid, Message: "Some fields need attention.", Fields: map[string]string(v)}
}
