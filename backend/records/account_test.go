package records_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/vault/vaulttest"
)

// heardProjector records what it is asked to project (auth's projector
// is tested with the real thing in backend/auth).
type heardProjector struct{ calls [][]string }

func (p *heardProjector) ProjectAccount(_ context.Context, _ *sql.Tx, userID string, heads []ehr.Version) error {
	ids := []string{userID}
	for _, h := range heads {
		ids = append(ids, h.VersionID)
	}
	p.calls = append(p.calls, ids)
	return nil
}

func accountBody(roles ...string) ehr.Account {
	return ehr.Account{Username: "nurse.amina", Name: "Amina Test", Roles: roles, Created: "2026-03-01T09:00:00Z",
		PasswordHash: "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA", Updated: "2026-03-01T09:00:00Z"}
}

// Account versions are stored, queued and projected through the
// projector with every head; they never show as a conflict, in a
// record's history, or as a record to delete.
func TestAccountVersions(t *testing.T) {
	v := vaulttest.New(t)
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	log := &audit.Log{Device: "dev-1", Workstation: "ws-1", Now: clock.Now}
	proj := &heardProjector{}
	s, err := records.New(ctx, v.W, v.R, records.Config{Device: "dev-1", DeviceCode: "K7Q", Now: clock.Now, Rand: rand.Reader, Audit: log, Accounts: proj})
	if err != nil {
		t.Fatal(err)
	}
	const user = "0190a6b2-0000-7000-8000-0000000000aa"
	tx, _ := v.W.Begin()
	first, err := s.WriteAccount(ctx, tx, "admin.one", user, accountBody("nurse"))
	if err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if n, _ := s.Outbox(ctx); n != 1 {
		t.Errorf("outbox = %d, want 1", n)
	}
	// A concurrent version from another laptop: two heads.
	body, _ := ehr.AccountBody(accountBody("clerk"))
	other := ehr.Version{VersionID: "0190a6b2-0000-7000-8000-0000000000bb", RecordID: user, Kind: ehr.KindAccount, Parents: []string{},
		HLC: first.HLC + 1, Author: "admin.two", Device: "dev-2", Reason: "account", Body: body}
	if _, err := s.ApplyRemote(ctx, "dev-1", []ehr.Version{other}, "server", 1); err != nil {
		t.Fatal(err)
	}
	if len(proj.calls) != 1 || len(proj.calls[0]) != 3 || proj.calls[0][0] != user {
		t.Errorf("projector heard %v, want the user and both heads", proj.calls)
	}
	if cs, err := s.Conflicts(ctx); err != nil || len(cs) != 0 {
		t.Errorf("conflicts = %v, %v; want none", cs, err)
	}
	actor := records.Actor{UserID: "u1", Username: "nurse.amina", Roles: []string{"nurse"}, Session: "s1"}
	if vs, err := s.History(ctx, actor, user); err == nil || len(vs) != 0 {
		t.Errorf("history of an account: %d versions, %v", len(vs), err)
	}
	tx, _ = v.W.Begin()
	joined, err := s.WriteAccount(ctx, tx, "admin.one", user, accountBody("nurse", "clinician"))
	if err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if len(joined.Parents) != 2 {
		t.Errorf("a local change after a split has parents %v, want both heads", joined.Parents)
	}
	// Re-merged when asked (a vault whose projector came later).
	if err := s.ReprojectAccounts(ctx); err != nil || len(proj.calls) != 2 || len(proj.calls[1]) != 2 {
		t.Errorf("reproject: %v, heard %v", err, proj.calls)
	}
	if _, _, err := s.Head(ctx, actor, user); ehr.ErrorCode(err) != ehr.ENotFound {
		t.Errorf("head of an account as a record: %v", err)
	}
	if _, err := s.RequestDeletion(ctx, actor, user, "not a record"); err == nil {
		t.Error("deletion of an account as a record was accepted")
	}
	// A malformed account body is refused with its page.
	bad := other
	bad.VersionID, bad.Body = "0190a6b2-0000-7000-8000-0000000000cc", []byte(`{"username":"x"}`)
	if _, err := s.ApplyRemote(ctx, "dev-1", []ehr.Version{bad}, "server", 2); err == nil {
		t.Error("a malformed account version was applied")
	}
}
