package syncserver_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

// S11: per-device and per-address token buckets, on the injected clock.
func TestRateLimits(t *testing.T) {
	h := newHarness(t, nil)
	d, other := h.newDevice(), h.newDevice()
	h.enroll(d, "hill")
	h.enroll(other, "hill")
	// The enrollment took one token already.
	for i := range syncserver.DefaultPerDevice.Burst - 1 {
		if err := h.call(d, http.MethodGet, syncproto.PathStatus, nil, &syncproto.StatusResponse{}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	resp := h.request(d, http.MethodGet, syncproto.PathStatus, nil)
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	if er := refusal(t, resp); er.Code != syncproto.CodeRateLimited {
		t.Fatalf("over the burst: %s", er.Code)
	}
	// Another device is not held back; a second later there is room again.
	if err := h.call(other, http.MethodGet, syncproto.PathStatus, nil, nil); err != nil {
		t.Fatalf("another device: %v", err)
	}
	h.clock.Add(time.Second)
	for i := range int(syncserver.DefaultPerDevice.PerSecond) {
		if err := h.call(d, http.MethodGet, syncproto.PathStatus, nil, nil); err != nil {
			t.Fatalf("after a second, %d: %v", i, err)
		}
	}
	wantCode(t, h.call(d, http.MethodGet, syncproto.PathStatus, nil, nil), syncproto.CodeRateLimited)

	// Per address, before anything else, health included.
	h2 := newHarness(t, func(c *syncserver.Config) { c.PerIP = syncserver.Rate{PerSecond: 1, Burst: 5} })
	for i := range 5 {
		if err := h2.call(nil, http.MethodGet, syncproto.PathHealth, nil, nil); err != nil {
			t.Fatalf("health %d: %v", i, err)
		}
	}
	if er := refusal(t, h2.plain(nil, http.MethodGet, syncproto.PathHealth, nil)); er.Code != syncproto.CodeRateLimited {
		t.Fatalf("address over its burst: %s", er.Code)
	}
}

// S11: while one address floods the server with junk, unsigned requests,
// bad signatures and oversized bodies, an enrolled laptop on another
// address keeps syncing. Bounded: a fixed number of requests, within a
// time limit, loopback only.
func TestKeepsServingUnderFlood(t *testing.T) {
	h := newHarness(t, func(c *syncserver.Config) { c.Now = time.Now })
	attackerAddr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
	if ln, err := net.Listen("tcp", "127.0.0.2:0"); err != nil {
		t.Skipf("no second loopback address here: %v", err)
	} else {
		ln.Close()
	}
	d := h.newDevice()
	d.signer.Now = time.Now
	h.enroll(d, "hill")

	attacker := h.newClient(attackerAddr)
	stranger := h.newDevice()
	stranger.signer.Now = time.Now
	junk := make([]byte, 64<<10)
	deadline := time.Now().Add(8 * time.Second)
	var sent, limited atomic.Int64
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300 && time.Now().Before(deadline); i++ {
				var req *http.Request
				switch (w + i) % 3 {
				case 0:
					req, _ = http.NewRequest(http.MethodPost, h.url+syncproto.PathPush, strings.NewReader(string(junk)))
				case 1:
					req, _ = syncproto.NewRequest(ctx, http.MethodGet, h.url, syncproto.PathPull, nil, stranger.signer)
				default:
					req, _ = http.NewRequest(http.MethodGet, h.url+syncproto.PathHealth, nil)
				}
				resp, err := attacker.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(1)
				if resp.StatusCode == http.StatusTooManyRequests {
					limited.Add(1)
				}
			}
		}()
	}
	var after int64
	for round := range 15 {
		res, err := h.push(d, sealedVersions(20, "flood"+string(rune('a'+round))))
		if err != nil {
			t.Fatalf("round %d push: %v", round, err)
		}
		page, err := h.pull(d, after, 100)
		if err != nil {
			t.Fatalf("round %d pull: %v", round, err)
		}
		after = page.Next
		if after != res.Head {
			t.Fatalf("round %d: cursor %d, head %d", round, after, res.Head)
		}
	}
	wg.Wait()
	// How much of the flood is cut off depends on the machine's speed;
	// that some is, and that the laptop was served throughout, does not.
	if sent.Load() < 100 || limited.Load() == 0 {
		t.Fatalf("the flood: %d answered, %d rate-limited", sent.Load(), limited.Load())
	}
	t.Logf("flood: %d requests answered, %d of them rate-limited", sent.Load(), limited.Load())
}

// TLS 1.2 or later with AEAD suites only; HTTP/1.1; never plain HTTP.
func TestTLSSettings(t *testing.T) {
	h := newHarness(t, nil)
	get := func(c *http.Client) (*http.Response, error) {
		resp, err := c.Get(h.url + syncproto.PathHealth)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	refused := []struct {
		name string
		cfg  *tls.Config
	}{
		{"TLS 1.1", &tls.Config{MaxVersion: tls.VersionTLS11, ServerName: "localhost"}},
		{"TLS 1.0", &tls.Config{MaxVersion: tls.VersionTLS10, ServerName: "localhost"}},
		{"CBC suites", &tls.Config{MaxVersion: tls.VersionTLS12, ServerName: "localhost", CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}}},
		{"RSA key exchange", &tls.Config{MaxVersion: tls.VersionTLS12, ServerName: "localhost", CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}},
	}
	for _, c := range refused {
		if _, err := get(h.tlsClient(c.cfg)); err == nil {
			t.Errorf("%s accepted", c.name)
		}
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		resp, err := get(h.tlsClient(&tls.Config{MinVersion: v, MaxVersion: v, ServerName: "localhost", NextProtos: []string{"h2", "http/1.1"}}))
		if err != nil {
			t.Fatalf("TLS %x: %v", v, err)
		}
		if resp.TLS.Version != v || resp.Proto != "HTTP/1.1" {
			t.Errorf("TLS %x: negotiated %x, %s", v, resp.TLS.Version, resp.Proto)
		}
	}
	// A client pinning another certificate is stopped before it sends.
	var wrong [32]byte
	tr := &http.Transport{TLSClientConfig: syncproto.PinnedTLS(wrong)}
	defer tr.CloseIdleConnections()
	if _, err := get(&http.Client{Transport: tr}); err == nil || !strings.Contains(err.Error(), "pinned") {
		t.Errorf("wrong pin: %v", err)
	}
	// Plain HTTP to the port gets no answer of the protocol.
	resp, err := http.Get(strings.Replace(h.url, "https://", "http://", 1) + syncproto.PathHealth)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "ok") {
			t.Fatalf("plain HTTP answered: %d %s", resp.StatusCode, body)
		}
	}
}

// failingStore fails or panics where told, with causes full of the
// words that must never reach the wire.
type failingStore struct {
	syncserver.Store
	pullErr  error
	panicked atomic.Bool
}

const leaky = "SELECT ciphertext FROM versions WHERE clinic = 'hill' -- /var/lib/outpost-server/server.db: database disk image is malformed"

func (f *failingStore) Pull(ctx context.Context, clinic string, after int64, limit int, maxBytes int64) ([]syncserver.Version, int64, error) {
	if f.panicked.Load() {
		panic("runtime error: index out of range [3] with length 3 " + leaky)
	}
	return nil, 0, f.pullErr
}

// S12: a server fault reaches the wire as a code, a plain message and an
// incident id; the cause is in the log under that id, never the answer.
func TestNoDetailInErrors(t *testing.T) {
	fs := &failingStore{pullErr: errors.New(leaky)}
	h := newHarness(t, func(c *syncserver.Config) {
		fs.Store = c.Store
		c.Store = fs
	})
	d := h.newDevice()
	h.enroll(d, "hill")
	for _, panics := range []bool{false, true} {
		fs.panicked.Store(panics)
		resp := h.plain(d, http.MethodGet, syncproto.PathPull, nil)
		raw := snapshotBody(t, resp)
		er := refusal(t, resp)
		if er.Code != syncproto.CodeInternal || resp.StatusCode != 500 {
			t.Fatalf("fault: %d %s", resp.StatusCode, er.Code)
		}
		if w := containsAny(string(raw), "select", "versions", "/var/", "server.db", "malformed", "panic", "goroutine", "runtime", "index out of range", ".go:"); w != "" {
			t.Fatalf("the answer holds %q: %s", w, raw)
		}
		logs := h.logs.String()
		if !strings.Contains(logs, er.Incident) || !strings.Contains(logs, "disk image is malformed") {
			t.Fatalf("the log lacks the incident or its cause:\n%s", logs)
		}
		if panics && !strings.Contains(logs, "goroutine") {
			t.Fatal("a panic's stack is not in the log")
		}
	}
	// Every refusal a client can provoke has the same shape.
	stranger := h.newDevice()
	for _, resp := range []*http.Response{
		h.plain(nil, http.MethodGet, syncproto.PathStatus, nil),
		h.plain(stranger, http.MethodGet, syncproto.PathStatus, nil),
		h.plain(d, http.MethodGet, syncproto.PathPull+"?after=-1", nil),
		h.plain(d, http.MethodPost, syncproto.PathPush, syncproto.PushRequest{}),
		h.plain(stranger, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: strings.Repeat("A", 32), PublicKey: stranger.pub, Name: "x"}),
	} {
		raw := snapshotBody(t, resp)
		refusal(t, resp)
		if w := containsAny(string(raw), "sql", "json:", "syncproto", "syncserver", "/var/", "invalid character", "goroutine"); w != "" {
			t.Errorf("a refusal holds %q: %s", w, raw)
		}
	}
}

// snapshotBody reads a plain body and puts it back for refusal().
func snapshotBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(raw)))
	return raw
}
