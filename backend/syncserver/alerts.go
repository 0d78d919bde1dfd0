package syncserver

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// The server's alert list (S35): what the clinic's security officer must
// hear of. Every alert names its kind, clinic, device and time, and
// carries a message the server chooses for the kind: never patient data,
// never text a device sent. Each new alert also goes to the webhook,
// when one is configured.

// Kinds of alert the server raises itself.
const (
	// AlertAuditRefused: a device's audit shipment did not continue
	// the chain the server holds, or its checkpoint did not verify.
	AlertAuditRefused = "audit-chain-broken"
	// AlertRevokedDevice: a revoked device tried to sync.
	AlertRevokedDevice = "revoked-device"
)

// deviceAlertMessages are the server's words for the kinds of alert a
// laptop raises (backend/audit); a device ships only the kind and time.
var deviceAlertMessages = map[string]string{
	"lockout":              "A laptop locked an account after repeated failed sign-ins.",
	"break-glass":          "A laptop recorded an emergency (break-glass) access to a restricted chart.",
	"concurrent-session":   "An account signed in on a laptop while active on another workstation.",
	"account-disabled":     "A laptop disabled an account after a long time without sign-in.",
	"audit-failure":        "A laptop could not write an audit event, and refused the action.",
	"audit-integrity":      "A laptop found that its own audit trail does not verify.",
	"audit-unshipped":      "A laptop's audit trail had not been copied off it for more than 7 days.",
	"sync-tampered":        "A laptop found a version held by this server that does not open with the clinic key.",
	"sync-mismatch":        "A laptop found this server holds a different version under an id it wrote.",
	"sync-server-restored": "A laptop found this server holds fewer versions than it had already received (restored from an older backup?) and sent back everything it holds.",
	"audit-refused":        "This server refused a laptop's audit shipment: the laptop's chain does not continue the copy held here.",
	"audit-receipt":        "A laptop found a receipt from this server that does not verify.",
	"audit-receipt-key":    "A laptop found this server's receipt key changed since it was pinned.",
	"duplicate-account":    "Two laptops created an account with the same username while offline; the newer one was renamed and disabled.",
}

// DeviceAlertMessage returns the server's message for a kind of alert a
// device shipped.
func DeviceAlertMessage(kind string) string {
	if m, ok := deviceAlertMessages[kind]; ok {
		return m
	}
	return "A laptop raised a security alert of kind " + kind + "."
}

// quietFor: the same alert of a device (a revoked device knocking again
// and again, a laptop sending the same broken shipment at every sync) is
// raised once in this time.
const quietFor = time.Hour

// alerter raises alerts in the store and hands new ones to the webhook.
type alerter struct {
	store  Store
	notify func(Alert)
	mu     sync.Mutex
	recent map[string]time.Time // device, kind and message -> when last raised
}

// raise stores a and, when it is new, notifies the webhook. A failure is
// returned for the caller to log; the request it came from goes on.
func (al *alerter) raise(ctx context.Context, a Alert) (Alert, error) {
	a.At = a.At.UTC().Truncate(time.Millisecond)
	stored, isNew, err := al.store.RaiseAlert(ctx, a)
	if err != nil {
		return a, fmt.Errorf("raise alert %s: %w", a.Kind, err)
	}
	if isNew && al.notify != nil {
		al.notify(stored)
	}
	return stored, nil
}

// due reports whether a's like was not raised within quietFor, and
// notes it raised now.
func (al *alerter) due(a Alert, now time.Time) bool {
	key := a.Device + "\n" + a.Kind + "\n" + a.Message
	al.mu.Lock()
	defer al.mu.Unlock()
	if al.recent == nil || len(al.recent) > 10_000 {
		al.recent = map[string]time.Time{}
	}
	if last, ok := al.recent[key]; ok && now.Sub(last) < quietFor {
		return false
	}
	al.recent[key] = now
	return true
}

// raiseQuietly raises a unless its like was raised within quietFor; a
// failure is logged.
func (s *Server) raiseQuietly(ctx context.Context, a Alert) {
	if !s.alerts.due(a, a.At) {
		return
	}
	if _, err := s.alerts.raise(ctx, a); err != nil {
		s.log.Error("alert", "device", a.Device, "kind", a.Kind, "cause", err.Error())
	}
}

// refusedRevoked raises AlertRevokedDevice for d (ServeHTTP calls it when
// it refuses a revoked device).
func (s *Server) refusedRevoked(ctx context.Context, d Device) {
	s.raiseQuietly(ctx, Alert{Kind: AlertRevokedDevice, Source: AlertFromServer, Clinic: d.Clinic, Device: d.ID, At: s.now(),
		Message: "A revoked laptop tried to sync; it was refused and told to erase its data."})
}
