package sync_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	"outpost/backend/seal"
	"outpost/backend/sync"
	"outpost/backend/syncproto"
	"outpost/backend/vault/vaulttest"
)

// Accounts and sessions across laptops (issue 6, item 7), end to end:
// real vaults wired by clinic.Attach, the real outpost-server as a
// process, auth.Service used directly.

var fastPasswords = auth.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}

// station is an enrolled laptop with the whole backend over its vault.
type station struct {
	name string
	svc  *clinic.Services
	c    *sync.Client
}

func newStation(t *testing.T, srv *server, key seal.Key, name string) *station {
	t.Helper()
	v := vaulttest.New(t)
	devID, err := ehr.NewIDs().New()
	if err != nil {
		t.Fatal(err)
	}
	// What clinic setup (or joining a clinic) writes.
	for k, val := range map[string]string{"clinic_name": "Hill Clinic", "device_id": devID, "device_code": strings.ToUpper(name[:3]),
		"clinic_key": key.String()} {
		if _, err := v.W.Exec("INSERT INTO meta (key, value) VALUES (?, ?)", k, val); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := clinic.Attach(ctx, v, clinic.Deps{Now: time.Now, Workstation: name + "-ws", Passwords: fastPasswords, OSUser: "test",
		Addresses: func() []string { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := audit.NewDeviceSigner(ctx, v.W)
	if err != nil {
		t.Fatal(err)
	}
	st := &station{name: name, svc: svc}
	st.c = &sync.Client{Base: srv.Base, HTTP: sync.Pinned(srv.Pin, 30*time.Second), Key: key, Store: svc.Records,
		Signer: &syncproto.Signer{Device: syncproto.DeviceID(signer.Public().(ed25519.PublicKey)), Key: signer}}
	if _, err := st.c.Enroll(ctx, srv.Token(t, "hill", "Hill Clinic"), name+" laptop"); err != nil {
		t.Fatalf("enroll %s: %v", name, err)
	}
	return st
}

func (s *station) sync(t *testing.T) {
	t.Helper()
	if _, err := s.c.Sync(ctx); err != nil {
		t.Fatalf("%s: sync: %v", s.name, err)
	}
}

func (s *station) admin(t *testing.T, id string) auth.User {
	t.Helper()
	a, err := s.svc.Users.Account(ctx, id)
	if err != nil {
		t.Fatalf("%s: account %s: %v", s.name, id, err)
	}
	return a.User
}

// state is an account's shared state as this laptop's users table holds it.
func (s *station) state(t *testing.T, id string) string {
	t.Helper()
	var username, roles, hash, reason string
	var disabled bool
	var epoch int
	err := s.svc.Vault.R.QueryRow("SELECT username, roles, password_hash, disabled, disabled_reason, epoch FROM users WHERE id = ?", id).
		Scan(&username, &roles, &hash, &disabled, &reason, &epoch)
	if err != nil {
		t.Fatalf("%s: account %s: %v", s.name, id, err)
	}
	return fmt.Sprintf("%s %s %s disabled=%v/%s epoch=%d", username, roles, hash, disabled, reason, epoch)
}

const (
	adminPassword = "lantern-harbor-quiet-47"
	nursePassword = "copper-meadow-violet-93"
)

// makeAccounts creates an administrator and a nurse on s.
func makeAccounts(t *testing.T, s *station) (admin, nurse auth.User) {
	t.Helper()
	tx, err := s.svc.Vault.W.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	admin, err = s.svc.Users.CreateUser(ctx, tx, "setup", auth.NewUser{Username: "admin.zembala", Name: "Admin Zembala", Password: adminPassword,
		Roles: []string{auth.RoleAdmin, auth.RoleClinician}})
	if err != nil {
		t.Fatal(err)
	}
	nurse, err = s.svc.Users.CreateUser(ctx, tx, "admin.zembala", auth.NewUser{Username: "nurse.quillfeather", Name: "Amina Quillfeather",
		Password: nursePassword, Roles: []string{auth.RoleNurse}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return admin, nurse
}

// A user made and given roles on one laptop signs in on another after a
// sync; a disable there reaches the first; concurrent changes on both
// converge, disabled; the server holds no username or name.
func TestAccountsAcrossLaptops(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newStation(t, srv, key, "ada"), newStation(t, srv, key, "ben")
	admin, nurse := makeAccounts(t, a)
	if _, err := a.svc.Users.SetRoles(ctx, a.admin(t, admin.ID), nurse.ID, []string{auth.RoleNurse, auth.RoleClinician}); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	if sa, sb := a.state(t, nurse.ID), b.state(t, nurse.ID); sa != sb {
		t.Fatalf("after sync\na: %s\nb: %s", sa, sb)
	}
	res, err := b.svc.Users.Login(ctx, "nurse.quillfeather", nursePassword, "ben-ws")
	if err != nil {
		t.Fatalf("sign-in on b: %v", err)
	}
	if got, want := res.Session.User.Roles, []string{auth.RoleClinician, auth.RoleNurse}; !slices.Equal(got, want) {
		t.Errorf("roles on b = %v, want %v", got, want)
	}

	// Disabled on b: a refuses the sign-in after syncing.
	if _, err := b.svc.Users.Disable(ctx, b.admin(t, admin.ID), nurse.ID); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	a.sync(t)
	if _, err := a.svc.Users.Login(ctx, "nurse.quillfeather", nursePassword, "ada-ws"); ehr.ErrorCode(err) != ehr.EAuth {
		t.Fatalf("a signs in a disabled account: %v", err)
	}

	// Offline, both change one account: a role change on a, a disable on b.
	if _, err := a.svc.Users.Enable(ctx, a.admin(t, admin.ID), nurse.ID); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	if _, err := a.svc.Users.SetRoles(ctx, a.admin(t, admin.ID), nurse.ID, []string{auth.RoleClerk}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Users.Disable(ctx, b.admin(t, admin.ID), nurse.ID); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	a.sync(t)
	sa, sb := a.state(t, nurse.ID), b.state(t, nurse.ID)
	if sa != sb || !strings.Contains(sa, `["clerk"]`) || !strings.Contains(sa, "disabled=true/admin") {
		t.Fatalf("after concurrent changes\na: %s\nb: %s\nwant both clerk and disabled", sa, sb)
	}
	for _, s := range []*station{a, b} {
		if n, err := s.svc.Records.ClinicalConflicts(ctx); err != nil || n != 0 {
			t.Errorf("%s: %d clinical conflicts, %v", s.name, n, err)
		}
		if _, err := s.svc.Users.Login(ctx, "nurse.quillfeather", nursePassword, s.name+"-ws"); ehr.ErrorCode(err) != ehr.EAuth {
			t.Errorf("%s signs in the merged (disabled) account: %v", s.name, err)
		}
	}
	assertServerKnowsNobody(t, srv)
}

// assertServerKnowsNobody reads every file of the server's data folder
// (the database, its WAL) for the accounts' usernames and names.
func assertServerKnowsNobody(t *testing.T, srv *server) {
	t.Helper()
	entries, err := os.ReadDir(srv.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		raw, _ := os.ReadFile(filepath.Join(srv.Dir, e.Name()))
		for _, s := range []string{"nurse.quillfeather", "Quillfeather", "admin.zembala", "Zembala"} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("the server's %s holds %q", e.Name(), s)
			}
		}
	}
}

// The session limit (S22) and concurrent sessions (S34) across laptops:
// with the server up, sessions on both laptops count together and a
// sign-in while the account is active elsewhere is audited and alerted;
// with the server down, each laptop applies its own rules and says so.
func TestAccountSessionsAcrossLaptops(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newStation(t, srv, key, "ada"), newStation(t, srv, key, "ben")
	_, nurse := makeAccounts(t, a)
	a.sync(t)
	b.sync(t)
	for _, s := range []*station{a, b} {
		s.svc.Users.SetRegistry(sync.NewRegistry(s.c), 3*time.Second)
	}
	login := func(s *station, ws string) error {
		_, err := s.svc.Users.Login(ctx, "nurse.quillfeather", nursePassword, ws)
		return err
	}
	if err := login(a, "ada-1"); err != nil {
		t.Fatal(err)
	}
	// On b while active on a: allowed, audited, alerted (S34).
	if err := login(b, "ben-1"); err != nil {
		t.Fatal(err)
	}
	var detail string
	if err := b.svc.Vault.R.QueryRow("SELECT detail FROM audit WHERE action = 'session.concurrent' AND record_id = ?", nurse.ID).Scan(&detail); err != nil {
		t.Fatalf("b wrote no session.concurrent event: %v", err)
	}
	if !strings.Contains(detail, "ada laptop") {
		t.Errorf("the event names %q, want a's laptop", detail)
	}
	var alerts int
	b.svc.Vault.R.QueryRow("SELECT count(*) FROM alerts WHERE kind = ?", audit.AlertConcurrent).Scan(&alerts)
	if alerts != 1 {
		t.Errorf("b raised %d concurrent-session alerts, want 1", alerts)
	}
	if err := login(a, "ada-2"); err != nil {
		t.Fatal(err)
	}
	// Three sessions on the two laptops: a fourth is refused on either (S22).
	for _, s := range []*station{a, b} {
		err := login(s, s.name+"-4")
		if ehr.ErrorCode(err) != ehr.EForbidden || !strings.Contains(ehr.ErrorMessage(err), "3 active sessions") {
			t.Errorf("4th sign-in on %s: %v, want the session limit", s.name, err)
		}
	}
	var refused int
	b.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action = 'user.login' AND outcome = 'failure' AND detail LIKE 'session limit across devices%'").Scan(&refused)
	if refused != 1 {
		t.Errorf("b audited %d refusals across devices, want 1", refused)
	}
	// The server down: local rules only (b holds one session), and the
	// sign-in's event says the other laptops were not checked.
	srv.Kill()
	start := time.Now()
	if err := login(b, "ben-5"); err != nil {
		t.Fatalf("sign-in on b with the server down: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the sign-in waited %v for the server", d)
	}
	var unchecked int
	b.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action = 'user.login' AND outcome = 'success' AND detail LIKE '%not checked%'").Scan(&unchecked)
	if unchecked != 1 {
		t.Errorf("%d sign-ins say the other laptops were not checked, want 1", unchecked)
	}
	srv.Serve(t)
	assertServerKnowsNobody(t, srv)
}

// A server that accepts connections and never answers holds a sign-in
// up to the registry's timeout only; the sign-in then goes on under the
// local rules and says so.
func TestAccountSignInDoesNotWaitForAHungServer(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a := newStation(t, srv, key, "ada")
	makeAccounts(t, a)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // read nothing, answer nothing
		}
	}()
	hung := *a.c
	hung.Base = "https://" + ln.Addr().String()
	a.svc.Users.SetRegistry(sync.NewRegistry(&hung), 300*time.Millisecond)
	start := time.Now()
	if _, err := a.svc.Users.Login(ctx, "nurse.quillfeather", nursePassword, "ada-1"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the sign-in took %v with the registry's timeout at 300ms", d)
	}
	var unchecked int
	a.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action = 'user.login' AND outcome = 'success' AND detail LIKE '%not checked%'").Scan(&unchecked)
	if unchecked != 1 {
		t.Errorf("%d sign-ins say the other laptops were not checked, want 1", unchecked)
	}
}
