package syncserver_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
	"outpost/backend/syncserver/sqlite"
)

var ctx = context.Background()

// clock is the injected time of a test: the server's, the rate limits'
// and the devices' signatures.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a real server: a SQLite store in a temporary folder, the
// real http.Server with its TLS settings on a loopback port, and clients
// that pin its self-signed certificate.
type harness struct {
	t      testing.TB
	store  *sqlite.Store
	dbPath string
	clock  *clock
	logs   *syncBuffer
	url    string
	client *http.Client
	fp     [32]byte
	cert   tls.Certificate
}

func newHarness(t testing.TB, tune func(*syncserver.Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: &clock{now: time.Now().UTC().Truncate(time.Second)}, logs: &syncBuffer{}}
	h.dbPath = filepath.Join(t.TempDir(), "server.db")
	var err error
	if h.store, err = sqlite.Create(ctx, h.dbPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.store.Close() })
	cfg := syncserver.Config{Store: h.store, Now: h.clock.Now, Log: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if tune != nil {
		tune(&cfg)
	}
	srv, err := syncserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := syncserver.NewCertificate([]string{"localhost", "127.0.0.1"}, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.cert, _, err = syncserver.LoadCertificate(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	h.fp, _ = syncproto.ParseFingerprint(syncproto.Fingerprint(h.cert.Certificate[0]))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln, h.cert) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	h.url = "https://" + ln.Addr().String()
	h.client = h.newClient(nil)
	return h
}

// newClient returns a client pinning the server's certificate, from the
// local address local (any when nil).
func (h *harness) newClient(local net.Addr) *http.Client {
	tr := &http.Transport{TLSClientConfig: syncproto.PinnedTLS(h.fp), MaxIdleConnsPerHost: 8, ForceAttemptHTTP2: false}
	if local != nil {
		tr.DialContext = (&net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}).DialContext
	}
	h.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// rootsClient trusts the certificate as a CA would, for tests of the
// TLS settings themselves.
func (h *harness) tlsClient(cfg *tls.Config) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(h.cert.Leaf)
	cfg.RootCAs = pool
	tr := &http.Transport{TLSClientConfig: cfg}
	h.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// device is a laptop: its key pair and a signer on the test's clock.
type device struct {
	id     string
	pub    ed25519.PublicKey
	priv   ed25519.PrivateKey
	signer *syncproto.Signer
}

func (h *harness) newDevice() *device {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	id := syncproto.DeviceID(pub)
	return &device{id: id, pub: pub, priv: priv, signer: &syncproto.Signer{Device: id, Key: priv, Now: h.clock.Now}}
}

// clinic creates a clinic (if new) and an enrollment token for it, as
// `outpost-server enroll` does, and returns the token.
func (h *harness) token(clinic string, created time.Time) string {
	h.t.Helper()
	if _, err := h.store.Clinic(ctx, clinic); errors.Is(err, syncserver.ErrNotFound) {
		if err := h.store.CreateClinic(ctx, syncserver.Clinic{ID: clinic, Name: "Clinic " + clinic, Created: created}); err != nil {
			h.t.Fatal(err)
		}
	}
	tok, err := syncproto.NewToken(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	canon, _ := syncproto.NormalizeToken(tok)
	if err := h.store.AddToken(ctx, syncserver.Token{Hash: syncproto.TokenHash(canon), Clinic: clinic, Created: created, Expires: created.Add(syncproto.TokenTTL)}); err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// request sends a request signed by d (unsigned when d is nil).
func (h *harness) request(d *device, method, uri string, payload any) *http.Response {
	h.t.Helper()
	var s *syncproto.Signer
	if d != nil {
		s = d.signer
	}
	req, err := syncproto.NewRequest(ctx, method, h.url, uri, payload, s)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.send(req)
}

func (h *harness) send(req *http.Request) *http.Response {
	h.t.Helper()
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return resp
}

// call sends a signed request and reads its answer into out.
func (h *harness) call(d *device, method, uri string, payload, out any) error {
	h.t.Helper()
	return syncproto.ReadResponse(h.request(d, method, uri, payload), 64<<20, out)
}

// enroll enrolls d in clinic with a new token.
func (h *harness) enroll(d *device, clinic string) syncproto.EnrollResponse {
	h.t.Helper()
	var resp syncproto.EnrollResponse
	if err := h.call(d, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: h.token(clinic, h.clock.Now()), PublicKey: d.pub, Name: "Laptop " + d.id[:6]}, &resp); err != nil {
		h.t.Fatalf("enroll: %v", err)
	}
	return resp
}

func (h *harness) push(d *device, vs []syncproto.Version) (syncproto.PushResponse, error) {
	h.t.Helper()
	var resp syncproto.PushResponse
	err := h.call(d, http.MethodPost, syncproto.PathPush, syncproto.PushRequest{Versions: vs}, &resp)
	return resp, err
}

func (h *harness) pull(d *device, after int64, limit int) (syncproto.PullResponse, error) {
	h.t.Helper()
	var resp syncproto.PullResponse
	err := h.call(d, http.MethodGet, fmt.Sprintf("%s?after=%d&limit=%d", syncproto.PathPull, after, limit), nil, &resp)
	return resp, err
}

// refusal reads a refusal's body as sent, checking its shape: exactly
// code, message (the code's own) and incident, nothing else (S12).
func refusal(t testing.TB, resp *http.Response) syncproto.ErrorResponse {
	t.Helper()
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" && !resp.Uncompressed {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var er syncproto.ErrorResponse
	if err := decodeStrict(raw, &er); err != nil {
		t.Fatalf("refusal body %q: %v", raw, err)
	}
	if !er.Code.Known() || er.Message != er.Code.Message() || len(er.Incident) != 9 || er.Code.Status() != resp.StatusCode {
		t.Fatalf("refusal %d %+v", resp.StatusCode, er)
	}
	checkHeaders(t, resp)
	return er
}

// checkHeaders: no version banner, no cookies (S13, P4).
func checkHeaders(t testing.TB, resp *http.Response) {
	t.Helper()
	for _, name := range []string{"Server", "X-Powered-By", "Set-Cookie"} {
		if v := resp.Header.Get(name); v != "" {
			t.Errorf("header %s: %q", name, v)
		}
	}
}

// plain sends a request asking for an uncompressed answer.
func (h *harness) plain(d *device, method, uri string, payload any) *http.Response {
	h.t.Helper()
	var s *syncproto.Signer
	if d != nil {
		s = d.signer
	}
	req, err := syncproto.NewRequest(ctx, method, h.url, uri, payload, s)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Del("Accept-Encoding")
	tr := h.client.Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, uri, err)
	}
	return resp
}

func wantCode(t testing.TB, err error, code syncproto.Code) {
	t.Helper()
	var e *syncproto.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func containsAny(s string, words ...string) string {
	low := strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(low, strings.ToLower(w)) {
			return w
		}
	}
	return ""
}
