package syncserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"outpost/backend/syncproto"
)

func (h *harness) session(d *device, req syncproto.SessionRequest) (syncproto.SessionResponse, error) {
	h.t.Helper()
	var resp syncproto.SessionResponse
	err := h.call(d, http.MethodPost, syncproto.PathSessions, req, &resp)
	return resp, err
}

var (
	userKey  = strings.Repeat("ab", 32)
	otherKey = strings.Repeat("cd", 32)
)

func sessionKey(n byte) string { return strings.Repeat(string("0123456789abcdef"[n%16]), 64) }

// Two devices of a clinic report sessions of one user: each start
// answers the user's sessions on both, ended and expired ones drop out,
// and a device of another clinic sees none of them.
func TestSessionsAcrossDevices(t *testing.T) {
	h := newHarness(t, nil)
	a, b, c := h.newDevice(), h.newDevice(), h.newDevice()
	h.enroll(a, "hill")
	h.enroll(b, "hill")
	h.enroll(c, "vale")
	start := func(d *device, user string, s byte, ttl int) []syncproto.ActiveSession {
		t.Helper()
		resp, err := h.session(d, syncproto.SessionRequest{Op: syncproto.SessionStart, User: user, Session: sessionKey(s), TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Sessions
	}
	devices := func(ss []syncproto.ActiveSession) string {
		var out []string
		for _, s := range ss {
			switch s.Device {
			case a.id:
				out = append(out, "a")
			case b.id:
				out = append(out, "b")
			default:
				out = append(out, "?")
			}
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name string
		run  func() []syncproto.ActiveSession
		want string
	}{
		{"a starts", func() []syncproto.ActiveSession { return start(a, userKey, 1, 600) }, "a"},
		{"b starts", func() []syncproto.ActiveSession { return start(b, userKey, 2, 120) }, "a,b"},
		{"another user on b", func() []syncproto.ActiveSession { return start(b, otherKey, 3, 600) }, "b"},
		{"another clinic", func() []syncproto.ActiveSession { return start(c, userKey, 4, 600) }, "?"},
		{"b's session expired", func() []syncproto.ActiveSession {
			h.clock.Add(3 * time.Minute)
			return start(a, userKey, 5, 600)
		}, "a,a"},
		{"a's first ended", func() []syncproto.ActiveSession {
			if _, err := h.session(a, syncproto.SessionRequest{Op: syncproto.SessionEnd, User: userKey, Session: sessionKey(1)}); err != nil {
				t.Fatal(err)
			}
			resp, err := h.session(a, syncproto.SessionRequest{Op: syncproto.SessionTouch, User: userKey, Session: sessionKey(5), TTL: 600})
			if err != nil {
				t.Fatal(err)
			}
			return resp.Sessions
		}, "a"},
	}
	for _, tt := range tests {
		if got := devices(tt.run()); got != tt.want {
			t.Errorf("%s: sessions on %q, want %q", tt.name, got, tt.want)
		}
	}
	// A device's name comes with its sessions; nothing names the user.
	ss := start(b, userKey, 6, 600)
	if len(ss) != 2 || ss[1].DeviceName != "Laptop "+b.id[:6] {
		t.Errorf("sessions %+v", ss)
	}
	if strings.Contains(h.logs.String(), userKey) {
		t.Error("the server logged a user key")
	}
}

// Malformed session requests are refused; a session id is its device's.
func TestSessionsRefused(t *testing.T) {
	h := newHarness(t, nil)
	a, b := h.newDevice(), h.newDevice()
	h.enroll(a, "hill")
	h.enroll(b, "hill")
	if _, err := h.session(a, syncproto.SessionRequest{Op: syncproto.SessionStart, User: userKey, Session: sessionKey(1), TTL: 600}); err != nil {
		t.Fatal(err)
	}
	for name, req := range map[string]syncproto.SessionRequest{
		"unknown op":        {Op: "steal", User: userKey, Session: sessionKey(2), TTL: 600},
		"short user key":    {Op: syncproto.SessionStart, User: "nurse.amina", Session: sessionKey(2), TTL: 600},
		"upper-case key":    {Op: syncproto.SessionStart, User: strings.ToUpper(userKey), Session: sessionKey(2), TTL: 600},
		"ttl too short":     {Op: syncproto.SessionStart, User: userKey, Session: sessionKey(2), TTL: 5},
		"ttl too long":      {Op: syncproto.SessionTouch, User: userKey, Session: sessionKey(2), TTL: 2 * syncproto.MaxSessionTTL},
		"ttl on end":        {Op: syncproto.SessionEnd, User: userKey, Session: sessionKey(2), TTL: 600},
		"another's session": {Op: syncproto.SessionTouch, User: userKey, Session: sessionKey(1), TTL: 600},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.session(b, req)
			wantCode(t, err, syncproto.CodeBadRequest)
		})
	}
	// Unsigned: unauthenticated, like every route.
	resp := h.request(nil, http.MethodPost, syncproto.PathSessions, syncproto.SessionRequest{Op: syncproto.SessionEnd, User: userKey, Session: sessionKey(1)})
	if r := refusal(t, resp); r.Code != syncproto.CodeUnauthenticated {
		t.Errorf("unsigned: %s", r.Code)
	}
}
