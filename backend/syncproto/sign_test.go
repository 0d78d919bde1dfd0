package syncproto

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func newSigner(t *testing.T, now time.Time) (*Signer, ed25519.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{Device: DeviceID(pub), Key: priv, Now: func() time.Time { return now }}, pub
}

// verifyRequest does what a server does with a request.
func verifyRequest(v *Verifier, req *http.Request, body []byte, pub ed25519.PublicKey) error {
	s, err := ParseSigned(req.Header)
	if err != nil {
		return err
	}
	return v.Verify(s, req.Method, req.URL.RequestURI(), sha256.Sum256(body), pub)
}

func TestSignVerify(t *testing.T) {
	signer, pub := newSigner(t, t0)
	_, otherPub := newSigner(t, t0)
	v := &Verifier{Now: func() time.Time { return t0 }, Nonces: NewNonceCache(0, 0)}

	body, err := EncodeBody(PushRequest{Versions: []Version{{Record: "r1", ID: "v1", Sealed: []byte("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := NewRequest(context.Background(), http.MethodPost, "https://127.0.0.1:8443", PathPush, PushRequest{Versions: []Version{{Record: "r1", ID: "v1", Sealed: []byte("x")}}}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, req), body) {
		t.Fatal("NewRequest's body differs from EncodeBody's")
	}
	if err := verifyRequest(v, req, body, pub); err != nil {
		t.Fatalf("a good request: %v", err)
	}
	if err := verifyRequest(v, req, body, pub); !errors.Is(err, ErrReplayed) {
		t.Fatalf("the same request again: %v, want ErrReplayed", err)
	}

	fresh := func(t *testing.T) *http.Request {
		r, err := NewRequest(context.Background(), http.MethodGet, "https://127.0.0.1:8443", PathPull+"?after=10&limit=5", nil, signer)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name   string
		change func(r *http.Request) ([]byte, ed25519.PublicKey)
		want   error
	}{
		{"another key", func(r *http.Request) ([]byte, ed25519.PublicKey) { return nil, otherPub }, ErrBadSignature},
		{"a body added", func(r *http.Request) ([]byte, ed25519.PublicKey) { return []byte("{}"), pub }, ErrBadSignature},
		{"the query changed", func(r *http.Request) ([]byte, ed25519.PublicKey) {
			r.URL.RawQuery = "after=0&limit=5"
			return nil, pub
		}, ErrBadSignature},
		{"the method changed", func(r *http.Request) ([]byte, ed25519.PublicKey) { r.Method = http.MethodPost; return nil, pub }, ErrBadSignature},
		{"the path changed", func(r *http.Request) ([]byte, ed25519.PublicKey) {
			r.URL.Path = PathStatus
			r.URL.RawQuery = ""
			return nil, pub
		}, ErrBadSignature},
		{"the time changed", func(r *http.Request) ([]byte, ed25519.PublicKey) {
			r.Header.Set(HeaderTime, t0.Add(time.Second).Format(time.RFC3339))
			return nil, pub
		}, ErrBadSignature},
		{"the nonce changed", func(r *http.Request) ([]byte, ed25519.PublicKey) {
			r.Header.Set(HeaderNonce, strings.Repeat("A", 22))
			return nil, pub
		}, ErrBadSignature},
		{"another device named", func(r *http.Request) ([]byte, ed25519.PublicKey) {
			r.Header.Set(HeaderDevice, strings.Repeat("0", 32))
			return nil, pub
		}, ErrBadSignature},
		{"no headers", func(r *http.Request) ([]byte, ed25519.PublicKey) { r.Header = http.Header{}; return nil, pub }, ErrUnsigned},
		{"no signature", func(r *http.Request) ([]byte, ed25519.PublicKey) { r.Header.Del(HeaderSignature); return nil, pub }, ErrMalformed},
		{"a bad time", func(r *http.Request) ([]byte, ed25519.PublicKey) {
			r.Header.Set(HeaderTime, "yesterday")
			return nil, pub
		}, ErrMalformed},
		{"a bad device", func(r *http.Request) ([]byte, ed25519.PublicKey) {
			r.Header.Set(HeaderDevice, "DEVICE")
			return nil, pub
		}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fresh(t)
			body, key := tt.change(r)
			if err := verifyRequest(v, r, body, key); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// None of those spent the nonce of a good request.
	if n := v.Nonces.Len(); n != 1 {
		t.Fatalf("nonces held: %d, want 1", n)
	}
}

func TestClockSkew(t *testing.T) {
	tests := []struct {
		offset time.Duration
		ok     bool
	}{
		{0, true}, {4*time.Minute + 59*time.Second, true}, {-5 * time.Minute, true},
		{5*time.Minute + time.Second, false}, {-6 * time.Minute, false}, {-24 * time.Hour, false},
	}
	for _, tt := range tests {
		signer, pub := newSigner(t, t0.Add(tt.offset))
		v := &Verifier{Now: func() time.Time { return t0 }, Nonces: NewNonceCache(0, 0)}
		req, err := NewRequest(context.Background(), http.MethodGet, "https://h", PathStatus, nil, signer)
		if err != nil {
			t.Fatal(err)
		}
		err = verifyRequest(v, req, nil, pub)
		if got := err == nil; got != tt.ok || (!tt.ok && !errors.Is(err, ErrClockSkew)) {
			t.Errorf("device clock %v off: %v", tt.offset, err)
		}
	}
}

// A nonce is refused for as long as its request could still pass the
// skew check, and the cache does not grow without bound.
func TestNonceCache(t *testing.T) {
	c := NewNonceCache(5*time.Minute, 3)
	now := t0
	if err := c.Add("d", "n1", now); err != nil {
		t.Fatal(err)
	}
	for _, later := range []time.Duration{time.Minute, 9 * time.Minute, 10 * time.Minute, 15 * time.Minute} {
		if err := c.Add("d", "n1", now.Add(later)); !errors.Is(err, ErrReplayed) {
			t.Fatalf("nonce again %v later: %v", later, err)
		}
	}
	if err := c.Add("e", "n1", now); err != nil {
		t.Fatalf("another device's same nonce: %v", err)
	}
	if err := c.Add("d", "n2", now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := c.Add("d", "n3", now.Add(15*time.Minute)); !errors.Is(err, ErrNonceCacheFull) {
		t.Fatalf("over capacity: %v", err)
	}
	// Forty minutes on, everything older than two windows is gone.
	if err := c.Add("d", "n3", now.Add(40*time.Minute)); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if n := c.Len(); n != 1 {
		t.Fatalf("held %d", n)
	}
}

func TestDeviceID(t *testing.T) {
	_, pub := newSigner(t, t0)
	id := DeviceID(pub)
	if !ValidDeviceID(id) || DeviceID(pub) != id {
		t.Fatalf("DeviceID %q", id)
	}
	for _, bad := range []string{"", strings.ToUpper(id), id + "0", id[:31] + "g"} {
		if ValidDeviceID(bad) {
			t.Errorf("ValidDeviceID(%q)", bad)
		}
	}
}

func readAll(t *testing.T, r *http.Request) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := b.ReadFrom(r.Body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func FuzzParseSigned(f *testing.F) {
	signer, _ := newSigner(&testing.T{}, t0)
	req, _ := NewRequest(context.Background(), http.MethodGet, "https://h", PathStatus, nil, signer)
	f.Add(req.Header.Get(HeaderDevice), req.Header.Get(HeaderTime), req.Header.Get(HeaderNonce), req.Header.Get(HeaderSignature))
	f.Add("", "", "", "")
	f.Add("x", "2026-01-01T00:00:00+99:00", "\x00", "====")
	f.Fuzz(func(t *testing.T, dev, at, nonce, sig string) {
		h := http.Header{}
		for k, v := range map[string]string{HeaderDevice: dev, HeaderTime: at, HeaderNonce: nonce, HeaderSignature: sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		s, err := ParseSigned(h)
		if err != nil {
			return
		}
		if !ValidDeviceID(s.Device) || len(s.Signature) != ed25519.SignatureSize {
			t.Fatalf("accepted %+v", s)
		}
	})
}
