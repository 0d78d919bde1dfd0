package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"outpost/backend/syncserver"
)

// sessionTests are the contract of syncserver.SessionStore.
var sessionTests = []struct {
	name string
	fn   func(t *testing.T, s syncserver.Store)
}{
	{"SessionsActive", testSessionsActive},
	{"SessionsEnd", testSessionsEnd},
	{"SessionsOwner", testSessionsOwner},
	{"SessionsPurge", testSessionsPurge},
	{"SessionsRevokedDevice", testSessionsRevokedDevice},
}

// opaque returns a random 64-hex key, as a laptop derives them.
func opaque(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func mustPutSession(t testing.TB, s syncserver.Store, ss syncserver.Session) {
	t.Helper()
	if err := s.PutSession(ctx, ss); err != nil {
		t.Fatalf("put session: %v", err)
	}
}

// describe lists sessions as "device:started-minute:last-seen-minute".
func describe(ss []syncserver.Session, devices map[string]string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, fmt.Sprintf("%s:%d:%d:%s", devices[s.Device], int(s.Started.Sub(t0).Minutes()), int(s.LastSeen.Sub(t0).Minutes()), s.DeviceName))
	}
	return out
}

func sameList(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// A user's sessions on two devices are listed, oldest first, with their
// device's name; a touch keeps the start and moves the last-seen time; an
// expired session is not listed; another user's and another clinic's are
// apart.
func testSessionsActive(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	mustClinic(t, s, "vale")
	a, b := mustDevice(t, s, "hill"), mustDevice(t, s, "hill")
	v := mustDevice(t, s, "vale")
	names := map[string]string{a.ID: "a", b.ID: "b", v.ID: "v"}
	user, other := opaque(t), opaque(t)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	sa, sb, sx := opaque(t), opaque(t), opaque(t)
	mustPutSession(t, s, syncserver.Session{Clinic: "hill", User: user, ID: sa, Device: a.ID, LastSeen: at(10), Expires: at(25)})
	mustPutSession(t, s, syncserver.Session{Clinic: "hill", User: user, ID: sb, Device: b.ID, LastSeen: at(12), Expires: at(27)})
	mustPutSession(t, s, syncserver.Session{Clinic: "hill", User: other, ID: sx, Device: b.ID, LastSeen: at(12), Expires: at(27)})
	mustPutSession(t, s, syncserver.Session{Clinic: "vale", User: user, ID: opaque(t), Device: v.ID, LastSeen: at(12), Expires: at(27)})
	// A touch of a's session.
	mustPutSession(t, s, syncserver.Session{Clinic: "hill", User: user, ID: sa, Device: a.ID, LastSeen: at(20), Expires: at(35)})

	tests := []struct {
		now  time.Time
		user string
		want []string
	}{
		{at(21), user, []string{"a:10:20:laptop", "b:12:12:laptop"}},
		{at(27), user, []string{"a:10:20:laptop"}}, // b's expired
		{at(35), user, nil},
		{at(21), other, []string{"b:12:12:laptop"}},
	}
	for _, tt := range tests {
		got, err := s.ActiveSessions(ctx, "hill", tt.user, tt.now, 50)
		if err != nil {
			t.Fatal(err)
		}
		if d := describe(got, names); !sameList(d, tt.want) {
			t.Errorf("at %v: sessions %v, want %v", tt.now.Sub(t0), d, tt.want)
		}
	}
	got, err := s.ActiveSessions(ctx, "hill", user, at(21), 1)
	if err != nil || len(got) != 1 {
		t.Errorf("limit 1: %d sessions, %v", len(got), err)
	}
	if got, _ := s.ActiveSessions(ctx, "vale", user, at(21), 50); len(got) != 1 || got[0].Device != v.ID {
		t.Errorf("vale: %v", describe(got, names))
	}
}

// A session ended by its device is gone; ending it again, or by another
// device, changes nothing.
func testSessionsEnd(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	a, b := mustDevice(t, s, "hill"), mustDevice(t, s, "hill")
	user, sa, sb := opaque(t), opaque(t), opaque(t)
	mustPutSession(t, s, syncserver.Session{Clinic: "hill", User: user, ID: sa, Device: a.ID, LastSeen: t0, Expires: t0.Add(time.Hour)})
	mustPutSession(t, s, syncserver.Session{Clinic: "hill", User: user, ID: sb, Device: b.ID, LastSeen: t0, Expires: t0.Add(time.Hour)})
	if err := s.EndSession(ctx, "hill", user, sb, a.ID); err != nil { // not a's
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := s.EndSession(ctx, "hill", user, sa, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ActiveSessions(ctx, "hill", user, t0, 50)
	if err != nil || len(got) != 1 || got[0].ID != sb {
		t.Errorf("after end: %+v %v", got, err)
	}
}

// A session id belongs to the device that started it.
func testSessionsOwner(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	a, b := mustDevice(t, s, "hill"), mustDevice(t, s, "hill")
	user, sa := opaque(t), opaque(t)
	mustPutSession(t, s, syncserver.Session{Clinic: "hill", User: user, ID: sa, Device: a.ID, LastSeen: t0, Expires: t0.Add(time.Hour)})
	err := s.PutSession(ctx, syncserver.Session{Clinic: "hill", User: user, ID: sa, Device: b.ID, LastSeen: t0.Add(time.Minute), Expires: t0.Add(2 * time.Hour)})
	if !errors.Is(err, syncserver.ErrExists) {
		t.Errorf("another device's session id: %v, want ErrExists", err)
	}
	got, _ := s.ActiveSessions(ctx, "hill", user, t0.Add(90*time.Minute), 50)
	if len(got) != 0 {
		t.Errorf("the refused put moved the session: %+v", got)
	}
}

// Expired sessions are forgotten by a purge, live ones kept.
func testSessionsPurge(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	a := mustDevice(t, s, "hill")
	user := opaque(t)
	for i := 1; i <= 3; i++ {
		mustPutSession(t, s, syncserver.Session{Clinic: "hill", User: user, ID: opaque(t), Device: a.ID, LastSeen: t0,
			Expires: t0.Add(time.Duration(i) * 10 * time.Minute)})
	}
	n, err := s.PurgeSessions(ctx, t0.Add(20*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("purge = %d, %v; want 2", n, err)
	}
	got, _ := s.ActiveSessions(ctx, "hill", user, t0, 50)
	if len(got) != 1 {
		t.Errorf("after purge: %d sessions, want 1", len(got))
	}
}

// A revoked device's sessions no longer count.
func testSessionsRevokedDevice(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	a, b := mustDevice(t, s, "hill"), mustDevice(t, s, "hill")
	user := opaque(t)
	mustPutSession(t, s, syncserver.Session{Clinic: "hill", User: user, ID: opaque(t), Device: a.ID, LastSeen: t0, Expires: t0.Add(time.Hour)})
	mustPutSession(t, s, syncserver.Session{Clinic: "hill", User: user, ID: opaque(t), Device: b.ID, LastSeen: t0, Expires: t0.Add(time.Hour)})
	if err := s.Revoke(ctx, a.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.ActiveSessions(ctx, "hill", user, t0.Add(2*time.Minute), 50)
	if err != nil || len(got) != 1 || got[0].Device != b.ID {
		t.Errorf("sessions with a revoked device: %+v %v", got, err)
	}
}
