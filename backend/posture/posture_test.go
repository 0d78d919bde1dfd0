package posture_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/posture"
	"outpost/backend/sync"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

const adminPassword = "copper-meadow-finch-22"

// install is a clinic set up in a temporary folder, on an injected clock.
type install struct {
	s     *clinic.Services
	clock *clock
	admin auth.User
	in    posture.Inputs
}

func newInstall(t *testing.T) *install {
	t.Helper()
	c := &clock{t: time.Date(2026, 5, 4, 8, 30, 0, 0, time.UTC)}
	deps := clinic.Deps{Now: c.Now, Workstation: "ws-report", OSUser: "clinic-os-user", Addresses: func() []string { return nil },
		Passwords: auth.Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}}
	s, _, err := clinic.Setup(t.Context(), vaulttest.Options(t), deps, clinic.SetupRequest{Clinic: "Hill Clinic", AdminUsername: "it.admin",
		AdminName: "IT", Password: adminPassword, KeyStore: vault.StoreKeyring})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	users, err := s.Users.ListUsers(t.Context())
	if err != nil || len(users) != 1 {
		t.Fatalf("users: %v %v", users, err)
	}
	return &install{s: s, clock: c, admin: users[0].User,
		in: posture.Inputs{Services: s, Now: c.Now, Version: "1.2.3", UpdateStateDir: filepath.Join(t.TempDir(), "update")}}
}

func (i *install) assess(t *testing.T) posture.Report {
	t.Helper()
	rep, err := posture.Assess(t.Context(), i.in)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (i *install) saveSettings(t *testing.T, change func(*auth.Settings)) {
	t.Helper()
	st, err := i.s.Users.Settings(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	change(&st)
	if _, err := i.s.Users.SaveSettings(t.Context(), i.admin, st); err != nil {
		t.Fatal(err)
	}
}

func (i *install) raise(t *testing.T, kind string) {
	t.Helper()
	if _, err := i.s.Alerts.RaiseOnce(t.Context(), i.s.Vault.W, kind, "test alert"); err != nil {
		t.Fatal(err)
	}
}

func wantIDs() []string {
	var ids []string
	for i := 1; i <= 35; i++ {
		ids = append(ids, fmt.Sprintf("S%d", i))
	}
	for i := 1; i <= 7; i++ {
		ids = append(ids, fmt.Sprintf("P%d", i))
	}
	return ids
}

// Every one of the 42 rows appears exactly once, in order, with a known
// status, a title and evidence.
func TestEveryRowOnceInOrder(t *testing.T) {
	i := newInstall(t)
	rep := i.assess(t)
	var got []string
	total := 0
	for _, r := range rep.Rows {
		got = append(got, r.ID)
		if r.Title == "" || len(r.Evidence) == 0 {
			t.Errorf("%s: title %q, evidence %v", r.ID, r.Title, r.Evidence)
		}
		if !slices.Contains([]posture.Status{posture.OK, posture.Warn, posture.Fail, posture.Info, posture.NA}, r.Status) {
			t.Errorf("%s: status %q", r.ID, r.Status)
		}
		for _, e := range r.Evidence {
			if strings.Contains(e, "no check is defined") {
				t.Errorf("%s has no check", r.ID)
			}
		}
	}
	if want := wantIDs(); !slices.Equal(got, want) {
		t.Fatalf("rows\n got %v\nwant %v", got, want)
	}
	if !slices.Equal(posture.IDs(), got) {
		t.Errorf("IDs() = %v", posture.IDs())
	}
	for _, n := range rep.Counts {
		total += n
	}
	if total != 42 || rep.Clinic != "Hill Clinic" || rep.Device != i.s.Info.DeviceID || !rep.At.Equal(i.clock.t) || rep.Version != "1.2.3" {
		t.Errorf("report header: %d rows counted, %q %q %v %q", total, rep.Clinic, rep.Device, rep.At, rep.Version)
	}
	if r, _ := rep.Row("S3"); r.Status != posture.OK || !strings.Contains(strings.Join(r.Evidence, " "), "TestSQLIsNeverBuiltFromStrings") {
		t.Errorf("S3 is a property of the code, with its test as evidence: %+v", r)
	}
	// It serialises as the UI and outpost-admin --json show it.
	raw, err := json.Marshal(rep)
	if err != nil || !strings.Contains(string(raw), `"id":"S1"`) || !strings.Contains(string(raw), `"status":"ok"`) {
		t.Fatalf("json: %v %.200s", err, raw)
	}
}

func evidence(r posture.Row) string { return strings.Join(r.Evidence, "\n") }

// Each row follows the installation: a setting changed, an alert raised,
// time passing, a file opened to others, each moves its row.
func TestRowsFollowTheInstallation(t *testing.T) {
	cases := []struct {
		name   string
		row    string
		before posture.Status
		change func(t *testing.T, i *install)
		after  posture.Status
		says   string // in the row's evidence after the change
	}{
		{"idle lock looser than the default", "S23", posture.OK, func(t *testing.T, i *install) {
			i.saveSettings(t, func(s *auth.Settings) { s.IdleMinutes = 30 })
		}, posture.Warn, "idle lock: 30 min"},
		{"session limit looser than the default", "S10", posture.OK, func(t *testing.T, i *install) {
			i.saveSettings(t, func(s *auth.Settings) { s.AbsoluteHours = 20 })
		}, posture.Warn, "session limit 20 h (default 12)"},
		{"stricter session times stay ok", "S23", posture.OK, func(t *testing.T, i *install) {
			i.saveSettings(t, func(s *auth.Settings) { s.IdleMinutes, s.AbsoluteHours = 5, 8 })
		}, posture.OK, "idle lock: 5 min (administrators 10 min); session limit: 8 h"},
		{"audit retention", "S32", posture.OK, func(t *testing.T, i *install) {
			i.saveSettings(t, func(s *auth.Settings) { s.AuditRetentionYears = 25 })
		}, posture.OK, "audit retention: 25 years"},
		{"the clinic's own notice", "S5", posture.OK, func(t *testing.T, i *install) {
			i.saveSettings(t, func(s *auth.Settings) { s.Notice = "Hill Clinic staff only. Everything you do here is recorded." })
		}, posture.OK, "notice: the clinic's own, 59 characters"},
		{"failed sign-ins lock the account", "S17", posture.OK, func(t *testing.T, i *install) {
			for range 5 {
				if _, err := i.s.Users.Login(t.Context(), "it.admin", "not-the-password-1", "ws-report"); err == nil {
					t.Fatal("a wrong password signed in")
				}
			}
		}, posture.Warn, "accounts locked now: 1"},
		{"an audit write failed", "S35", posture.OK, func(t *testing.T, i *install) {
			i.raise(t, audit.AlertAuditFailure)
		}, posture.Fail, "an audit write failed or the chain broke"},
		{"the audit chain is broken", "S35", posture.OK, func(t *testing.T, i *install) {
			for _, q := range []string{"DROP TRIGGER audit_immutable_update", "UPDATE audit SET detail = 'altered' WHERE seq = 2"} {
				if _, err := i.s.Vault.W.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
		}, posture.Fail, "the audit chain does NOT verify"},
		{"concurrent sessions alert", "S34", posture.OK, func(t *testing.T, i *install) {
			i.raise(t, audit.AlertConcurrent)
		}, posture.Warn, "open alerts (concurrent-session): 1"},
		{"audit not shipped for 8 days", "S31", posture.Warn, func(t *testing.T, i *install) {
			i.clock.t = i.clock.t.Add(8 * 24 * time.Hour)
		}, posture.Fail, "OVERDUE: 8 days"},
		{"a sealed copy confirmed off the laptop", "S31", posture.Warn, func(t *testing.T, i *install) {
			if _, err := i.s.Audit.Checkpoint(t.Context()); err != nil {
				t.Fatal(err)
			}
			var plain strings.Builder
			if _, err := audit.Export(t.Context(), i.s.Vault.R, i.clock.t, &plain); err != nil {
				t.Fatal(err)
			}
			i.clock.t = i.clock.t.Add(time.Hour)
			if _, err := audit.AcknowledgeCopy(t.Context(), i.s.Vault.W, []byte(plain.String()), i.clock.t); err != nil {
				t.Fatal(err)
			}
		}, posture.OK, "next copy due by 2026-05-11"},
		{"update metadata checked", "S16", posture.Warn, func(t *testing.T, i *install) {
			writeUpdateState(t, i, i.clock.t.Add(-time.Hour), i.clock.t.Add(6*24*time.Hour))
		}, posture.OK, "valid until 2026-05-10"},
		{"update metadata expired", "S16", posture.Warn, func(t *testing.T, i *install) {
			writeUpdateState(t, i, i.clock.t.Add(-9*24*time.Hour), i.clock.t.Add(-2*24*time.Hour))
		}, posture.Fail, "EXPIRED"},
		{"enrolled with a clinic server", "S11", posture.NA, func(t *testing.T, i *install) {
			enroll(t, i)
		}, posture.OK, "clinic server https://clinic-server.local:8443"},
		{"enrolled, no audit receipt yet", "S33", posture.Warn, func(t *testing.T, i *install) {
			enroll(t, i)
		}, posture.Warn, "has not yet acknowledged"},
		{"vault file readable by others", "S7", posture.OK, func(t *testing.T, i *install) {
			if err := os.Chmod(filepath.Join(i.s.Vault.Dir(), vault.DBFile), 0o644); err != nil {
				t.Fatal(err)
			}
		}, posture.Fail, "outpost.db 0644"},
		{"the window's CSP allows inline script", "S4", posture.Info, func(t *testing.T, i *install) {
			i.in.CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'"
		}, posture.Fail, "the policy allows 'unsafe-inline'"},
		{"a bound method without an access rule", "P1", posture.OK, func(t *testing.T, i *install) {
			i.in.Methods = map[string]string{"Status": "public", "ListUsers": auth.PermUsersManage, "Leaky": ""}
		}, posture.Fail, "without an access rule: Leaky"},
		{"built from a modified tree", "S25", posture.Info, func(t *testing.T, i *install) {
			i.in.Build = &debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Path: "outpost"},
				Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}}
		}, posture.Warn, "uncommitted changes"},
		{"an unenrolled administrator account", "P7", posture.Warn, func(t *testing.T, i *install) {
			tx, _ := i.s.Vault.W.Begin()
			if _, err := i.s.Users.CreateUser(t.Context(), tx, "it.admin", auth.NewUser{Username: "sec.ofelia", Name: "Ofelia",
				Password: "lantern-orchard-basalt-71", Roles: []string{auth.RoleOfficer}}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}, posture.Warn, "it.admin, sec.ofelia"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			i := newInstall(t)
			i.in.Build = &debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Path: "outpost"}}
			before, _ := i.assess(t).Row(c.row)
			if before.Status != c.before {
				t.Fatalf("%s before: %s, want %s\n%s", c.row, before.Status, c.before, evidence(before))
			}
			c.change(t, i)
			after, _ := i.assess(t).Row(c.row)
			if after.Status != c.after || !strings.Contains(evidence(after), c.says) {
				t.Fatalf("%s after: %s, want %s saying %q\n%s", c.row, after.Status, c.after, c.says, evidence(after))
			}
		})
	}
}

// writeUpdateState leaves the update client's state as a check at
// refreshed would (update/client's state.json).
func writeUpdateState(t *testing.T, i *install, refreshed, expires time.Time) {
	t.Helper()
	dir := i.in.UpdateStateDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"highest": "1.2.3", "last_refreshed": refreshed, "expires": expires, "repository": "https://updates.example/"})
	if err := os.WriteFile(filepath.Join(dir, "state.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func enroll(t *testing.T, i *install) {
	t.Helper()
	err := sync.SaveSettings(context.Background(), i.s.Vault.W, sync.Settings{Server: "https://clinic-server.local:8443",
		Fingerprint: strings.Repeat("AB:", 31) + "AB", DeviceID: "dev-1", DeviceName: "laptop 1", EnrolledAt: i.clock.t})
	if err != nil {
		t.Fatal(err)
	}
}

// The report only reads: assessing twice changes nothing in the vault.
func TestAssessWritesNothing(t *testing.T) {
	i := newInstall(t)
	count := func() (n int64) {
		if err := i.s.Vault.R.QueryRow("SELECT (SELECT count(*) FROM audit) + (SELECT count(*) FROM alerts) + (SELECT count(*) FROM meta)").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	i.clock.t = i.clock.t.Add(30 * 24 * time.Hour) // overdue, yet no alert is raised by reading
	i.assess(t)
	i.assess(t)
	if after := count(); after != before {
		t.Fatalf("assessing wrote to the vault: %d rows, then %d", before, after)
	}
}

func TestAssessNeedsAVault(t *testing.T) {
	if _, err := posture.Assess(t.Context(), posture.Inputs{}); err == nil {
		t.Fatal("a report without a vault")
	}
}
