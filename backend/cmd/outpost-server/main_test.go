package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

type result struct {
	code           int
	stdout, stderr string
}

func runAt(t *testing.T, now time.Time, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, now: func() time.Time { return now }, rand: rand.Reader, listening: func(net.Addr) {}}
	code := run(context.Background(), args, e)
	return result{code, out.String(), errb.String()}
}

func runCmd(t *testing.T, args ...string) result { return runAt(t, time.Now(), args...) }

var (
	fpRE    = regexp.MustCompile(`([0-9A-F]{2}:){31}[0-9A-F]{2}`)
	tokenRE = regexp.MustCompile(`([0-9A-Z]{4}-){7}[0-9A-Z]{4}`)
)

// serve starts `serve` on a loopback port and returns its URL; the
// server stops when the test ends.
func serve(t *testing.T, dir string) (string, *bytes.Buffer) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	var logs bytes.Buffer
	e := env{stdout: &bytes.Buffer{}, stderr: &logs, now: time.Now, rand: rand.Reader, listening: func(a net.Addr) { addr <- a }}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0"}, e) }()
	var url string
	select {
	case a := <-addr:
		url = "https://" + a.String()
	case code := <-done:
		t.Fatalf("serve ended at once: %d %s", code, logs.String())
	}
	t.Cleanup(func() {
		stop()
		if code := <-done; code != 0 {
			t.Errorf("serve ended with %d", code)
		}
	})
	return url, &logs
}

type laptop struct {
	pub    ed25519.PublicKey
	signer *syncproto.Signer
	client *http.Client
	url    string
}

func newLaptop(t *testing.T, url, fingerprint string) *laptop {
	pub, priv, _ := ed25519.GenerateKey(nil)
	fp, ok := syncproto.ParseFingerprint(fingerprint)
	if !ok {
		t.Fatalf("fingerprint %q", fingerprint)
	}
	tr := &http.Transport{TLSClientConfig: syncproto.PinnedTLS(fp)}
	t.Cleanup(tr.CloseIdleConnections)
	return &laptop{pub: pub, signer: &syncproto.Signer{Device: syncproto.DeviceID(pub), Key: priv}, client: &http.Client{Transport: tr}, url: url}
}

func (l *laptop) call(t *testing.T, method, uri string, payload, out any) error {
	t.Helper()
	req, err := syncproto.NewRequest(context.Background(), method, l.url, uri, payload, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return syncproto.ReadResponse(resp, 1<<20, out)
}

func code(err error) syncproto.Code {
	var e *syncproto.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestInitEnrollServeRevoke(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	r := runCmd(t, "init", "--data-dir", dir, "--host", "clinic-server.local", "--host", "127.0.0.1")
	if r.code != 0 {
		t.Fatalf("init: %d %s", r.code, r.stderr)
	}
	fp := fpRE.FindString(r.stdout)
	if fp == "" {
		t.Fatalf("init printed no fingerprint: %s", r.stdout)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", fi.Mode().Perm())
	}
	for _, name := range []string{dbFile, certFile, keyFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", name, fi.Mode().Perm(), err)
		}
	}
	if r := runCmd(t, "init", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "already holds") {
		t.Fatalf("init twice: %d %s", r.code, r.stderr)
	}
	if r := runCmd(t, "fingerprint", "--data-dir", dir); strings.TrimSpace(r.stdout) != fp {
		t.Fatalf("fingerprint: %q, init said %q", r.stdout, fp)
	}

	if r := runCmd(t, "enroll", "--data-dir", dir, "--clinic", "hill"); r.code != 2 || !strings.Contains(r.stderr, "--clinic-name") {
		t.Fatalf("enroll into a clinic that does not exist: %d %s", r.code, r.stderr)
	}
	if r := runCmd(t, "enroll", "--data-dir", dir, "--clinic", "hill clinic", "--clinic-name", "Hill"); r.code != 2 {
		t.Fatalf("a bad clinic id: %d", r.code)
	}
	r = runCmd(t, "enroll", "--data-dir", dir, "--clinic", "hill", "--clinic-name", "Hill Clinic")
	tok := tokenRE.FindString(r.stdout)
	if r.code != 0 || tok == "" || !strings.Contains(r.stdout, fp) {
		t.Fatalf("enroll: %d %s %s", r.code, r.stdout, r.stderr)
	}
	second := tokenRE.FindString(runCmd(t, "enroll", "--data-dir", dir, "--clinic", "hill").stdout)
	stale := tokenRE.FindString(runAt(t, time.Now().Add(-syncproto.TokenTTL-time.Minute), "enroll", "--data-dir", dir, "--clinic", "hill").stdout)
	if second == "" || stale == "" || second == tok {
		t.Fatal("more tokens")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, dbFile))
	if canon, _ := syncproto.NormalizeToken(tok); bytes.Contains(raw, []byte(canon)) || bytes.Contains(raw, []byte(tok)) {
		t.Fatal("the token is stored in the clear")
	}

	url, logs := serve(t, dir)
	a := newLaptop(t, url, fp)
	var enrolled syncproto.EnrollResponse
	if err := a.call(t, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: tok, PublicKey: a.pub, Name: "Front desk"}, &enrolled); err != nil {
		t.Fatalf("enroll with the printed token: %v", err)
	}
	if enrolled.Clinic != "hill" || enrolled.ClinicName != "Hill Clinic" {
		t.Fatalf("enrolled: %+v", enrolled)
	}
	b := newLaptop(t, url, fp)
	if err := b.call(t, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: tok, PublicKey: b.pub, Name: "Ward"}, nil); code(err) != syncproto.CodeEnrollRefused {
		t.Fatalf("the token twice: %v", err)
	}
	if err := b.call(t, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: stale, PublicKey: b.pub, Name: "Ward"}, nil); code(err) != syncproto.CodeEnrollRefused {
		t.Fatalf("an expired token: %v", err)
	}
	if err := b.call(t, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: second, PublicKey: b.pub, Name: "Ward"}, nil); err != nil {
		t.Fatalf("the second token: %v", err)
	}
	if err := a.call(t, http.MethodPost, syncproto.PathPush, syncproto.PushRequest{Versions: []syncproto.Version{{Record: "r1", ID: "v1", Sealed: []byte{1, 2, 3}}}}, nil); err != nil {
		t.Fatalf("push: %v", err)
	}

	r = runCmd(t, "devices", "--data-dir", dir)
	if r.code != 0 || strings.Count(r.stdout, "active") != 2 || !strings.Contains(r.stdout, "Front desk") || !strings.Contains(r.stdout, a.signer.Device) {
		t.Fatalf("devices: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, "revoke", "--data-dir", dir, "abc"); r.code != 2 {
		t.Fatalf("revoke with a short id: %d", r.code)
	}
	if r := runCmd(t, "revoke", "--data-dir", dir, a.signer.Device[:10]); r.code != 0 || !strings.Contains(r.stdout, "Revoked "+a.signer.Device) {
		t.Fatalf("revoke: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// The running server sees the revocation at once.
	var st syncproto.StatusResponse
	if err := a.call(t, http.MethodGet, syncproto.PathStatus, nil, &st); err != nil || !st.Erase || st.Status != syncproto.StatusRevoked {
		t.Fatalf("status after revoke: %+v %v", st, err)
	}
	if err := a.call(t, http.MethodGet, syncproto.PathPull, nil, nil); code(err) != syncproto.CodeRevoked {
		t.Fatalf("pull after revoke: %v", err)
	}
	if err := b.call(t, http.MethodGet, syncproto.PathPull, nil, &syncproto.PullResponse{}); err != nil {
		t.Fatalf("the other laptop: %v", err)
	}
	if r := runCmd(t, "devices", "--data-dir", dir); !strings.Contains(r.stdout, "revoked") {
		t.Fatalf("devices after revoke:\n%s", r.stdout)
	}
	if !strings.Contains(logs.String(), "revoked device told to erase") {
		t.Errorf("the log:\n%s", logs.String())
	}
	for _, f := range []string{dbFile, dbFile + "-wal", dbFile + "-shm"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", f, fi.Mode().Perm())
		}
	}
}

func TestInitWithGivenCertificate(t *testing.T) {
	tmp := t.TempDir()
	certPEM, keyPEM, err := syncserver.NewCertificate([]string{"sync.clinic.example"}, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, _ := syncserver.NewCertificate([]string{"x"}, time.Now(), nil)
	cert, key, other := filepath.Join(tmp, "c.pem"), filepath.Join(tmp, "k.pem"), filepath.Join(tmp, "o.pem")
	os.WriteFile(cert, certPEM, 0o600)
	os.WriteFile(key, keyPEM, 0o600)
	os.WriteFile(other, otherKey, 0o600)
	_, want, _ := syncserver.LoadCertificate(certPEM, keyPEM)

	if r := runCmd(t, "init", "--data-dir", filepath.Join(tmp, "a"), "--cert", cert); r.code != 2 {
		t.Fatalf("--cert alone: %d", r.code)
	}
	if r := runCmd(t, "init", "--data-dir", filepath.Join(tmp, "b"), "--cert", cert, "--key", other); r.code != 1 || !strings.Contains(r.stderr, "pair") {
		t.Fatalf("a key of another certificate: %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(tmp, "b")); err == nil {
		t.Error("a refused init left a folder")
	}
	r := runCmd(t, "init", "--data-dir", filepath.Join(tmp, "c"), "--cert", cert, "--key", key)
	if r.code != 0 || fpRE.FindString(r.stdout) != want {
		t.Fatalf("init with a certificate: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// The state must be private: serve and the other commands refuse a
// folder or a file others can read.
func TestStateMustBePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if r := runCmd(t, "init", "--data-dir", dir); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := runCmd(t, "serve", "--data-dir", dir); r.code != 2 {
		t.Fatalf("serve without --addr: %d", r.code)
	}
	os.Chmod(dir, 0o755)
	if r := runCmd(t, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0"); r.code != 1 || !strings.Contains(r.stderr, "chmod 700") {
		t.Fatalf("open folder: %d %s", r.code, r.stderr)
	}
	os.Chmod(dir, 0o700)
	os.Chmod(filepath.Join(dir, keyFile), 0o644)
	if r := runCmd(t, "devices", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "chmod 600") {
		t.Fatalf("readable key: %d %s", r.code, r.stderr)
	}
	os.Chmod(filepath.Join(dir, keyFile), 0o600)
	if r := runCmd(t, "devices", "--data-dir", dir); r.code != 0 || !strings.Contains(r.stdout, "No laptop") {
		t.Fatalf("devices: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(t, "devices", "--data-dir", filepath.Join(dir, "nowhere")); r.code != 1 || !strings.Contains(r.stderr, "init") {
		t.Fatalf("no folder: %d %s", r.code, r.stderr)
	}
	if r := runCmd(t, "bogus"); r.code != 2 {
		t.Fatalf("unknown command: %d", r.code)
	}
}
