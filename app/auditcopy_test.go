package app

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/ehr"
	"outpost/backend/vault/vaulttest"
)

// S31, S33 through the bound methods: after 8 days without a copy off the
// laptop the officer sees the alarm; a sealed copy saved to "removable
// media" and read back clears it.
func TestSealedAuditCopyClearsTheAlarm(t *testing.T) {
	e := newClinic(t)
	officer, _ := e.user("off.ship", auth.RoleOfficer)
	doc, _ := e.user("dr.ship", auth.RoleClinician)
	e.patient(doc)
	st, err := officer.GetAuditShipping()
	if err != nil || st.Overdue {
		t.Fatalf("fresh: %+v %v", st, err)
	}
	e.clock.t = e.clock.t.Add(8 * 24 * time.Hour)
	// Every session has reached its time limit meanwhile: sign in again.
	e.admin = e.window("admin-pc-2")
	mfaSignIn(t, e.admin, e.clock, "admin.rose", setupReq.Password, e.secret)
	officer, _ = e.user("off.ship2", auth.RoleOfficer)
	if st, err = officer.GetAuditShipping(); err != nil || !st.Overdue || st.Days < 8 {
		t.Fatalf("8 days: %+v %v", st, err)
	}
	alerts, err := e.admin.ListAlerts()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, al := range alerts {
		if al.Kind == audit.AlertUnshipped && !al.Acknowledged {
			found++
		}
	}
	if found != 1 {
		t.Fatalf("%d open unshipped alarms: %+v", found, alerts)
	}

	if _, err := officer.SaveSealedAuditCopy(SealRequest{Passphrase: "short"}); problemOf(t, err).Fields["passphrase"] == "" {
		t.Fatalf("short passphrase: %v", err)
	}
	saved, err := officer.SaveSealedAuditCopy(SealRequest{Passphrase: "river stones at dawn 42"})
	if err != nil || !strings.HasSuffix(saved.Name, ".sealed") {
		t.Fatalf("seal: %+v %v", saved, err)
	}
	media := base64.StdEncoding.EncodeToString(readSaved(t, e, saved.Name))
	if _, err := officer.ConfirmAuditCopy(CopyConfirmation{Data: media, Passphrase: "not the passphrase"}); problemOf(t, err).Fields["passphrase"] == "" {
		t.Fatalf("wrong passphrase: %v", err)
	}
	st, err = officer.ConfirmAuditCopy(CopyConfirmation{Data: media, Passphrase: "river stones at dawn 42"})
	if err != nil || st.Overdue || st.AcknowledgedSeq == 0 {
		t.Fatalf("confirm: %+v %v", st, err)
	}
	if !e.audited(t, "audit.acknowledge", "") || !e.audited(t, "SaveSealedAuditCopy", "") {
		t.Error("the copy and its confirmation are not audited")
	}
	// Clinicians do not manage the audit trail.
	doc, _ = e.user("dr.ship2", auth.RoleClinician)
	if _, err := doc.GetAuditShipping(); code(t, err) != ehr.EForbidden {
		t.Errorf("clinician: %v", err)
	}
}

// S35: the chain is verified at every start; a changed event raises an
// alert for the officer.
func TestIntegrityCheckedAtStart(t *testing.T) {
	dir, kr := t.TempDir(), vaulttest.NewKeyring()
	a, _ := newApp(t, dir, kr)
	if _, err := a.Setup(setupReq); err != nil {
		t.Fatal(err)
	}
	// An attacker with the vault key edits an event.
	for _, q := range []string{"DROP TRIGGER audit_immutable_update", "UPDATE audit SET detail = 'nothing happened' WHERE seq = 1"} {
		if _, err := a.svc.Vault.W.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	Stop(a)
	b, _ := newApp(t, dir, kr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := b.svc.Vault.R.QueryRow("SELECT count(*) FROM alerts WHERE kind = ?", audit.AlertIntegrity).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no integrity alert after a changed audit event")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
