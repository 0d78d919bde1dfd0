package audit_test

import (
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/vault/vaulttest"
)

// Setup makes the device key with the vault and checkpoints the first
// event; events carry the injected OS user and addresses; an emergency
// access keeps its reason in Reason.
func TestClinicWiring(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	deps := clinic.Deps{Now: c.Now, Workstation: "ws-9", OSUser: "clinic-os-user", Addresses: func() []string { return []string{"10.9.8.7", "::1"} },
		Passwords: auth.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}}
	s, _, err := clinic.Setup(ctx, vaulttest.Options(t), deps, clinic.SetupRequest{Clinic: "Hill Clinic", AdminUsername: "it.admin",
		AdminName: "IT", Password: "copper-meadow-finch-22", KeyStore: "keyring"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	device, _, err := audit.PublicKey(ctx, s.Vault.R)
	if err != nil || device != s.Info.DeviceID {
		t.Fatalf("device key: %q %v", device, err)
	}
	// The setup event is checkpointed in its transaction, and opening
	// covers the events after it (the administrator's account).
	cps, _ := audit.Checkpoints(ctx, s.Vault.R)
	var events int64
	s.Vault.R.QueryRow("SELECT count(*) FROM audit").Scan(&events)
	if len(cps) != 2 || cps[0].Seq != 1 || cps[1].Seq != events {
		t.Fatalf("checkpoints after setup of %d events: %+v", events, cps)
	}
	tx, _ := s.Vault.W.Begin()
	nurse, err := s.Users.CreateUser(ctx, tx, "it.admin", auth.NewUser{Username: "nurse.kofi", Name: "Kofi", Password: "lantern-orchard-basalt-71", Roles: []string{auth.RoleNurse}})
	if err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	admin := records.Actor{UserID: "admin", Username: "it.admin", Roles: []string{auth.RoleAdmin, auth.RoleClinician}, Session: "s1"}
	p, err := s.Records.RegisterPatient(ctx, admin, ehr.Patient{Family: "Banda", Given: "Ama", Sex: "female", BirthDate: "1990-01-02"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Records.SetRestricted(ctx, admin, p.ID, true, "staff member"); err != nil {
		t.Fatal(err)
	}
	kofi := records.Actor{UserID: nurse.ID, Username: nurse.Username, Roles: nurse.Roles, Session: "s2"}
	if _, err := s.Records.BreakGlass(ctx, kofi, p.ID, "unconscious at the door"); err != nil {
		t.Fatal(err)
	}
	var reason, osUser, addrs string
	if err := s.Vault.R.QueryRow("SELECT reason, os_user, addresses FROM audit WHERE action = 'patient.breakglass'").Scan(&reason, &osUser, &addrs); err != nil {
		t.Fatal(err)
	}
	if reason != "unconscious at the door" || osUser != "clinic-os-user" || addrs != "10.9.8.7" {
		t.Errorf("break-glass event: reason %q, OS user %q, addresses %q", reason, osUser, addrs)
	}
	if _, err := audit.VerifyVault(ctx, s.Vault.R); err != nil {
		t.Fatal(err)
	}
}
