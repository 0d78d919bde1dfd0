package sync_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	"outpost/backend/seal"
	"outpost/backend/sync"
	"outpost/backend/syncproto"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

// Faults the proxy injects, one per request.
const (
	faultPass      = "pass"
	faultDrop      = "drop"      // forwarded, then the connection closes unanswered
	faultTruncate  = "truncate"  // half the body, then the connection closes
	faultShort     = "short"     // half the body, framed as if whole
	faultDelay     = "delay"     // answered late, sometimes after the client gave up
	faultDuplicate = "duplicate" // the previous answer on this path instead of this one
	faultReorder   = "reorder"   // this answer is held for the next request on this path
)

var faults = []string{faultPass, faultPass, faultPass, faultDrop, faultTruncate, faultShort, faultDelay, faultDuplicate, faultReorder}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// faultProxy is an HTTPS proxy in front of the real server that presents
// the server's own certificate (so a laptop's pin holds) and, chosen by a
// seeded random source, mishandles answers. Every request is forwarded:
// the server always does the work, only the answer is lost, late, cut,
// repeated or given to another request. Answers are keyed by path alone,
// so an answer may reach another laptop, or the same laptop's request
// with another cursor.
type faultProxy struct {
	t     *testing.T
	base  string
	up    *http.Client
	upURL string
	delay time.Duration

	mu     gosync.Mutex
	rnd    *rand.Rand
	last   map[string]answer // the newest real answer per path
	held   map[string]answer // an answer held for the next request per path
	counts map[string]int
}

func startFaultProxy(t *testing.T, srv *server, seed uint64, delay time.Duration) *faultProxy {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(srv.Dir, "tls-cert.pem"), filepath.Join(srv.Dir, "tls-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, base: "https://" + ln.Addr().String(), up: sync.Pinned(srv.Pin, 30*time.Second), upURL: srv.Base, delay: delay,
		rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), last: map[string]answer{}, held: map[string]answer{}, counts: map[string]int{}}
	hs := &http.Server{Handler: p, TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return p
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	up, err := http.NewRequestWithContext(context.Background(), r.Method, p.upURL+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	for k, vs := range r.Header {
		up.Header[k] = vs
	}
	resp, err := p.up.Do(up)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	a := answer{status: resp.StatusCode, header: resp.Header.Clone()}
	a.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		panic(http.ErrAbortHandler)
	}

	path := r.URL.Path
	p.mu.Lock()
	fault := faults[p.rnd.IntN(len(faults))]
	wait := time.Duration(p.rnd.Int64N(int64(2 * p.delay)))
	send := a
	if h, ok := p.held[path]; ok {
		// The held answer goes to this request; its own answer is lost.
		fault, send = faultReorder, h
		delete(p.held, path)
	} else {
		switch fault {
		case faultDuplicate:
			if prev, ok := p.last[path]; ok {
				send = prev
			}
		case faultReorder:
			p.held[path] = a
			fault = faultDrop
		}
	}
	p.last[path] = a
	p.counts[fault]++
	p.mu.Unlock()

	switch fault {
	case faultDrop:
		panic(http.ErrAbortHandler)
	case faultDelay:
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			panic(http.ErrAbortHandler)
		}
	}
	for k, vs := range send.header {
		w.Header()[k] = vs
	}
	body = send.body
	switch fault {
	case faultTruncate:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(send.status)
		w.Write(body[:len(body)/2])
		panic(http.ErrAbortHandler)
	case faultShort:
		body = body[:len(body)/2]
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(send.status)
	w.Write(body)
}

func faultSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("OUTPOST_FAULT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("OUTPOST_FAULT_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("fault seed %d (replay with OUTPOST_FAULT_SEED=%d)", seed, seed)
	return seed
}

// outbox counts the versions a laptop has not yet had stored.
func (l *laptop) outbox(t testing.TB) int {
	t.Helper()
	var n int
	if err := l.v.R.QueryRow("SELECT count(*) FROM outbox").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// settle syncs every laptop directly with the server, without faults,
// until a whole pass moves nothing.
func settle(t *testing.T, ls ...*laptop) {
	t.Helper()
	for pass := 0; pass < 20; pass++ {
		moved := false
		for _, l := range ls {
			var res sync.Result
			var err error
			for try := 0; ; try++ {
				if res, err = l.c.Sync(ctx); err == nil {
					break
				}
				var pe *syncproto.Error
				if try > 20 || !errors.As(err, &pe) || (pe.Code != syncproto.CodeRateLimited && pe.Code != syncproto.CodeReplayed && pe.Code != syncproto.CodeUnavailable) {
					t.Fatalf("settling sync: %v", err)
				}
				time.Sleep(max(pe.RetryAfter, 200*time.Millisecond))
			}
			moved = moved || res.Pushed > 0 || res.Pulled > 0
		}
		if !moved {
			return
		}
	}
	t.Fatal("syncing never settled")
}

// assertConverged: every laptop holds exactly the same versions, none
// twice, every version ever written is among them, no outbox holds any.
func assertConverged(t *testing.T, written map[string]bool, ls ...*laptop) {
	t.Helper()
	want := make([]string, 0, len(written))
	for id := range written {
		want = append(want, id)
	}
	slices.Sort(want)
	for i, l := range ls {
		got := l.versions(t)
		if !slices.Equal(got, want) {
			missing, extra := 0, 0
			for _, id := range want {
				if _, ok := slices.BinarySearch(got, id); !ok {
					missing++
				}
			}
			for j, id := range got {
				if _, ok := slices.BinarySearch(want, id); !ok || (j > 0 && got[j-1] == id) {
					extra++
				}
			}
			t.Errorf("laptop %d holds %d versions, want %d: %d missing, %d unknown or twice", i, len(got), len(want), missing, extra)
		}
		if n := l.outbox(t); n != 0 {
			t.Errorf("laptop %d: %d versions still in the outbox", i, n)
		}
		if len(l.alerts) != 0 {
			t.Errorf("laptop %d alerted %v", i, l.alerts)
		}
	}
}

// Acceptance (issue 6): through a proxy that drops, truncates, delays,
// duplicates and reorders answers, over 200+ randomised rounds of writes
// and syncs on three laptops, no version is lost or stored twice, and
// once the network is good again every laptop holds the same set.
func TestFaultProxyRandomRounds(t *testing.T) {
	seed := faultSeed(t)
	rnd := rand.New(rand.NewPCG(seed, 1))
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	const timeout = 400 * time.Millisecond
	proxy := startFaultProxy(t, srv, seed, timeout)
	names := []string{"ada", "ben", "cyd"}
	ls := make([]*laptop, len(names))
	for i, n := range names {
		ls[i] = newLaptop(t, srv, key, n)
		ls[i].c.Base = proxy.base
		ls[i].c.HTTP = sync.Pinned(srv.Pin, timeout)
	}
	written := map[string]bool{}
	var patients []string // record ids some laptop has written
	syncErrs := 0
	const rounds = 240
	for round := 0; round < rounds; round++ {
		l := ls[rnd.IntN(len(ls))]
		for n := rnd.IntN(4); n > 0; n-- {
			if len(patients) == 0 || rnd.IntN(3) == 0 {
				rec, err := l.s.RegisterPatient(ctx, l.actor, patient(fmt.Sprintf("Fam%d", round), "Hill"))
				if err != nil {
					t.Fatal(err)
				}
				written[rec.VersionID] = true
				patients = append(patients, rec.ID)
				continue
			}
			// An update of a patient this laptop may have (another
			// laptop updating the same one makes a conflict).
			id := patients[rnd.IntN(len(patients))]
			cur, err := l.s.Patient(ctx, l.actor, id)
			if err != nil {
				continue // not pulled here yet
			}
			rec, err := l.s.UpdatePatient(ctx, l.actor, id, cur.VersionID, patient(cur.Patient.Family, fmt.Sprintf("V%d", round)), "moved")
			if err != nil {
				continue // e.g. a conflict waiting for a merge
			}
			written[rec.VersionID] = true
		}
		if _, err := l.c.Sync(ctx); err != nil {
			syncErrs++ // a real laptop retries later
		}
	}
	proxy.mu.Lock()
	t.Logf("%d rounds, %d versions written, %d syncs failed; faults %v", rounds, len(written), syncErrs, proxy.counts)
	proxy.mu.Unlock()
	for _, l := range ls {
		l.c.Base = srv.Base
		l.c.HTTP = sync.Pinned(srv.Pin, 30*time.Second)
	}
	settle(t, ls...)
	assertConverged(t, written, ls...)
}

// registerMany fills a laptop's outbox with n new patients.
func registerMany(t testing.TB, l *laptop, n int, written map[string]bool) {
	t.Helper()
	for i := 0; i < n; i++ {
		rec, err := l.s.RegisterPatient(ctx, l.actor, patient(fmt.Sprintf("Bulk%d", i), "Hill"))
		if err != nil {
			t.Fatal(err)
		}
		written[rec.VersionID] = true
	}
}

// killWhen runs sync in the background and SIGKILLs the server as soon
// as cond holds (mid-sync), then restarts it on the same data dir and
// address.
func killServerWhen(t *testing.T, srv *server, l *laptop, cond func() bool) {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := l.c.Sync(ctx); done <- err }()
	for !cond() {
		select {
		case err := <-done:
			t.Fatalf("the sync ended before the server was killed: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	srv.Kill()
	if err := <-done; err == nil {
		t.Fatal("a sync whose server was killed did not fail")
	}
	srv.Serve(t)
}

// Acceptance (issue 6): kill -9 of the server in the middle of a push of
// thousands of versions and in the middle of another laptop's pull of
// them; after a restart on the same data dir the next syncs converge.
func TestFaultServerKilledMidSync(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newLaptop(t, srv, key, "ada"), newLaptop(t, srv, key, "ben")
	written := map[string]bool{}
	const n = 3000
	registerMany(t, a, n, written)

	killServerWhen(t, srv, a, func() bool { return a.outbox(t) < n })
	left := a.outbox(t)
	t.Logf("server killed mid-push: %d of %d versions still queued", left, n)
	if left == 0 || left == n {
		t.Errorf("the kill was not mid-push: %d of %d queued", left, n)
	}

	// b pulls; the server is killed once b applied a page.
	a.sync(t)
	killServerWhen(t, srv, b, func() bool {
		c, err := b.s.Cursor(ctx, sync.CursorKey)
		return err == nil && c > 0
	})
	c, _ := b.s.Cursor(ctx, sync.CursorKey)
	t.Logf("server killed mid-pull at cursor %d of %d", c, n)
	settle(t, a, b)
	assertConverged(t, written, a, b)
}

// Acceptance (issue 6), the client's side: a real kill -9 of a laptop
// process mid-sync. The child is this test binary run again; its vault's
// key is in a passphrase key file (the test keyring lives in memory and
// no other process can reach it). After the kill, the parent opens the
// same vault and syncs: it converges with another laptop.
// Also: a sync whose context is cancelled mid-way (the in-process
// equivalent) leaves nothing a next sync cannot finish.
func TestFaultClientKilledMidSync(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	pass := []byte("correct horse battery staple")
	opts := vault.Options{Dir: filepath.Join(t.TempDir(), "vault"), Keyring: vaulttest.NewKeyring(), Argon2: vaulttest.FastArgon2}
	v, _, err := vault.Create(ctx, opts, vault.StorePassphrase, pass)
	if err != nil {
		t.Fatal(err)
	}
	a := openLaptop(t, v, srv, key, "ada")
	if _, err := a.c.Enroll(ctx, srv.Token(t, "hill", "Hill Clinic"), "ada"); err != nil {
		t.Fatal(err)
	}
	b := newLaptop(t, srv, key, "ben")
	written := map[string]bool{}
	const n = 3000
	registerMany(t, a, n, written)
	registerMany(t, b, 200, written)
	b.sync(t)
	v.Close()

	child := exec.Command(os.Args[0], "-test.run=^TestFaultClientChild$", "-test.count=1")
	child.Env = append(os.Environ(), "OUTPOST_FAULT_CHILD="+opts.Dir, "OUTPOST_FAULT_BASE="+srv.Base,
		"OUTPOST_FAULT_PIN="+hex.EncodeToString(srv.Pin[:]), "OUTPOST_FAULT_KEY="+hex.EncodeToString(key[:]), "OUTPOST_FAULT_PASS="+string(pass))
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var childErr bytes.Buffer
	child.Stderr = &childErr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	// Killed right after the child hears its second push answer: the
	// first batch is recorded as sent, the second is being recorded or the
	// third sealed.
	sc := bufio.NewScanner(out)
	heard := false
	for answers := 0; sc.Scan(); {
		if sc.Text() == "answer "+syncproto.PathPush {
			if answers++; answers == 2 {
				heard = true
				break
			}
		}
	}
	child.Process.Signal(os.Kill)
	child.Wait()
	if !heard {
		t.Fatalf("the child never heard a push answer:\n%s", childErr.String())
	}

	v, err = vault.OpenPassphrase(ctx, opts, pass)
	if err != nil {
		t.Fatalf("the vault of a killed laptop does not open: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	a = openLaptop(t, v, srv, key, "ada")
	left := a.outbox(t)
	t.Logf("client killed mid-push: %d of %d versions still queued", left, n)
	if left == 0 || left == n {
		t.Errorf("the kill was not mid-push: %d of %d queued", left, n)
	}

	// A sync cancelled mid-pull (the in-process kill).
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := a.c.Sync(cctx); done <- err }()
	for {
		cur, _ := a.s.Cursor(ctx, sync.CursorKey)
		if cur > 0 {
			cancel()
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("the sync ended before it was cancelled: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	if err := <-done; err == nil {
		t.Log("the cancelled sync finished its last page anyway")
	}
	settle(t, a, b)
	assertConverged(t, written, a, b)
}

// TestFaultClientChild is the laptop process that TestFaultClientKilledMidSync
// kills; it does nothing in a normal run.
func TestFaultClientChild(t *testing.T) {
	dir := os.Getenv("OUTPOST_FAULT_CHILD")
	if dir == "" {
		t.Skip("run as a child of TestFaultClientKilledMidSync")
	}
	v, err := vault.OpenPassphrase(ctx, vault.Options{Dir: dir, Keyring: vaulttest.NewKeyring(), Argon2: vaulttest.FastArgon2}, []byte(os.Getenv("OUTPOST_FAULT_PASS")))
	if err != nil {
		t.Fatal(err)
	}
	srv := &server{Base: os.Getenv("OUTPOST_FAULT_BASE")}
	pin, _ := hex.DecodeString(os.Getenv("OUTPOST_FAULT_PIN"))
	copy(srv.Pin[:], pin)
	k, _ := hex.DecodeString(os.Getenv("OUTPOST_FAULT_KEY"))
	var key seal.Key
	copy(key[:], k)
	l := openLaptop(t, v, srv, key, "ada")
	l.c.HTTP.Transport = announce{l.c.HTTP.Transport}
	for {
		l.c.Sync(ctx) // until killed
	}
}

// announce tells the parent on stdout of every answer the child hears.
type announce struct{ rt http.RoundTripper }

func (a announce) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := a.rt.RoundTrip(r)
	if err == nil {
		resp.Body = announceBody{resp.Body, r.URL.Path}
	}
	return resp, err
}

type announceBody struct {
	io.ReadCloser
	path string
}

func (b announceBody) Close() error {
	err := b.ReadCloser.Close()
	fmt.Println("answer " + b.path)
	return err
}
