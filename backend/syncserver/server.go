// Package syncserver is the clinic server's HTTP side: device enrollment,
// push and pull of sealed record versions, and device status, over a
// Store. It holds ciphertext and routing metadata only, and links nothing
// that could open a record (backend/arch_test.go checks the binary).
//
// Every request but GET /health must carry a valid device signature
// (syncproto); the answer to anything else is a refusal with a code from
// the closed set, a plain message and an incident id, the detail going
// only to the server's log.
package syncserver

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"outpost/backend/syncproto"
)

// Config is what a Server needs; zero fields take the defaults.
type Config struct {
	Store Store
	Log   *slog.Logger     // discarded when nil
	Now   func() time.Time // time.Now when nil
	Rand  io.Reader        // crypto/rand when nil (incident ids)

	// MaxSkew bounds a request's clock difference (syncproto.MaxSkew).
	MaxSkew time.Duration
	// MaxPushBody and MaxDecodedBody bound a push before and after
	// decompression (syncproto.MaxPushBody, MaxDecodedBody); they may
	// be lowered, never raised beyond those.
	MaxPushBody, MaxDecodedBody int64
	// MaxBlobBody bounds a blob upload as sent (syncproto.MaxBlobBody);
	// it may be lowered, never raised beyond that.
	MaxBlobBody int64
	// PerDevice and PerIP are the rate limits (DefaultPerDevice,
	// DefaultPerIP when zero).
	PerDevice, PerIP Rate
	// MaxConcurrentPushes bounds the pushes held in memory at once (4).
	MaxConcurrentPushes int
	// NonceCapacity bounds the replay cache (syncproto.DefaultNonceCapacity).
	NonceCapacity int
	// ReceiptKey signs audit receipts (audit.go); New makes a key for
	// this run alone when it is nil.
	ReceiptKey ed25519.PrivateKey
	// Alerted hears each new alert (a Webhook's Notify), when set.
	Alerted func(Alert)
}

// Server answers the sync protocol. Create it with New.
type Server struct {
	store     Store
	log       *slog.Logger
	now       func() time.Time
	rand      io.Reader
	verifier  *syncproto.Verifier
	maxPush   int64
	maxDecode int64
	maxBlob   int64
	perDevice *limiter
	perIP     *limiter
	pushes    chan struct{}
	routes    map[string]route

	touchMu sync.Mutex
	touched map[string]time.Time

	receiptKey ed25519.PrivateKey
	alerts     *alerter
}

type route struct {
	method  string
	maxBody int64
	handle  func(s *Server, w http.ResponseWriter, r *http.Request, d Device, body []byte)
}

// New returns a Server over cfg.Store.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("syncserver: no store")
	}
	s := &Server{store: cfg.Store, log: cfg.Log, now: cfg.Now, rand: cfg.Rand, touched: map[string]time.Time{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	skew := cfg.MaxSkew
	if skew <= 0 || skew > syncproto.MaxSkew {
		skew = syncproto.MaxSkew
	}
	s.verifier = &syncproto.Verifier{Now: s.now, MaxSkew: skew, Nonces: syncproto.NewNonceCache(skew, cfg.NonceCapacity)}
	s.maxPush = limitOr(cfg.MaxPushBody, syncproto.MaxPushBody)
	s.maxDecode = limitOr(cfg.MaxDecodedBody, syncproto.MaxDecodedBody)
	s.maxBlob = limitOr(cfg.MaxBlobBody, syncproto.MaxBlobBody)
	perDevice, perIP := cfg.PerDevice, cfg.PerIP
	if perDevice == (Rate{}) {
		perDevice = DefaultPerDevice
	}
	if perIP == (Rate{}) {
		perIP = DefaultPerIP
	}
	s.perDevice, s.perIP = newLimiter(perDevice, s.now), newLimiter(perIP, s.now)
	pushes := cfg.MaxConcurrentPushes
	if pushes <= 0 {
		pushes = 4
	}
	s.pushes = make(chan struct{}, pushes)
	if err := s.initAudit(cfg); err != nil {
		return nil, err
	}
	s.routes = map[string]route{
		syncproto.PathPush:   {http.MethodPost, s.maxPush, (*Server).push},
		syncproto.PathPull:   {http.MethodGet, 0, (*Server).pull},
		syncproto.PathStatus: {http.MethodGet, 0, (*Server).status},
	}
	for _, more := range []map[string]route{s.auditRoutes(), s.sessionRoutes(), s.blobRoutes()} {
		for path, r := range more {
			s.routes[path] = r
		}
	}
	return s, nil
}

func limitOr(v, ceiling int64) int64 {
	if v <= 0 || v > ceiling {
		return ceiling
	}
	return v
}

// TLSConfig returns the server's TLS settings: TLS 1.2 or later, only
// AEAD cipher suites with forward secrecy (TLS 1.3's are all such),
// modern curves, HTTP/1.1 only.
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384},
		NextProtos:       []string{"http/1.1"},
	}
}

// Timeouts of the HTTP server (S11): a slow client is cut off rather
// than holding a connection. A push of the largest size needs about
// 330 KB/s to arrive within ReadTimeout.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 2 * time.Minute
	WriteTimeout      = 2 * time.Minute
	IdleTimeout       = 90 * time.Second
	MaxHeaderBytes    = 16 << 10
)

// HTTPServer returns an http.Server for s with the timeouts, limits and
// TLS settings above; serve it only with ServeTLS (or on a TLS
// listener). HTTP/2 is not offered. Its own error log (TLS handshake
// failures) goes to the server's log.
func (s *Server) HTTPServer(cert tls.Certificate) *http.Server {
	return &http.Server{
		Handler:           s,
		TLSConfig:         TLSConfig(cert),
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// ServeHTTP answers one request: health without a signature, everything
// else only after the device's signature verifies.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.fail(w, r, syncproto.CodeInternal, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
		}
	}()
	if r.TLS == nil { // never on plain HTTP, whatever the listener
		s.fail(w, r, syncproto.CodeBadRequest, errors.New("plain HTTP refused"))
		return
	}
	if ok, wait := s.perIP.allow(rateKey(r)); !ok {
		s.refuseRate(w, r, wait, "address")
		return
	}
	switch r.URL.Path {
	case syncproto.PathHealth:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.fail(w, r, syncproto.CodeNotFound, errors.New("health: method "+r.Method))
			return
		}
		s.reply(w, r, syncproto.HealthResponse{Status: "ok"})
		return
	case syncproto.PathEnroll:
		s.enroll(w, r)
		return
	}
	// A route is found by its path, or by method and path where one
	// path answers two methods (GET and POST /v1/blobs).
	rt, known := s.routes[r.URL.Path]
	if !known || r.Method != rt.method {
		rt, known = s.routes[r.Method+" "+r.URL.Path]
	}
	if !known || r.Method != rt.method {
		rt = route{maxBody: 0} // still authenticated first: nothing answers an unsigned request (P4)
	}
	// A push's body is read only while it holds one of the push slots,
	// which bound the memory that bodies take.
	var release func()
	defer func() {
		if release != nil {
			release()
		}
	}()
	gate := func() bool {
		if rt.maxBody == 0 {
			return true
		}
		var ok bool
		if release, ok = s.acquirePush(r.Context()); !ok {
			s.fail(w, r, syncproto.CodeUnavailable, errors.New("too many pushes at once"))
		}
		return ok
	}
	d, body, ok := s.authenticate(w, r, rt.maxBody, gate)
	if !ok {
		return
	}
	if rt.handle == nil {
		s.fail(w, r, syncproto.CodeNotFound, errors.New("no route"), "device", d.ID)
		return
	}
	if d.Status != syncproto.StatusActive && r.URL.Path != syncproto.PathStatus {
		s.refusedRevoked(r.Context(), d)
		s.fail(w, r, syncproto.CodeRevoked, errors.New("revoked device"), "device", d.ID)
		return
	}
	s.touch(r.Context(), d.ID)
	rt.handle(s, w, r, d, body)
}

func (s *Server) acquirePush(ctx context.Context) (func(), bool) {
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case s.pushes <- struct{}{}:
		return func() { <-s.pushes }, true
	case <-ctx.Done():
	case <-t.C:
	}
	return nil, false
}

// readBody reads at most max bytes of body: over that it answers 413.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	if r.ContentLength > max {
		s.fail(w, r, syncproto.CodeTooLarge, fmt.Errorf("content length %d over %d", r.ContentLength, max))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		s.fail(w, r, syncproto.CodeTooLarge, fmt.Errorf("body over %d", max))
		return nil, false
	case err != nil:
		s.fail(w, r, syncproto.CodeBadRequest, fmt.Errorf("read body: %w", err))
		return nil, false
	}
	return body, true
}

// authenticate reads the signature, finds the device, passes the gate,
// reads the body (up to max) and verifies the signature over it, then
// applies the device's rate limit. On any failure it has answered.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, max int64, gate func() bool) (Device, []byte, bool) {
	signed, err := syncproto.ParseSigned(r.Header)
	if err != nil {
		s.fail(w, r, syncproto.CodeUnauthenticated, err)
		return Device{}, nil, false
	}
	d, err := s.store.Device(r.Context(), signed.Device)
	if errors.Is(err, ErrNotFound) {
		s.fail(w, r, syncproto.CodeUnauthenticated, errors.New("unknown device"), "device", signed.Device)
		return Device{}, nil, false
	}
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err)
		return Device{}, nil, false
	}
	if !gate() {
		return Device{}, nil, false
	}
	body, ok := s.readBody(w, r, max)
	if !ok {
		return Device{}, nil, false
	}
	if !s.verify(w, r, signed, body, d.PublicKey) {
		return Device{}, nil, false
	}
	if ok, wait := s.perDevice.allow(d.ID); !ok {
		s.refuseRate(w, r, wait, "device "+d.ID)
		return Device{}, nil, false
	}
	return d, body, true
}

// verify checks signed over the request and body under pub; on failure
// it has answered.
func (s *Server) verify(w http.ResponseWriter, r *http.Request, signed syncproto.Signed, body []byte, pub []byte) bool {
	err := s.verifier.Verify(signed, r.Method, r.RequestURI, sha256.Sum256(body), pub)
	if err == nil {
		return true
	}
	code := syncproto.CodeUnauthenticated
	switch {
	case errors.Is(err, syncproto.ErrClockSkew):
		code = syncproto.CodeClockSkew
	case errors.Is(err, syncproto.ErrReplayed):
		code = syncproto.CodeReplayed
	case errors.Is(err, syncproto.ErrNonceCacheFull):
		code = syncproto.CodeUnavailable
	}
	s.fail(w, r, code, err, "device", signed.Device)
	return false
}

// touch records a device's last request, at most once a minute.
func (s *Server) touch(ctx context.Context, id string) {
	now := s.now()
	s.touchMu.Lock()
	last, ok := s.touched[id]
	if ok && now.Sub(last) < time.Minute {
		s.touchMu.Unlock()
		return
	}
	s.touched[id] = now
	s.touchMu.Unlock()
	if err := s.store.Touch(ctx, id, now); err != nil {
		s.log.Warn("touch device", "device", id, "cause", err.Error())
	}
}

// clientIP is the peer's address: the server is reached directly over
// TLS, so no forwarding header is believed.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// rateKey is the address a per-address limit counts: an IPv6 peer by
// its /64, which one machine can fill with addresses of its own.
func rateKey(r *http.Request) string {
	ip := net.ParseIP(clientIP(r))
	if ip == nil || ip.To4() != nil {
		return clientIP(r)
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

func (s *Server) refuseRate(w http.ResponseWriter, r *http.Request, wait time.Duration, who string) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	s.fail(w, r, syncproto.CodeRateLimited, errors.New("rate limit: "+who))
}

// fail answers with code and logs cause under a new incident id. The
// answer holds the code, its fixed message and the incident id only.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code syncproto.Code, cause error, attrs ...any) {
	incident := s.incident()
	attrs = append(attrs, "code", string(code), "incident", incident, "method", r.Method, "path", r.URL.Path,
		"ip", clientIP(r), "cause", cause.Error())
	if code.Status() >= 500 {
		s.log.Error("request failed", attrs...)
	} else {
		s.log.Info("request refused", attrs...)
	}
	if code.Status() == http.StatusRequestEntityTooLarge {
		w.Header().Set("Connection", "close")
	}
	s.write(w, r, code.Status(), syncproto.ErrorResponse{Code: code, Message: code.Message(), Incident: incident})
}

const incidentAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func (s *Server) incident() string {
	b := make([]byte, 8)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "0000-0000"
	}
	var out strings.Builder
	for i, c := range b {
		if i == 4 {
			out.WriteByte('-')
		}
		out.WriteByte(incidentAlphabet[int(c)%len(incidentAlphabet)])
	}
	return out.String()
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, v any) {
	s.write(w, r, http.StatusOK, v)
}

// write sends v as JSON, gzip-compressed when the request accepts it.
func (s *Server) write(w http.ResponseWriter, r *http.Request, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", syncproto.ContentType)
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		h.Set("Content-Encoding", syncproto.ContentEncoding)
		w.WriteHeader(status)
		if r.Method == http.MethodHead {
			return
		}
		if err := syncproto.WriteBody(w, v); err != nil {
			s.log.Warn("write response", "path", r.URL.Path, "cause", err.Error())
		}
		return
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if err := writeJSON(w, v); err != nil {
		s.log.Warn("write response", "path", r.URL.Path, "cause", err.Error())
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), syncproto.ContentEncoding) && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
