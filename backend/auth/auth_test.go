package auth_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/ehr"
	"outpost/backend/vault/vaulttest"
)

var fast = auth.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := auth.Hash(rand.Reader, "correct horse battery", auth.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash %q does not use the default parameters", h)
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		got, err := auth.Verify(h, pw)
		if err != nil || got != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, got, err, want)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=65536,t=3,p=2$AA$AA", "$argon2id$v=19$m=1,t=1,p=1$AA$AA", strings.Replace(h, "$v=19$", "$v=18$", 1)} {
		if _, err := auth.Verify(bad, "x"); err == nil {
			t.Errorf("Verify accepted the malformed hash %q", bad)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw, user string
		ok       bool
	}{
		{"lantern-harbor-quiet-47", "rose", true},
		{"short-pw", "rose", false},
		{"aaaaaaaaaaaaaaaa", "rose", false},
		{"rose-is-my-password", "rose", false},
		{strings.Repeat("ab1-", 70), "rose", false},
	}
	for _, tt := range tests {
		if got := auth.CheckPassword(tt.pw, tt.user, "") == ""; got != tt.ok {
			t.Errorf("CheckPassword(%q) ok = %v, want %v", tt.pw, got, tt.ok)
		}
	}
}

func TestPermissionTable(t *testing.T) {
	tests := []struct {
		roles []string
		perm  string
		want  bool
	}{
		{[]string{auth.RoleClinician}, auth.PermPatientRead, true},
		{[]string{auth.RoleClerk}, auth.PermPatientWrite, true},
		{[]string{auth.RoleAdmin}, auth.PermPatientRead, false},
		{[]string{auth.RoleOfficer, auth.RoleAuditor}, auth.PermPatientRead, false},
		{[]string{auth.RoleAdmin, auth.RoleNurse}, auth.PermPatientRead, true},
		{nil, auth.PermPatientRead, false},
	}
	for _, tt := range tests {
		if got := auth.Can(tt.roles, tt.perm); got != tt.want {
			t.Errorf("Can(%v, %s) = %v, want %v", tt.roles, tt.perm, got, tt.want)
		}
	}
}

func TestLoginHistory(t *testing.T) {
	ctx := context.Background()
	v := vaulttest.New(t)
	clock := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	log := &audit.Log{Device: "d", Workstation: "ws", Now: now}
	s, err := auth.New(v.W, v.R, log, now, rand.Reader, fast)
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := v.W.Begin()
	if _, err := s.CreateUser(ctx, tx, "setup", auth.NewUser{Username: "Nurse.Amina", Name: "Amina", Password: "lantern-harbor-quiet-47", Roles: []string{auth.RoleNurse}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, tx, "setup", auth.NewUser{Username: "nurse.amina", Name: "Other", Password: "lantern-harbor-quiet-48", Roles: []string{auth.RoleNurse}}); ehr.ErrorFields(err)["username"] == "" {
		t.Fatalf("duplicate username: %v", err)
	}
	tx.Commit()

	login := func(user, pw, ws string) (auth.LoginResult, error) {
		clock = clock.Add(time.Hour)
		return s.Login(ctx, user, pw, ws)
	}
	if _, err := login("nurse.amina", "lantern-harbor-quiet-47", "ward-1"); err != nil {
		t.Fatal(err)
	}
	_, e1 := login("nurse.amina", "wrong-password-000", "ward-2")
	_, e2 := login("nobody", "wrong-password-000", "ward-3")
	if e1 == nil || e2 == nil || e1.Error() != e2.Error() {
		t.Fatalf("wrong password %v and unknown user %v differ", e1, e2)
	}
	_, _ = login("nurse.amina", "wrong-again-00000", "ward-2")
	res, err := login("NURSE.AMINA", "lantern-harbor-quiet-47", "ward-1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Last == nil || res.Last.Workstation != "ward-1" || !res.Last.At.Equal(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("last login = %+v", res.Last)
	}
	if len(res.FailedSince) != 2 || res.FailedSince[0].Workstation != "ward-2" {
		t.Errorf("failed since = %+v, want the two failures on ward-2", res.FailedSince)
	}
	var failures int
	v.R.QueryRow("SELECT count(*) FROM audit WHERE action = 'user.login' AND outcome = 'failure'").Scan(&failures)
	if failures != 3 {
		t.Errorf("audited failures = %d, want 3", failures)
	}
}
