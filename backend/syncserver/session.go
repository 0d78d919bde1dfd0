package syncserver

import (
	"errors"
	"net/http"
	"time"

	"outpost/backend/syncproto"
)

// Sessions across devices (S22, S34; docs/sync-protocol.md, "Sessions
// across devices"): a laptop says when a sign-in session starts, is in
// use and ends, naming the user and the session by opaque keys it
// derives with the clinic key; the server answers the user's sessions
// active on every device of the clinic, so the laptop can enforce the
// session limit and see a sign-in while the account is in use
// elsewhere. The server decides nothing and learns nobody's name.

// sessionRoutes are the routes of sessions across devices.
func (s *Server) sessionRoutes() map[string]route {
	return map[string]route{
		syncproto.PathSessions: {http.MethodPost, syncproto.MaxSmallBody, (*Server).session},
	}
}

// session: POST /v1/sessions.
func (s *Server) session(w http.ResponseWriter, r *http.Request, d Device, body []byte) {
	ctx := r.Context()
	var req syncproto.SessionRequest
	if err := syncproto.DecodeBody(body, 4*syncproto.MaxSmallBody, &req); err != nil {
		s.failDecode(w, r, err)
		return
	}
	if err := req.Validate(); err != nil {
		s.fail(w, r, syncproto.CodeBadRequest, err, "device", d.ID)
		return
	}
	now := s.now().UTC()
	resp := syncproto.SessionResponse{Sessions: []syncproto.ActiveSession{}, ServerTime: now}
	if req.Op == syncproto.SessionEnd {
		if err := s.store.EndSession(ctx, d.Clinic, req.User, req.Session, d.ID); err != nil {
			s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
			return
		}
		s.reply(w, r, resp)
		return
	}
	if req.Op == syncproto.SessionStart {
		// Expired sessions go at each start (an index range delete).
		if _, err := s.store.PurgeSessions(ctx, now); err != nil {
			s.log.Error("purge sessions", "cause", err.Error())
		}
	}
	err := s.store.PutSession(ctx, Session{Clinic: d.Clinic, User: req.User, ID: req.Session, Device: d.ID, LastSeen: now,
		Expires: now.Add(time.Duration(req.TTL) * time.Second)})
	if errors.Is(err, ErrExists) {
		s.fail(w, r, syncproto.CodeBadRequest, errors.New("session id held by another device"), "device", d.ID)
		return
	}
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	live, err := s.store.ActiveSessions(ctx, d.Clinic, req.User, now, syncproto.MaxActiveSessions)
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	for _, l := range live {
		resp.Sessions = append(resp.Sessions, syncproto.ActiveSession{Device: l.Device, DeviceName: l.DeviceName, Started: l.Started.UTC(),
			LastSeen: l.LastSeen.UTC()})
	}
	s.reply(w, r, resp)
}
