package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Alerts the audit trail raises about itself (S35).
const (
	AlertAuditFailure = "audit-failure"   // an event could not be written: its action was refused
	AlertIntegrity    = "audit-integrity" // the chain does not verify
)

// failed tells OnFailure, without waiting, and returns err.
func (l *Log) failed(err error) error {
	if l.OnFailure != nil && !errors.Is(err, context.Canceled) {
		go l.OnFailure(err)
	}
	return err
}

// RaiseOnce stores an alert of kind in a transaction of its own, unless
// one of that kind is still open (not acknowledged). It reports whether
// it raised one.
func (a *Alerts) RaiseOnce(ctx context.Context, db *sql.DB, kind, message string) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("raise alert: %w", err)
	}
	defer tx.Rollback()
	var open int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM alerts WHERE kind = ? AND acknowledged_by = ''", kind).Scan(&open); err != nil {
		return false, fmt.Errorf("raise alert: %w", err)
	}
	if open > 0 {
		return false, nil
	}
	if err := a.Raise(ctx, tx, kind, message, "", ""); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// FailureAlarm returns an OnFailure hook that raises AlertAuditFailure
// (once while it is open). report, when set, hears what could not even be
// raised: the vault itself may be failing.
func FailureAlarm(db *sql.DB, alerts *Alerts, report func(error)) func(error) {
	// The alert is not audited: the audit trail is what failed.
	quiet := &Alerts{Now: alerts.Now, IDs: alerts.IDs}
	return func(cause error) {
		_, err := quiet.RaiseOnce(context.Background(), db, AlertAuditFailure,
			"An action was refused because its audit event could not be written. Check the laptop's disk space and run outpost-admin check; tell the security officer.")
		if err != nil && report != nil {
			report(fmt.Errorf("%w (while raising the alert for: %v)", err, cause))
		}
	}
}

// CheckIntegrity verifies the vault's whole chain (reading through r) and
// raises AlertIntegrity (once while it is open, writing through w) when
// it does not verify. Errors other than a broken chain (a closed vault)
// are returned, not alerted.
func CheckIntegrity(ctx context.Context, r, w *sql.DB, alerts *Alerts) (Report, error) {
	rep, err := VerifyVault(ctx, r)
	var be *BreakError
	if !errors.As(err, &be) {
		return rep, err
	}
	msg := fmt.Sprintf("The audit trail of this laptop does not verify: %s. Export it (outpost-admin audit export) for the auditor and tell the security officer.", be.Error())
	if _, rerr := alerts.RaiseOnce(ctx, w, AlertIntegrity, msg); rerr != nil {
		return rep, rerr
	}
	return rep, err
}
