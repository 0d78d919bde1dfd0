package auth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

// laptop is one installation: a real vault, its records store and its
// auth service, wired as clinic.Attach wires them.
type laptop struct {
	name  string
	v     *vault.Vault
	users *auth.Service
	store *records.Store
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func newAccountLaptop(t *testing.T, name string, c *clock) *laptop {
	t.Helper()
	ctx := context.Background()
	v := vaulttest.New(t)
	log := &audit.Log{Device: "dev-" + name, Workstation: name, Now: c.Now}
	users, err := auth.New(v.W, v.R, log, c.Now, rand.Reader, fast)
	if err != nil {
		t.Fatal(err)
	}
	store, err := records.New(ctx, v.W, v.R, records.Config{Device: "dev-" + name, DeviceCode: "K7Q", Now: c.Now, Rand: rand.Reader,
		Audit: log, Accounts: users})
	if err != nil {
		t.Fatal(err)
	}
	users.SetAccountLog(store)
	return &laptop{name: name, v: v, users: users, store: store}
}

// exchange carries every version from's outbox to to, as a sync would
// (without the server: the sync package's tests run the real one).
func exchange(t *testing.T, from, to *laptop) {
	t.Helper()
	ctx := context.Background()
	vs, err := from.store.Outgoing(ctx, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := to.store.ApplyRemote(ctx, "dev-"+from.name, vs, "from-"+from.name, int64(len(vs))); err != nil {
		t.Fatalf("apply %s's versions on %s: %v", from.name, to.name, err)
	}
}

// accountRow is an account's shared state as the users table holds it.
func accountRow(t *testing.T, l *laptop, id string) string {
	t.Helper()
	var username, roles, hash, reason string
	var disabled bool
	var epoch, temp int
	var secret []byte
	err := l.v.R.QueryRow(`SELECT username, roles, password_hash, disabled, disabled_reason, epoch, password_temp, mfa_secret
		FROM users WHERE id = ?`, id).Scan(&username, &roles, &hash, &disabled, &reason, &epoch, &temp, &secret)
	if err != nil {
		t.Fatalf("%s: account %s: %v", l.name, id, err)
	}
	return fmt.Sprintf("%s %s %s disabled=%v/%s epoch=%d temp=%d mfa=%x", username, roles, hash, disabled, reason, epoch, temp, secret)
}

func createAdminAndUser(t *testing.T, l *laptop) (admin auth.User, user auth.User) {
	t.Helper()
	ctx := context.Background()
	tx, err := l.v.W.Begin()
	if err != nil {
		t.Fatal(err)
	}
	admin, err = l.users.CreateUser(ctx, tx, "setup", auth.NewUser{Username: "admin.one", Name: "Admin One", Password: "lantern-harbor-quiet-47",
		Roles: []string{auth.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	user, err = l.users.CreateUser(ctx, tx, "admin.one", auth.NewUser{Username: "nurse.amina", Name: "Amina Test", Password: "copper-meadow-violet-93",
		Roles: []string{auth.RoleNurse}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return admin, user
}

// An account made and changed on one laptop signs in on another after a
// sync, with the same roles and password; a disable there reaches the
// first laptop, which then refuses the sign-in.
func TestAccountTravels(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)}
	a, b := newAccountLaptop(t, "a", c), newAccountLaptop(t, "b", c)
	admin, user := createAdminAndUser(t, a)
	if _, err := a.users.SetRoles(ctx, admin, user.ID, []string{auth.RoleNurse, auth.RoleClinician}); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b)
	if got, want := accountRow(t, b, user.ID), accountRow(t, a, user.ID); got != want {
		t.Fatalf("b holds %s\nwant %s", got, want)
	}
	c.t = c.t.Add(time.Minute)
	res, err := b.users.Login(ctx, "nurse.amina", "copper-meadow-violet-93", "b-ward")
	if err != nil {
		t.Fatalf("sign-in on b: %v", err)
	}
	if got, want := res.Session.User.Roles, []string{auth.RoleClinician, auth.RoleNurse}; !slices.Equal(got, want) {
		t.Errorf("roles on b = %v, want %v", got, want)
	}
	// The administrator too (b has no account of its own).
	if _, err := b.users.Login(ctx, "admin.one", "lantern-harbor-quiet-47", "b-ward"); err != nil {
		t.Fatalf("admin sign-in on b: %v", err)
	}
	if _, err := b.users.Disable(ctx, admin, user.ID); err != nil {
		t.Fatal(err)
	}
	// The session on b ends at its next call.
	if _, err := b.users.Check(ctx, res.Session.ID); ehr.ErrorCode(err) != ehr.ESession {
		t.Errorf("session of a disabled account: %v", err)
	}
	exchange(t, b, a)
	if _, err := a.users.Login(ctx, "nurse.amina", "copper-meadow-violet-93", "a-ward"); err == nil {
		t.Fatal("a let a disabled account sign in")
	}
	// Nothing of it is a clinical record.
	for _, l := range []*laptop{a, b} {
		if cs, err := l.store.Conflicts(ctx); err != nil || len(cs) != 0 {
			t.Errorf("%s: conflicts %v %v", l.name, cs, err)
		}
		vs, err := l.store.History(ctx, records.Actor{Username: "x", Roles: []string{auth.RoleClinician}}, user.ID)
		if err == nil || len(vs) != 0 {
			t.Errorf("%s: account history readable as a record: %d versions, %v", l.name, len(vs), err)
		}
	}
}

// Concurrent changes of one account on two laptops (a role change on one,
// a disable and a password reset on the other) converge on the same state
// on both: disabled, the new roles, the new password, an epoch above
// both; no conflict is listed; the next change joins the heads.
func TestAccountConcurrentChangesConverge(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)}
	a, b := newAccountLaptop(t, "a", c), newAccountLaptop(t, "b", c)
	admin, user := createAdminAndUser(t, a)
	exchange(t, a, b)
	c.t = c.t.Add(time.Minute)
	if _, err := a.users.SetRoles(ctx, admin, user.ID, []string{auth.RoleClinician}); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Minute)
	if _, err := b.users.ResetPassword(ctx, admin, user.ID, "granite-willow-ember-58"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.users.Disable(ctx, admin, user.ID); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, b)
	exchange(t, b, a)
	ra, rb := accountRow(t, a, user.ID), accountRow(t, b, user.ID)
	if ra != rb {
		t.Fatalf("a: %s\nb: %s", ra, rb)
	}
	acc, err := a.users.Account(ctx, user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !acc.Disabled || !slices.Equal(acc.Roles, []string{auth.RoleClinician}) || !acc.TempPassword {
		t.Errorf("merged account = disabled %v roles %v temporary %v; want disabled, clinician, temporary", acc.Disabled, acc.Roles, acc.TempPassword)
	}
	for _, l := range []*laptop{a, b} {
		if cs, err := l.store.Conflicts(ctx); err != nil || len(cs) != 0 {
			t.Errorf("%s: conflicts %v %v", l.name, cs, err)
		}
	}
	// The next change takes both heads as parents: one head again.
	if _, err := a.users.Enable(ctx, admin, user.ID); err != nil {
		t.Fatal(err)
	}
	var heads int
	a.v.R.QueryRow("SELECT count(*) FROM heads WHERE record_id = ?", user.ID).Scan(&heads)
	if heads != 1 {
		t.Errorf("heads after a change = %d, want 1", heads)
	}
	exchange(t, a, b)
	if ra, rb := accountRow(t, a, user.ID), accountRow(t, b, user.ID); ra != rb {
		t.Fatalf("after enable a: %s\nb: %s", ra, rb)
	}
	c.t = c.t.Add(time.Minute)
	if _, err := b.users.Login(ctx, "nurse.amina", "granite-willow-ember-58", "b-ward"); err != nil {
		t.Errorf("the reset password on b after the merge: %v", err)
	}
}

// Two laptops that make the same username offline for two people: the
// older account keeps it on both, the newer is renamed and disabled.
func TestAccountDuplicateUsername(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)}
	a, b := newAccountLaptop(t, "a", c), newAccountLaptop(t, "b", c)
	_, first := createAdminAndUser(t, a)
	c.t = c.t.Add(time.Minute)
	tx, _ := b.v.W.Begin()
	second, err := b.users.CreateUser(ctx, tx, "setup", auth.NewUser{Username: "nurse.amina", Name: "Other Person", Password: "granite-willow-ember-58",
		Roles: []string{auth.RoleNurse}})
	if err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	exchange(t, a, b)
	exchange(t, b, a)
	for _, l := range []*laptop{a, b} {
		f, err := l.users.Account(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		s, err := l.users.Account(ctx, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		if f.Username != "nurse.amina" || f.Disabled || s.Username == "nurse.amina" || !s.Disabled || s.DisabledReason != "duplicate" {
			t.Errorf("%s: first %s disabled %v; second %s disabled %v (%s)", l.name, f.Username, f.Disabled, s.Username, s.Disabled, s.DisabledReason)
		}
	}
	if ra, rb := accountRow(t, a, second.ID), accountRow(t, b, second.ID); ra != rb {
		t.Errorf("the renamed account differs:\na: %s\nb: %s", ra, rb)
	}
}

// Accounts made before accounts synced get their first version once.
func TestBackfillAccounts(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)}
	v := vaulttest.New(t)
	log := &audit.Log{Device: "dev-old", Workstation: "old", Now: c.Now}
	users, err := auth.New(v.W, v.R, log, c.Now, rand.Reader, fast)
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := v.W.Begin()
	if _, err := users.CreateUser(ctx, tx, "setup", auth.NewUser{Username: "admin.one", Name: "Admin One", Password: "lantern-harbor-quiet-47",
		Roles: []string{auth.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	store, err := records.New(ctx, v.W, v.R, records.Config{Device: "dev-old", DeviceCode: "K7Q", Now: c.Now, Rand: rand.Reader, Audit: log, Accounts: users})
	if err != nil {
		t.Fatal(err)
	}
	users.SetAccountLog(store)
	for i, want := range []int{1, 0} {
		n, err := users.BackfillAccounts(ctx)
		if err != nil || n != want {
			t.Errorf("backfill %d = %d, %v; want %d", i, n, err, want)
		}
	}
	if n, _ := store.Outbox(ctx); n != 1 {
		t.Errorf("outbox = %d, want 1", n)
	}
}

func accountVersion(t *testing.T, id string, hlc ehr.HLC, a ehr.Account) ehr.Version {
	t.Helper()
	if a.Name == "" {
		a.Name = "Amina Test"
	}
	if a.Username == "" {
		a.Username = "nurse.amina"
	}
	if a.PasswordHash == "" {
		a.PasswordHash = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA"
	}
	if len(a.Roles) == 0 {
		a.Roles = []string{"nurse"}
	}
	body, err := ehr.AccountBody(a)
	if err != nil {
		t.Fatal(err)
	}
	return ehr.Version{VersionID: id, RecordID: "0190a6b2-0000-7000-8000-000000000001", Kind: ehr.KindAccount, HLC: hlc, Body: body}
}

func TestMergeAccounts(t *testing.T) {
	const t1, t2, t3 = "2026-04-01T08:00:00Z", "2026-04-01T09:00:00Z", "2026-04-01T10:00:00Z"
	hashA, hashB := "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$QQ", "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$Qg"
	code := ehr.RecoveryCode{Hash: "aa00000000000000000000000000000000000000000000000000000000000000"}
	used := code
	used.Used = t3
	tests := []struct {
		name  string
		heads []ehr.Account
		check func(m ehr.Account) string
	}{
		{"one head as it is", []ehr.Account{{Roles: []string{"clerk"}, Epoch: 4}},
			func(m ehr.Account) string { return fmt.Sprint(m.Roles, m.Epoch) }},
		{"disabled wins", []ehr.Account{{Disabled: true, DisabledReason: "admin", Epoch: 2}, {Roles: []string{"clinician"}, RolesAt: t2, Epoch: 2}},
			func(m ehr.Account) string { return fmt.Sprintf("%v %v %v", m.Disabled, m.DisabledReason, m.Roles) }},
		{"deleted over admin", []ehr.Account{{Disabled: true, DisabledReason: "deleted"}, {Disabled: true, DisabledReason: "admin"}},
			func(m ehr.Account) string { return m.DisabledReason }},
		{"newest password, used temporary stays used", []ehr.Account{
			{PasswordHash: hashA, PasswordAt: t2, TempPassword: 2}, {PasswordHash: hashA, PasswordAt: t2, TempPassword: 1}, {PasswordHash: hashB, PasswordAt: t1}},
			func(m ehr.Account) string { return fmt.Sprint(m.PasswordHash == hashA, m.TempPassword) }},
		{"roles from the newest role change", []ehr.Account{{Roles: []string{"clinician"}, RolesAt: t3}, {Roles: []string{"clerk"}, RolesAt: t1}},
			func(m ehr.Account) string { return fmt.Sprint(m.Roles) }},
		{"epoch above differing heads", []ehr.Account{{Roles: []string{"clinician"}, RolesAt: t3, Epoch: 3}, {PasswordHash: hashB, PasswordAt: t3, Epoch: 3}},
			func(m ehr.Account) string { return fmt.Sprint(m.Epoch) }},
		{"epoch kept when only the sign-in time differs", []ehr.Account{{LastActive: t2, Epoch: 3}, {LastActive: t3, Epoch: 3}},
			func(m ehr.Account) string { return fmt.Sprintf("%v %v", m.Epoch, m.LastActive) }},
		{"a recovery code used anywhere is used", []ehr.Account{{MFASecret: []byte("s"), MFAAt: t1, RecoveryCodes: []ehr.RecoveryCode{used}},
			{MFASecret: []byte("s"), MFAAt: t1, RecoveryCodes: []ehr.RecoveryCode{code}}},
			func(m ehr.Account) string { return m.RecoveryCodes[0].Used }},
	}
	wants := []string{"[clerk] 4", "true admin [clinician]", "deleted", "true 2", "[clinician]", "4", "3 " + t3, t3}
	for i, tt := range tests {
		var vs []ehr.Version
		for j, a := range tt.heads {
			vs = append(vs, accountVersion(t, fmt.Sprintf("0190a6b2-0000-7000-8000-00000000010%d", j), ehr.HLC(100+j), a))
		}
		// Every order of arrival gives the same state.
		for _, order := range [][]ehr.Version{vs, reversed(vs)} {
			m, err := auth.MergeAccounts(order)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(m); got != wants[i] {
				t.Errorf("%s: got %q, want %q", tt.name, got, wants[i])
			}
		}
	}
	if _, err := auth.MergeAccounts(nil); err == nil {
		t.Error("merge of no heads")
	}
	if _, err := auth.MergeAccounts([]ehr.Version{{Kind: ehr.KindAccount, Body: []byte(`{"username":"x"}`)}}); err == nil || errors.Is(err, nil) {
		t.Error("a malformed body merged")
	}
}

func reversed(vs []ehr.Version) []ehr.Version {
	out := slices.Clone(vs)
	slices.Reverse(out)
	return out
}
