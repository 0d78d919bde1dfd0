package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "timestamp.json"), []byte("0123456789"), 0o644)
	os.MkdirAll(filepath.Join(dir, "targets"), 0o755)
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte("x"), 0o600)
	os.Symlink(outside, filepath.Join(dir, "targets", "link"))
	f, err := NewFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		limit   int64
		want    string
		wantErr error
	}{
		{"timestamp.json", 10, "0123456789", nil},
		{"timestamp.json", 9, "", ErrTooLarge},
		{"missing.json", 10, "", ErrNotFound},
		{"../secret", 10, "", nil},
		{"/etc/passwd", 10, "", nil},
		{`targets\..\x`, 10, "", nil},
		{"targets/link", 10, "", nil},
	}
	for _, c := range cases {
		got, err := ReadAll(context.Background(), f, c.name, c.limit)
		switch {
		case c.want != "":
			if err != nil || string(got) != c.want {
				t.Errorf("%s: got %q %v, want %q", c.name, got, err, c.want)
			}
		case c.wantErr != nil:
			if !errors.Is(err, c.wantErr) {
				t.Errorf("%s: got %v, want %v", c.name, err, c.wantErr)
			}
		default:
			if err == nil {
				t.Errorf("%s: read %q outside the folder", c.name, got)
			}
		}
	}
}

func TestHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/repo/timestamp.json":
			w.Write([]byte("0123456789"))
		case "/repo/endless":
			w.Header().Set("Content-Type", "application/octet-stream")
			for i := 0; i < 1000; i++ {
				if _, err := w.Write(make([]byte, 4096)); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	s, err := Parse(srv.URL+"/repo", Options{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := ReadAll(ctx, s, "timestamp.json", 10); err != nil || string(got) != "0123456789" {
		t.Errorf("read: got %q %v", got, err)
	}
	if _, err := ReadAll(ctx, s, "timestamp.json", 5); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: got %v, want ErrTooLarge", err)
	}
	if _, err := ReadAll(ctx, s, "endless", 1<<16); !errors.Is(err, ErrTooLarge) {
		t.Errorf("endless: got %v, want ErrTooLarge", err)
	}
	if _, err := ReadAll(ctx, s, "missing.json", 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: got %v, want ErrNotFound", err)
	}
	if _, err := ReadAll(ctx, s, "../x", 10); err == nil {
		t.Error("read a path outside the repository")
	}
	// Without the pinned certificate, the test server is not trusted.
	unpinned, _ := Parse(srv.URL+"/repo", Options{})
	if _, err := ReadAll(ctx, unpinned, "timestamp.json", 10); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("unpinned: got %v, want a certificate error", err)
	}
	// Pinned by the certificate's SHA-256, as for the clinic's own server.
	fp := sha256.Sum256(srv.Certificate().Raw)
	pin, err := ParsePin(strings.ToUpper(hex.EncodeToString(fp[:2])) + ":" + hex.EncodeToString(fp[2:]))
	if err != nil {
		t.Fatal(err)
	}
	pinned, _ := Parse(srv.URL+"/repo", Options{Pin: pin})
	if got, err := ReadAll(ctx, pinned, "timestamp.json", 10); err != nil || string(got) != "0123456789" {
		t.Errorf("pinned: got %q %v", got, err)
	}
	other := *pin
	other[0] ^= 1
	wrong, _ := Parse(srv.URL+"/repo", Options{Pin: &other})
	if _, err := ReadAll(ctx, wrong, "timestamp.json", 10); !errors.Is(err, ErrPinMismatch) {
		t.Errorf("wrong pin: got %v, want ErrPinMismatch", err)
	}
	for _, bad := range []string{"", "AB:CD", strings.Repeat("zz", 32)} {
		if _, err := ParsePin(bad); err == nil {
			t.Errorf("ParsePin(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"http://example.org/repo", "ftp://x/y", "https://user:pw@example.org/"} {
		if _, err := Parse(bad, Options{}); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
