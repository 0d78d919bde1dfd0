package audit_test

import (
	"errors"
	"testing"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

func TestCheckIntegrityAlertsOnce(t *testing.T) {
	tr := newTrail(t)
	alerts := &audit.Alerts{Now: tr.clock.Now, IDs: ehr.NewIDs()}
	tr.record(t, 20)
	if rep, err := audit.CheckIntegrity(ctx, tr.v.R, tr.v.W, alerts); err != nil || rep.Events != 20 {
		t.Fatalf("untouched chain: %+v %v", rep, err)
	}
	if n := openAlerts(t, tr, audit.AlertIntegrity); n != 0 {
		t.Fatalf("%d alerts for an untouched chain", n)
	}
	tr.exec(t, "DROP TRIGGER audit_immutable_update", "UPDATE audit SET action = 'user.logout' WHERE seq = 7")
	for range 2 {
		_, err := audit.CheckIntegrity(ctx, tr.v.R, tr.v.W, alerts)
		var be *audit.BreakError
		if !errors.As(err, &be) || be.Seq != 7 {
			t.Fatalf("changed event 7: %v", err)
		}
	}
	if n := openAlerts(t, tr, audit.AlertIntegrity); n != 1 {
		t.Fatalf("%d open integrity alerts, want 1", n)
	}
}

func TestFailureAlarm(t *testing.T) {
	tr := newTrail(t)
	alerts := &audit.Alerts{Now: tr.clock.Now, IDs: ehr.NewIDs()}
	alarm := audit.FailureAlarm(tr.v.W, alerts, func(err error) { t.Errorf("reported: %v", err) })
	alarm(errors.New("disk full"))
	alarm(errors.New("disk full"))
	if n := openAlerts(t, tr, audit.AlertAuditFailure); n != 1 {
		t.Fatalf("%d open alarms, want 1", n)
	}
	var msg string
	tr.v.R.QueryRow("SELECT message FROM alerts WHERE kind = ?", audit.AlertAuditFailure).Scan(&msg)
	if msg == "" || len(msg) > 300 {
		t.Errorf("message %q", msg)
	}
}

// Every alert raised through a Log-bearing Alerts leaves an audit event.
func TestRaisedAlertsAreAudited(t *testing.T) {
	tr := newTrail(t)
	alerts := &audit.Alerts{Now: tr.clock.Now, IDs: ehr.NewIDs(), Log: tr.log}
	if _, err := alerts.RaiseOnce(ctx, tr.v.W, audit.AlertIntegrity, "test"); err != nil {
		t.Fatal(err)
	}
	var detail string
	if err := tr.v.R.QueryRow("SELECT detail FROM audit WHERE action = 'alert.raise'").Scan(&detail); err != nil || detail != audit.AlertIntegrity {
		t.Fatalf("alert.raise event: %q %v", detail, err)
	}
	if _, err := audit.VerifyVault(ctx, tr.v.R); err != nil {
		t.Fatal(err)
	}
}
