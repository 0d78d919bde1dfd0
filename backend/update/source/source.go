// Package source reads an update repository from where it is published: a
// static HTTPS location (the clinic's outpost-server, any web server) or a
// folder such as a USB stick. Both hand back the same bytes to the same
// verification; a source is only a way to read files, never trusted.
package source

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"
)

var (
	// ErrNotFound: the repository has no such file.
	ErrNotFound = errors.New("not in the update repository")
	// ErrTooLarge: the file is longer than the reader allowed.
	ErrTooLarge = errors.New("longer than allowed")
	// ErrPinMismatch: the server's certificate is not the pinned one.
	ErrPinMismatch = errors.New("the server's certificate is not the pinned one")
)

// Source reads files of an update repository by their slash-separated
// path relative to its base. Open returns a reader that fails with
// ErrTooLarge once more than limit bytes have been read.
type Source interface {
	Open(ctx context.Context, name string, limit int64) (io.ReadCloser, error)
	// String names the source for people (the URL or the folder).
	String() string
}

// Options tune an HTTPS source.
type Options struct {
	// RootCAs are the certificate authorities trusted for the server; nil
	// uses the system's roots.
	RootCAs *x509.CertPool
	// Pin, when set, accepts exactly the server certificate whose SHA-256
	// it is (the clinic's outpost-server with its self-signed certificate),
	// instead of a certificate chain.
	Pin *[32]byte
	// Client, when set, is used as it is (for example the app's pinned
	// client of the clinic server); RootCAs, Pin and Timeout are then unused.
	Client *http.Client
	// Timeout bounds each request (default one minute; a binary download
	// of tens of MB over a slow link is given ten times that).
	Timeout time.Duration
}

// Parse picks a source from what an administrator typed: an https:// URL,
// or else a folder. Plain http is refused.
func Parse(s string, o Options) (Source, error) {
	switch {
	case strings.HasPrefix(s, "https://"):
		return NewHTTPS(s, o)
	case strings.Contains(s, "://"):
		return nil, fmt.Errorf("update repository %q: only https:// locations or folders are accepted", s)
	}
	return NewFolder(s)
}

// ParsePin reads a certificate's SHA-256 as hex, with or without colons
// ("AB:CD:…", as outpost-server fingerprint prints it).
func ParsePin(s string) (*[32]byte, error) {
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		s = s[i+1:]
	}
	clean := strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s))
	var pin [32]byte
	if n, err := hex.Decode(pin[:], []byte(clean)); err != nil || n != 32 || len(clean) != 64 {
		return nil, fmt.Errorf("certificate fingerprint %q: want 64 hex digits (SHA-256)", s)
	}
	return &pin, nil
}

// cleanName checks a repository path: relative, slash separated, no "..".
func cleanName(name string) (string, error) {
	if name == "" || !fs.ValidPath(name) || strings.Contains(name, "\\") {
		return "", fmt.Errorf("repository path %q is not valid", name)
	}
	return name, nil
}

// limited fails with ErrTooLarge when more than n bytes come.
type limited struct {
	r    io.ReadCloser
	left int64
	name string
}

func limit(r io.ReadCloser, n int64, name string) io.ReadCloser {
	return &limited{r: r, left: n, name: name}
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, fmt.Errorf("%s: %w", l.name, ErrTooLarge)
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n + int(l.left), fmt.Errorf("%s: %w", l.name, ErrTooLarge)
	}
	return n, err
}

func (l *limited) Close() error { return l.r.Close() }

// HTTPS reads from a static HTTPS base URL.
type HTTPS struct {
	base   *url.URL
	client *http.Client
}

// NewHTTPS makes a source for base (https only).
func NewHTTPS(base string, o Options) (*HTTPS, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("update repository %q: want https://host/path", base)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if o.Client != nil {
		return &HTTPS{base: u, client: o.Client}, nil
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	tc := &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	if o.Pin != nil {
		pin := *o.Pin
		// The chain is not checked; the leaf must be the pinned certificate.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || sha256.Sum256(cs.PeerCertificates[0].Raw) != pin {
				return ErrPinMismatch
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: 15 * time.Second,
	}
	c := &http.Client{Transport: tr, Timeout: 10 * o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" || len(via) > 3 {
				return errors.New("redirect refused")
			}
			return nil
		}}
	return &HTTPS{base: u, client: c}, nil
}

func (h *HTTPS) String() string { return h.base.String() }

// Open GETs base/name.
func (h *HTTPS) Open(ctx context.Context, name string, n int64) (io.ReadCloser, error) {
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	u := *h.base
	u.Path = path.Join(h.base.Path, name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", name, err)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", name, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return nil, fmt.Errorf("fetch %s: the server answered %s", name, resp.Status)
	case resp.ContentLength > n:
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %w", name, ErrTooLarge)
	}
	return limit(resp.Body, n, name), nil
}

// Folder reads from a local folder, such as a USB stick. Paths cannot
// leave the folder (symbolic links pointing outside are refused too).
type Folder struct {
	dir string
}

// NewFolder makes a source for dir, which must exist.
func NewFolder(dir string) (*Folder, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("update folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("update folder %q is not a folder", dir)
	}
	return &Folder{dir: dir}, nil
}

func (f *Folder) String() string { return f.dir }

// Open opens dir/name.
func (f *Folder) Open(_ context.Context, name string, n int64) (io.ReadCloser, error) {
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return nil, fmt.Errorf("update folder: %w", err)
	}
	defer root.Close()
	file, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if st, err := file.Stat(); err == nil && (!st.Mode().IsRegular() || st.Size() > n) {
		file.Close()
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, ErrTooLarge)
	}
	return limit(file, n, name), nil
}

// ReadAll opens name and reads it whole, at most n bytes.
func ReadAll(ctx context.Context, s Source, name string, n int64) ([]byte, error) {
	r, err := s.Open(ctx, name, n)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return b, nil
}
