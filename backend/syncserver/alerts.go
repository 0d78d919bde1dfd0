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
	"lockout":            "A laptop locked an account after repeated failed sign-ins.",
	"break-glass":        "A laptop recorded an emergency (break-glass) access to a restricted chart.",
	"concurrent-session": "An account signed in on a laptop while active on another workstation.",
	"account-disabled":   "A laptop disabled an account after a long time without sign-in.",
	"audit-failure":      "A laptop could not write an audit event, and refused the action.",
	"audit-integrity":    "A laptop found that its own audit trail does not verify.",
	"audit-unshipped":    "A laptop's audit trail had not been copied off it for more than 7 days.",
	"sync-tampered":      "A laptop found a version held by this server that does not open with the clinic key.",
	"sync-mismatch":      "A laptop found this server holds a different version under an id it wrote.",
}

// DeviceAlertMessage returns the server's message for a kind of alert a
// device shipped.
func DeviceAlertMessage(kind string) string {
	if m, ok := deviceAlertMessages[kind]; ok {
		return m
	}
	return "A laptop raised a security alert of kind " + kind + "."
}

// revokedEvery: a revoked device knocking again and again raises one
// alert an hour.
const revokedEvery = time.Hour

// alerter raises alerts in the store and hands new ones to the webhook.
type alerter struct {
	store   Store
	notify  func(Alert)
	mu      sync.Mutex
	revoked map[string]time.Time // device -> the last alert of its knocking
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

// revokedKnock reports whether a revoked device's request should raise
// an alert now (at most one per revokedEvery).
func (al *alerter) revokedKnock(device string, now time.Time) bool {
	al.mu.Lock()
	defer al.mu.Unlock()
	if al.revoked == nil {
		al.revoked = map[string]time.Time{}
	}
	if last, ok := al.revoked[device]; ok && now.Sub(last) < revokedEvery {
		return false
	}
	if len(al.revoked) > 10_000 {
		clear(al.revoked)
	}
	al.revoked[device] = now
	return true
}

// refusedRevoked raises AlertRevokedDevice for d (ServeHTTP calls it when
// it refuses a revoked device).
func (s *Server) refusedRevoked(ctx context.Context, d Device) {
	now := s.now()
	if !s.alerts.revokedKnock(d.ID, now) {
		return
	}
	_, err := s.alerts.raise(ctx, Alert{Kind: AlertRevokedDevice, Source: AlertFromServer, Clinic: d.Clinic, Device: d.ID, At: now,
		Message: "A revoked laptop tried to sync; it was refused and told to erase its data."})
	if err != nil {
		s.log.Error("alert", "device", d.ID, "cause", err.Error())
	}
}
