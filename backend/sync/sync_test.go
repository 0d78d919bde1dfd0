package sync_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/seal"
	"outpost/backend/sync"
	"outpost/backend/sync/synctest"
	"outpost/backend/syncproto"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

var ctx = context.Background()

// The server runs as its own process, as in a clinic (synctest).
var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "outpost-sync-test-")
	if err != nil {
		panic(err)
	}
	serverBin, err = synctest.Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type server = synctest.Server

func startServer(t *testing.T) *server { return synctest.Start(t, serverBin) }

// laptop is an enrolled laptop: a real vault, its store, a sync client.
type laptop struct {
	v      *vault.Vault
	s      *records.Store
	c      *sync.Client
	actor  records.Actor
	alerts []string
}

func newLaptop(t *testing.T, srv *server, key seal.Key, name string) *laptop {
	t.Helper()
	l := openLaptop(t, vaulttest.New(t), srv, key, name)
	if _, err := l.c.Enroll(ctx, srv.Token(t, "hill", "Hill Clinic"), name); err != nil {
		t.Fatalf("enroll %s: %v", name, err)
	}
	return l
}

// openLaptop makes the store and sync client of an open vault (enrolled
// or not).
func openLaptop(t testing.TB, v *vault.Vault, srv *server, key seal.Key, name string) *laptop {
	t.Helper()
	log := &audit.Log{Device: "dev-" + name, Workstation: name, Now: time.Now}
	if err := log.Open(ctx, v.W); err != nil {
		t.Fatal(err)
	}
	st, err := records.New(ctx, v.W, v.R, records.Config{Device: "dev-" + name, DeviceCode: strings.ToUpper(name[:3]), Now: time.Now, Rand: rand.Reader, Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := audit.NewDeviceSigner(ctx, v.W)
	if err != nil {
		t.Fatal(err)
	}
	l := &laptop{v: v, s: st, actor: records.Actor{UserID: "u-" + name, Username: "nurse." + name, Roles: []string{"nurse"}, Session: "s-" + name}}
	l.c = &sync.Client{Base: srv.Base, HTTP: sync.Pinned(srv.Pin, 30*time.Second), Key: key, Store: st,
		Signer: &syncproto.Signer{Device: syncproto.DeviceID(signer.Public().(ed25519.PublicKey)), Key: signer},
		Alert:  func(kind, msg string) { l.alerts = append(l.alerts, kind) }}
	return l
}

func (l *laptop) versions(t testing.TB) []string {
	t.Helper()
	rows, err := l.v.R.Query("SELECT version_id FROM versions ORDER BY version_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

func (l *laptop) sync(t *testing.T) sync.Result {
	t.Helper()
	res, err := l.c.Sync(ctx)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return res
}

func patient(family, village string) ehr.Patient {
	return ehr.Patient{Family: family, Given: "Mercy", Sex: "female", BirthDate: "1990-05-05", Village: village}
}

// Acceptance: two laptops and a server on loopback; both edit offline,
// the same record too; after syncing both hold identical record sets,
// the conflict shows on both, nothing is lost; the server holds no
// patient name.
func TestTwoLaptopsConverge(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newLaptop(t, srv, key, "ada"), newLaptop(t, srv, key, "ben")

	rec, err := a.s.RegisterPatient(ctx, a.actor, patient("Zembalowski", "Lowland"))
	if err != nil {
		t.Fatal(err)
	}
	if res := a.sync(t); res.Pushed != 1 {
		t.Fatalf("a pushed %d", res.Pushed)
	}
	if res := b.sync(t); res.Pulled != 1 {
		t.Fatalf("b pulled %d", res.Pulled)
	}
	got, err := b.s.Patient(ctx, b.actor, rec.ID)
	if err != nil || got.Patient.Family != "Zembalowski" {
		t.Fatalf("b reads %+v %v", got, err)
	}
	// Offline: both edit the same patient, and each registers another.
	if _, err := a.s.UpdatePatient(ctx, a.actor, rec.ID, rec.VersionID, patient("Zembalowski", "Upland"), "moved"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.s.UpdatePatient(ctx, b.actor, rec.ID, got.VersionID, patient("Zembalowski", "Riverside"), "moved"); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*laptop{a, b} {
		if _, err := l.s.RegisterPatient(ctx, l.actor, patient("Other"+l.actor.Username[6:], "Hill")); err != nil {
			t.Fatal(err)
		}
	}
	a.sync(t)
	b.sync(t)
	a.sync(t)
	if va, vb := a.versions(t), b.versions(t); !slices.Equal(va, vb) || len(va) != 5 {
		t.Fatalf("a holds %d versions, b %d; equal: %v", len(va), len(vb), slices.Equal(va, vb))
	}
	for name, l := range map[string]*laptop{"a": a, "b": b} {
		cs, err := l.s.Conflicts(ctx)
		if err != nil || len(cs) != 1 || cs[0].RecordID != rec.ID || len(cs[0].Heads) != 2 {
			t.Errorf("%s: conflicts %+v %v", name, cs, err)
		}
	}
	// Syncing again moves nothing.
	if res := a.sync(t); res.Pushed != 0 || res.Pulled != 0 {
		t.Errorf("a second sync moved %+v", res)
	}
	// Zero knowledge: the server's files hold no patient name.
	entries, _ := os.ReadDir(srv.Dir)
	for _, e := range entries {
		raw, _ := os.ReadFile(filepath.Join(srv.Dir, e.Name()))
		if bytes.Contains(raw, []byte("Zembalowski")) || bytes.Contains(raw, []byte("Riverside")) {
			t.Errorf("%s holds patient data", e.Name())
		}
	}
}

// A revoked laptop is refused and told to erase its vault.
func TestRevokedLaptopIsRefused(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a := newLaptop(t, srv, key, "ada")
	srv.Run(t, "revoke", "--data-dir", srv.Dir, a.c.Signer.Device)
	if _, err := a.c.Sync(ctx); !errors.Is(err, sync.ErrErase) {
		t.Fatalf("revoked laptop's sync: %v", err)
	}
	st, err := a.c.Status(ctx)
	if err != nil || !st.Erase || st.Status != syncproto.StatusRevoked {
		t.Fatalf("status: %+v %v", st, err)
	}
}

// What a revoked laptop then does: its vault is erased for good (the key
// leaves the keyring, the files are overwritten and removed).
func TestRevokedLaptopErasesItsVault(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	o := vaulttest.Options(t)
	v, _, err := vault.Create(ctx, o, vault.StoreKeyring, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := openLaptop(t, v, srv, key, "ada")
	if _, err := a.c.Enroll(ctx, srv.Token(t, "hill", "Hill Clinic"), "ada"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.s.RegisterPatient(ctx, a.actor, patient("Zembalowski", "Lowland")); err != nil {
		t.Fatal(err)
	}
	srv.Run(t, "revoke", "--data-dir", srv.Dir, a.c.Signer.Device)
	if _, err := a.c.Sync(ctx); !errors.Is(err, sync.ErrErase) {
		t.Fatalf("sync: %v", err)
	}
	v.Close()
	if err := vault.Erase(o); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(ctx, o); err == nil {
		t.Fatal("the erased vault still opens")
	}
	entries, _ := os.ReadDir(o.Dir)
	for _, e := range entries {
		raw, _ := os.ReadFile(filepath.Join(o.Dir, e.Name()))
		if bytes.Contains(raw, []byte("Zembalowski")) {
			t.Errorf("%s still holds patient data", e.Name())
		}
	}
}

// A laptop with another clinic's key cannot open what the server holds:
// it stops and alerts instead of storing anything.
func TestForeignCiphertextIsRefused(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	other, _ := seal.NewKey(nil)
	a, b := newLaptop(t, srv, key, "ada"), newLaptop(t, srv, other, "ben")
	if _, err := a.s.RegisterPatient(ctx, a.actor, patient("Zembalowski", "Lowland")); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	if _, err := b.c.Sync(ctx); err != sync.ErrTampered {
		t.Fatalf("b synced what it cannot open: %v", err)
	}
	if len(b.alerts) != 1 || b.alerts[0] != "sync-tampered" || len(b.versions(t)) != 0 {
		t.Fatalf("alerts %v, versions %d", b.alerts, len(b.versions(t)))
	}
}
