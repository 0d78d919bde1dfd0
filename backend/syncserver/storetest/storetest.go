// Package storetest is the contract every syncserver.Store passes: the
// embedded SQLite store runs it, and so must a PostgreSQL store before it
// replaces it. Run calls factory for a fresh, empty store per subtest.
package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

// Factory returns a new, empty store; Run closes it.
type Factory func(t *testing.T) syncserver.Store

// Run runs the whole contract.
func Run(t *testing.T, factory Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s syncserver.Store)
	}{
		{"Clinics", testClinics},
		{"Tokens", testTokens},
		{"Enroll", testEnroll},
		{"EnrollRace", testEnrollRace},
		{"Revoke", testRevoke},
		{"PushIdempotent", testPushIdempotent},
		{"PushMismatch", testPushMismatch},
		{"PushDevice", testPushDevice},
		{"ClinicsApart", testClinicsApart},
		{"PullPages", testPullPages},
		{"ConcurrentPushPull", testConcurrentPushPull},
	}
	tests = append(tests, auditTests...)
	tests = append(tests, sessionTests...)
	tests = append(tests, blobTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := factory(t)
			defer s.Close()
			tt.fn(t, s)
		})
	}
}

var (
	ctx = context.Background()
	t0  = time.Date(2026, 5, 4, 8, 30, 0, 0, time.UTC)
)

// Fixtures: random keys, random ciphertext; no data resembling a person.

func newKey(t testing.TB) ed25519.PublicKey {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func mustClinic(t testing.TB, s syncserver.Store, id string) {
	t.Helper()
	if err := s.CreateClinic(ctx, syncserver.Clinic{ID: id, Name: "Clinic " + id, Created: t0}); err != nil {
		t.Fatal(err)
	}
}

func mustToken(t testing.TB, s syncserver.Store, clinic string, created time.Time) [32]byte {
	t.Helper()
	tok, err := syncproto.NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	canon, _ := syncproto.NormalizeToken(tok)
	h := syncproto.TokenHash(canon)
	if err := s.AddToken(ctx, syncserver.Token{Hash: h, Clinic: clinic, Created: created, Expires: created.Add(syncproto.TokenTTL)}); err != nil {
		t.Fatal(err)
	}
	return h
}

func newDevice(t testing.TB, name string) syncserver.Device {
	pub := newKey(t)
	return syncserver.Device{ID: syncproto.DeviceID(pub), Name: name, PublicKey: pub}
}

// mustDevice enrolls a new device in clinic.
func mustDevice(t testing.TB, s syncserver.Store, clinic string) syncserver.Device {
	t.Helper()
	d, err := s.Enroll(ctx, mustToken(t, s, clinic, t0), newDevice(t, "laptop"), t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sealed(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func versions(n int, prefix string) []syncserver.Version {
	vs := make([]syncserver.Version, n)
	for i := range vs {
		vs[i] = syncserver.Version{Record: fmt.Sprintf("rec-%s-%d", prefix, i/3), ID: fmt.Sprintf("ver-%s-%d", prefix, i), Sealed: sealed(40 + i%7)}
		if i%3 > 0 {
			vs[i].Parents = []string{vs[i-1].ID}
		}
	}
	return vs
}

func mustPush(t testing.TB, s syncserver.Store, clinic, device string, vs []syncserver.Version) ([]syncserver.PushResult, int64) {
	t.Helper()
	res, head, err := s.Push(ctx, clinic, device, vs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(vs) {
		t.Fatalf("%d results for %d versions", len(res), len(vs))
	}
	return res, head
}

// pullAll pulls every version after 0, page by page.
func pullAll(t testing.TB, s syncserver.Store, clinic string, limit int) []syncserver.Version {
	t.Helper()
	var all []syncserver.Version
	var after int64
	for {
		page, head, err := s.Pull(ctx, clinic, after, limit, syncproto.MaxPageBytes)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			if after != head {
				t.Fatalf("an empty page after %d, head %d", after, head)
			}
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
}

func sameVersion(a, b syncserver.Version) bool {
	return a.Record == b.Record && a.ID == b.ID && slices.Equal(a.Parents, b.Parents) && bytes.Equal(a.Sealed, b.Sealed)
}

func testClinics(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	mustClinic(t, s, "coast")
	if err := s.CreateClinic(ctx, syncserver.Clinic{ID: "hill", Name: "Again", Created: t0}); !errors.Is(err, syncserver.ErrExists) {
		t.Fatalf("a clinic id twice: %v", err)
	}
	c, err := s.Clinic(ctx, "hill")
	if err != nil || c.Name != "Clinic hill" || !c.Created.Equal(t0) || c.Head != 0 {
		t.Fatalf("clinic: %+v %v", c, err)
	}
	if _, err := s.Clinic(ctx, "nowhere"); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("unknown clinic: %v", err)
	}
	cs, err := s.Clinics(ctx)
	if err != nil || len(cs) != 2 || cs[0].ID != "coast" || cs[1].ID != "hill" {
		t.Fatalf("clinics: %+v %v", cs, err)
	}
}

func testTokens(t *testing.T, s syncserver.Store) {
	h := sha256.Sum256([]byte("token"))
	if err := s.AddToken(ctx, syncserver.Token{Hash: h, Clinic: "nowhere", Created: t0, Expires: t0.Add(time.Hour)}); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("a token for an unknown clinic: %v", err)
	}
	mustClinic(t, s, "hill")
	tok := syncserver.Token{Hash: h, Clinic: "hill", Created: t0, Expires: t0.Add(time.Hour)}
	if err := s.AddToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(ctx, tok); !errors.Is(err, syncserver.ErrExists) {
		t.Fatalf("a token twice: %v", err)
	}
}

func testEnroll(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	h := mustToken(t, s, "hill", t0)
	d := newDevice(t, "Front desk")
	now := t0.Add(time.Hour)
	got, err := s.Enroll(ctx, h, d, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != d.ID || got.Clinic != "hill" || got.Status != syncproto.StatusActive || !got.Enrolled.Equal(now) || !got.Revoked.IsZero() {
		t.Fatalf("enrolled: %+v", got)
	}
	stored, err := s.Device(ctx, d.ID)
	if err != nil || stored.Name != "Front desk" || !bytes.Equal(stored.PublicKey, d.PublicKey) || stored.Clinic != "hill" || !stored.Enrolled.Equal(now) {
		t.Fatalf("stored: %+v %v", stored, err)
	}

	// A retry by the same device gets the same device; anything else is refused.
	again, err := s.Enroll(ctx, h, d, now.Add(time.Minute))
	if err != nil || again.ID != d.ID || !again.Enrolled.Equal(now) {
		t.Fatalf("the same device again: %+v %v", again, err)
	}
	if _, err := s.Enroll(ctx, h, newDevice(t, "Other"), now); !errors.Is(err, syncserver.ErrTokenRefused) {
		t.Fatalf("a spent token for another device: %v", err)
	}
	impostor := d
	impostor.PublicKey = newKey(t)
	if _, err := s.Enroll(ctx, h, impostor, now); !errors.Is(err, syncserver.ErrTokenRefused) {
		t.Fatalf("a spent token, same id, another key: %v", err)
	}
	if _, err := s.Enroll(ctx, sha256.Sum256([]byte("never issued")), newDevice(t, "x"), now); !errors.Is(err, syncserver.ErrTokenRefused) {
		t.Fatalf("an unknown token: %v", err)
	}

	// Expiry: valid up to, not at, its expiry time.
	h2 := mustToken(t, s, "hill", t0)
	if _, err := s.Enroll(ctx, h2, newDevice(t, "late"), t0.Add(syncproto.TokenTTL)); !errors.Is(err, syncserver.ErrTokenRefused) {
		t.Fatalf("an expired token: %v", err)
	}
	// An enrolled device id with a fresh token: refused, and the token is not spent.
	if _, err := s.Enroll(ctx, h2, d, t0.Add(time.Hour)); !errors.Is(err, syncserver.ErrTokenRefused) {
		t.Fatalf("an enrolled device enrolled again: %v", err)
	}
	second := newDevice(t, "second")
	if _, err := s.Enroll(ctx, h2, second, t0.Add(syncproto.TokenTTL-time.Millisecond)); err != nil {
		t.Fatalf("the token after a refused use, just before expiry: %v", err)
	}
	ds, err := s.Devices(ctx)
	if err != nil || len(ds) != 2 || ds[0].ID != d.ID || ds[1].ID != second.ID {
		t.Fatalf("devices: %+v %v", ds, err)
	}
	if _, err := s.Device(ctx, syncproto.DeviceID(newKey(t))); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	seen := now.Add(2 * time.Hour)
	if err := s.Touch(ctx, d.ID, seen); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Device(ctx, d.ID); !got.LastSeen.Equal(seen) {
		t.Fatalf("last seen %v", got.LastSeen)
	}
}

// A token is spent once, however many devices race for it.
func testEnrollRace(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	h := mustToken(t, s, "hill", t0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Enroll(ctx, h, newDevice(t, "racer"), t0.Add(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else if !errors.Is(err, syncserver.ErrTokenRefused) {
				t.Errorf("enroll: %v", err)
			}
		}()
	}
	wg.Wait()
	if ds, _ := s.Devices(ctx); ok != 1 || len(ds) != 1 {
		t.Fatalf("%d enrollments succeeded, %d devices", ok, len(ds))
	}
}

func testRevoke(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	h := mustToken(t, s, "hill", t0)
	d, err := s.Enroll(ctx, h, newDevice(t, "lost laptop"), t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	if err := s.Revoke(ctx, d.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, d.ID, at.Add(time.Hour)); err != nil {
		t.Fatalf("revoke again: %v", err)
	}
	got, err := s.Device(ctx, d.ID)
	if err != nil || got.Status != syncproto.StatusRevoked || !got.Revoked.Equal(at) {
		t.Fatalf("revoked: %+v %v", got, err)
	}
	if err := s.Revoke(ctx, syncproto.DeviceID(newKey(t)), at); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	// The token's retry path does not bring a revoked device back.
	if _, err := s.Enroll(ctx, h, d, t0.Add(2*time.Minute)); !errors.Is(err, syncserver.ErrTokenRefused) {
		t.Fatalf("re-enroll revoked: %v", err)
	}
	if _, _, err := s.Push(ctx, "hill", d.ID, versions(1, "r")); !errors.Is(err, syncserver.ErrRevoked) {
		t.Fatalf("push by a revoked device: %v", err)
	}
}

func testPushIdempotent(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	d := mustDevice(t, s, "hill")
	vs := versions(25, "a")
	res, head := mustPush(t, s, "hill", d.ID, vs)
	for i, r := range res {
		if r.ID != vs[i].ID || r.Seq != int64(i+1) || r.Status != syncproto.PushStored {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if head != 25 {
		t.Fatalf("head %d", head)
	}
	// The whole batch again, then an overlapping one.
	res, _ = mustPush(t, s, "hill", d.ID, vs)
	for i, r := range res {
		if r.Seq != int64(i+1) || r.Status != syncproto.PushDuplicate {
			t.Fatalf("again, result %d: %+v", i, r)
		}
	}
	more := append(slices.Clone(vs[20:]), versions(5, "b")...)
	res, head = mustPush(t, s, "hill", d.ID, more)
	if head != 30 || res[4].Status != syncproto.PushDuplicate || res[4].Seq != 25 || res[5].Status != syncproto.PushStored || res[5].Seq != 26 {
		t.Fatalf("overlap: head %d, %+v", head, res)
	}
	if c, _ := s.Clinic(ctx, "hill"); c.Head != 30 {
		t.Fatalf("clinic head %d", c.Head)
	}
	all := pullAll(t, s, "hill", 7)
	want := append(slices.Clone(vs), more[5:]...)
	if len(all) != len(want) {
		t.Fatalf("pulled %d, want %d", len(all), len(want))
	}
	for i, v := range all {
		if !sameVersion(v, want[i]) || v.Seq != int64(i+1) || v.Device != d.ID || v.Size() != len(want[i].Sealed) {
			t.Fatalf("version %d: %+v", i, v)
		}
	}
}

func testPushMismatch(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	d := mustDevice(t, s, "hill")
	vs := versions(3, "m")
	mustPush(t, s, "hill", d.ID, vs)
	changes := map[string]func(v *syncserver.Version){
		"ciphertext": func(v *syncserver.Version) {
			v.Sealed = append(slices.Clone(v.Sealed[:len(v.Sealed)-1]), v.Sealed[len(v.Sealed)-1]^1)
		},
		"record":     func(v *syncserver.Version) { v.Record = "rec-other" },
		"parents":    func(v *syncserver.Version) { v.Parents = []string{"ver-elsewhere"} },
		"no parents": func(v *syncserver.Version) { v.Parents = nil },
	}
	for name, change := range changes {
		v := vs[1]
		change(&v)
		res, head := mustPush(t, s, "hill", d.ID, []syncserver.Version{v})
		if res[0].Status != syncproto.PushMismatch || res[0].Seq != 2 || head != 3 {
			t.Errorf("%s changed: %+v head %d", name, res[0], head)
		}
	}
	all := pullAll(t, s, "hill", 100)
	if len(all) != 3 || !sameVersion(all[1], vs[1]) {
		t.Fatalf("the stored version changed: %+v", all)
	}
}

func testPushDevice(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	mustClinic(t, s, "coast")
	coast := mustDevice(t, s, "coast")
	if _, _, err := s.Push(ctx, "hill", coast.ID, versions(1, "x")); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("a push into another clinic: %v", err)
	}
	if _, _, err := s.Push(ctx, "hill", syncproto.DeviceID(newKey(t)), versions(1, "x")); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("a push by an unknown device: %v", err)
	}
	if _, head, err := s.Pull(ctx, "hill", 0, 10, 1<<20); err != nil || head != 0 {
		t.Fatalf("hill after refused pushes: head %d %v", head, err)
	}
	if _, _, err := s.Pull(ctx, "nowhere", 0, 10, 1<<20); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("pull from an unknown clinic: %v", err)
	}
}

// Clinics number their versions apart and never see each other's.
func testClinicsApart(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	mustClinic(t, s, "coast")
	hd, cd := mustDevice(t, s, "hill"), mustDevice(t, s, "coast")
	same := versions(4, "s")
	mustPush(t, s, "hill", hd.ID, same)
	res, head := mustPush(t, s, "coast", cd.ID, same[:2])
	if head != 2 || res[0].Seq != 1 || res[0].Status != syncproto.PushStored {
		t.Fatalf("coast: %+v head %d", res, head)
	}
	if got := pullAll(t, s, "coast", 10); len(got) != 2 || got[0].Device != cd.ID {
		t.Fatalf("coast pulled %+v", got)
	}
	if got := pullAll(t, s, "hill", 10); len(got) != 4 || got[3].Device != hd.ID {
		t.Fatalf("hill pulled %d", len(got))
	}
}

func testPullPages(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	d := mustDevice(t, s, "hill")
	vs := versions(10, "p")
	mustPush(t, s, "hill", d.ID, vs)
	page, head, err := s.Pull(ctx, "hill", 3, 4, 1<<20)
	if err != nil || head != 10 || len(page) != 4 || page[0].Seq != 4 || page[3].Seq != 7 {
		t.Fatalf("page after 3: %+v head %d %v", page, head, err)
	}
	if page, _, _ := s.Pull(ctx, "hill", 10, 4, 1<<20); len(page) != 0 {
		t.Fatalf("after the head: %d", len(page))
	}
	if page, _, _ := s.Pull(ctx, "hill", 99, 4, 1<<20); len(page) != 0 {
		t.Fatalf("past the head: %d", len(page))
	}
	// A byte budget smaller than one version still returns one.
	if page, _, _ := s.Pull(ctx, "hill", 0, 10, 1); len(page) != 1 || page[0].Seq != 1 {
		t.Fatalf("byte budget 1: %d", len(page))
	}
	budget := int64(len(vs[0].Sealed) + len(vs[1].Sealed) + len(vs[2].Sealed))
	if page, _, _ := s.Pull(ctx, "hill", 0, 10, budget); len(page) != 3 {
		t.Fatalf("byte budget of three: %d", len(page))
	}
	if page, _, _ := s.Pull(ctx, "hill", 0, 10, budget-1); len(page) != 2 {
		t.Fatalf("byte budget under three: %d", len(page))
	}
	if page[0].Parents != nil || !slices.Equal(page[1].Parents, []string{vs[3].ID}) { // seq 4 starts a record, 5 follows it
		t.Fatalf("parents: %v %v", page[0].Parents, page[1].Parents)
	}
}

// Pushes from several devices at once get distinct, gapless sequence
// numbers, and a puller following the cursor meanwhile sees each version
// exactly once, in order.
func testConcurrentPushPull(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	const writers, batches, per = 4, 10, 20
	devs := make([]syncserver.Device, writers)
	for i := range devs {
		devs[i] = mustDevice(t, s, "hill")
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	var seen []syncserver.Version
	pullErr := make(chan error, 1)
	go func() {
		var after int64
		for {
			page, _, err := s.Pull(ctx, "hill", after, 13, 1<<20)
			if err != nil {
				pullErr <- err
				return
			}
			for _, v := range page {
				if v.Seq != after+1 {
					pullErr <- fmt.Errorf("after %d came %d", after, v.Seq)
					return
				}
				after = v.Seq
				seen = append(seen, v)
			}
			if len(page) == 0 {
				select {
				case <-done:
					if after == writers*batches*per {
						pullErr <- nil
						return
					}
				default:
				}
				time.Sleep(time.Millisecond)
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				vs := versions(per, fmt.Sprintf("w%d-b%d", w, b))
				if _, _, err := s.Push(ctx, "hill", devs[w].ID, vs); err != nil {
					t.Errorf("push: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	select {
	case err := <-pullErr:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the puller did not catch up")
	}
	ids := map[string]bool{}
	for _, v := range seen {
		if ids[v.ID] {
			t.Fatalf("%s seen twice", v.ID)
		}
		ids[v.ID] = true
	}
	if len(ids) != writers*batches*per {
		t.Fatalf("seen %d", len(ids))
	}
}
