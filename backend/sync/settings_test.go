package sync_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/sync"
	"outpost/backend/syncproto"
	"outpost/backend/vault/vaulttest"
)

func TestValidServer(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://clinic.local:8443", "https://clinic.local:8443", true},
		{" https://10.0.0.5:8443/ ", "https://10.0.0.5:8443", true},
		{"https://[::1]:8443", "https://[::1]:8443", true},
		{"https://clinic.local", "https://clinic.local", true},
		{"http://clinic.local:8443", "", false},
		{"clinic.local:8443", "", false},
		{"https://user:pw@clinic.local:8443", "", false},
		{"https://clinic.local:8443/v1", "", false},
		{"https://clinic.local:8443?x=1", "", false},
		{"https://clinic.local:8443#x", "", false},
		{"https://", "", false},
		{"", "", false},
	} {
		got, ok := sync.ValidServer(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ValidServer(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFormatFingerprint(t *testing.T) {
	var fp [32]byte
	for i := range fp {
		fp[i] = byte(i * 7)
	}
	s := sync.FormatFingerprint(fp)
	back, ok := syncproto.ParseFingerprint(s)
	if len(s) != 95 || !ok || back != fp || s[:8] != "00:07:0E" {
		t.Errorf("FormatFingerprint = %q (parsed back %v)", s, ok)
	}
}

// Every failure has a code and a plain message; none shows the error's
// text (addresses, paths, internals).
func TestExplain(t *testing.T) {
	urlErr := func(err error) error { return &url.Error{Op: "Post", URL: "https://10.1.2.3:8443/v1/push", Err: err} }
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"erase", sync.ErrErase, sync.ERevoked},
		{"pin", urlErr(fmt.Errorf("%w: x", sync.ErrPinMismatch)), sync.ECertificate},
		{"tampered", sync.ErrTampered, sync.ETampered},
		{"refused token", &syncproto.Error{Code: syncproto.CodeEnrollRefused}, sync.EEnroll},
		{"clock", &syncproto.Error{Code: syncproto.CodeClockSkew}, sync.EClock},
		{"revoked", &syncproto.Error{Code: syncproto.CodeRevoked}, sync.ERevoked},
		{"rate limited", &syncproto.Error{Code: syncproto.CodeRateLimited}, sync.EServer},
		{"refused connection", urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), sync.EOffline},
		{"no such host", urlErr(&net.DNSError{Err: "no such host", Name: "clinic.local"}), sync.EOffline},
		{"timeout", urlErr(context.DeadlineExceeded), sync.EOffline},
		{"not tls", urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), sync.EOffline},
		{"validation", ehr.Errorf(ehr.EInvalid, "A pulled version has a malformed id."), ehr.EInvalid},
		{"other", errors.New("sync: the server answered a push out of order"), sync.EServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := sync.Explain(tc.err)
			if code != tc.want || msg == "" {
				t.Fatalf("Explain = %q %q, want %q", code, msg, tc.want)
			}
			for _, leak := range []string{"10.1.2.3", "/v1/", "sync:", "tcp"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message %q shows %q", msg, leak)
				}
			}
		})
	}
	if code, msg := sync.Explain(nil); code != "" || msg != "" {
		t.Errorf("Explain(nil) = %q %q", code, msg)
	}
}

// The settings live in the vault's meta table and come back as saved.
func TestSettingsRoundTrip(t *testing.T) {
	v := vaulttest.New(t)
	ctx := context.Background()
	if s, err := sync.LoadSettings(ctx, v.R); err != nil || s.Enrolled() {
		t.Fatalf("fresh vault: %+v %v", s, err)
	}
	want := sync.Settings{Server: "https://clinic.local:8443", Fingerprint: sync.FormatFingerprint([32]byte{9}), DeviceID: "0123456789abcdef0123456789abcdef",
		DeviceName: "Front desk", EnrolledAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	for range 2 { // saving again replaces
		if err := sync.SaveSettings(ctx, v.W, want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := sync.LoadSettings(ctx, v.R)
	if err != nil || got != want || !got.Enrolled() {
		t.Errorf("got %+v %v, want %+v", got, err, want)
	}
}
