package syncserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"outpost/backend/syncproto"
)

// enroll: POST /v1/enroll, signed by the key being enrolled.
func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	signed, err := syncproto.ParseSigned(r.Header)
	if err != nil {
		s.fail(w, r, syncproto.CodeUnauthenticated, err)
		return
	}
	if r.Method != http.MethodPost {
		s.fail(w, r, syncproto.CodeNotFound, errors.New("enroll: method "+r.Method))
		return
	}
	body, ok := s.readBody(w, r, syncproto.MaxSmallBody)
	if !ok {
		return
	}
	var req syncproto.EnrollRequest
	if err := syncproto.DecodeBody(body, 4*syncproto.MaxSmallBody, &req); err != nil {
		s.failDecode(w, r, err)
		return
	}
	if err := req.Validate(); err != nil {
		s.fail(w, r, syncproto.CodeBadRequest, err)
		return
	}
	if syncproto.DeviceID(req.PublicKey) != signed.Device {
		s.fail(w, r, syncproto.CodeUnauthenticated, errors.New("enroll: device id is not the key's"))
		return
	}
	if !s.verify(w, r, signed, body, req.PublicKey) {
		return
	}
	if ok, wait := s.perDevice.allow(signed.Device); !ok {
		s.refuseRate(w, r, wait, "device "+signed.Device)
		return
	}
	canon, _ := syncproto.NormalizeToken(req.Token)
	d, err := s.store.Enroll(r.Context(), syncproto.TokenHash(canon), Device{ID: signed.Device, Name: req.Name, PublicKey: req.PublicKey}, s.now())
	if errors.Is(err, ErrTokenRefused) {
		s.fail(w, r, syncproto.CodeEnrollRefused, errors.New("token unknown, spent or expired, or device enrolled"), "device", signed.Device)
		return
	}
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err)
		return
	}
	c, err := s.store.Clinic(r.Context(), d.Clinic)
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err)
		return
	}
	s.log.Info("device enrolled", "device", d.ID, "clinic", d.Clinic, "ip", clientIP(r))
	s.reply(w, r, syncproto.EnrollResponse{Device: d.ID, Clinic: c.ID, ClinicName: c.Name, ServerTime: s.now().UTC()})
}

// failDecode answers a body that did not decode.
func (s *Server) failDecode(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, syncproto.ErrTooLarge) {
		s.fail(w, r, syncproto.CodeTooLarge, err)
		return
	}
	s.fail(w, r, syncproto.CodeBadRequest, err)
}

// push: POST /v1/push.
func (s *Server) push(w http.ResponseWriter, r *http.Request, d Device, body []byte) {
	var req syncproto.PushRequest
	if err := syncproto.DecodeBody(body, s.maxDecode, &req); err != nil {
		s.failDecode(w, r, err)
		return
	}
	if err := req.Validate(); err != nil {
		s.fail(w, r, syncproto.CodeBadRequest, err, "device", d.ID)
		return
	}
	vs := make([]Version, len(req.Versions))
	for i, v := range req.Versions {
		vs[i] = Version{Record: v.Record, ID: v.ID, Parents: v.Parents, Sealed: v.Sealed}
	}
	results, head, err := s.store.Push(r.Context(), d.Clinic, d.ID, vs)
	switch {
	case errors.Is(err, ErrRevoked):
		s.fail(w, r, syncproto.CodeRevoked, err, "device", d.ID)
		return
	case errors.Is(err, ErrNotFound):
		s.fail(w, r, syncproto.CodeUnauthenticated, err, "device", d.ID)
		return
	case err != nil:
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	resp := syncproto.PushResponse{Results: make([]syncproto.PushResult, len(results)), Head: head}
	counts := map[string]int{}
	for i, res := range results {
		resp.Results[i] = syncproto.PushResult{ID: res.ID, Seq: res.Seq, Status: res.Status}
		counts[res.Status]++
	}
	if counts[syncproto.PushMismatch] > 0 {
		// Another version under an id already stored: a client fault or
		// tampering; the device's operator should hear of it.
		s.log.Warn("push with mismatched versions", "device", d.ID, "clinic", d.Clinic, "mismatched", counts[syncproto.PushMismatch])
	}
	s.log.Debug("push", "device", d.ID, "clinic", d.Clinic, "stored", counts[syncproto.PushStored],
		"duplicate", counts[syncproto.PushDuplicate], "head", head)
	s.reply(w, r, resp)
}

// pull: GET /v1/pull?after=N&limit=M.
func (s *Server) pull(w http.ResponseWriter, r *http.Request, d Device, _ []byte) {
	after, limit, err := pullParams(r)
	if err != nil {
		s.fail(w, r, syncproto.CodeBadRequest, err, "device", d.ID)
		return
	}
	vs, head, err := s.store.Pull(r.Context(), d.Clinic, after, limit, syncproto.MaxPageBytes)
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	resp := syncproto.PullResponse{Versions: make([]syncproto.Version, len(vs)), Next: after, Head: head}
	for i, v := range vs {
		resp.Versions[i] = syncproto.Version{Record: v.Record, ID: v.ID, Parents: v.Parents, Sealed: v.Sealed, Seq: v.Seq, Device: v.Device}
		resp.Next = v.Seq
	}
	resp.More = resp.Next < head
	s.reply(w, r, resp)
}

// pullParams reads after (default 0) and limit (default
// DefaultPullLimit); nothing else may be in the query.
func pullParams(r *http.Request) (after int64, limit int, err error) {
	q := r.URL.Query()
	limit = syncproto.DefaultPullLimit
	for k, vals := range q {
		if len(vals) != 1 {
			return 0, 0, fmt.Errorf("pull: %d values of %q", len(vals), k)
		}
		switch k {
		case "after":
			after, err = strconv.ParseInt(vals[0], 10, 64)
			if err != nil || after < 0 {
				return 0, 0, errors.New("pull: bad after")
			}
		case "limit":
			limit, err = strconv.Atoi(vals[0])
			if err != nil || limit < 1 || limit > syncproto.MaxPullLimit {
				return 0, 0, errors.New("pull: bad limit")
			}
		default:
			return 0, 0, errors.New("pull: unknown parameter")
		}
	}
	return after, limit, nil
}

// status: GET /v1/status. A revoked device is told to erase, and learns
// nothing else.
func (s *Server) status(w http.ResponseWriter, r *http.Request, d Device, _ []byte) {
	resp := syncproto.StatusResponse{Device: d.ID, Clinic: d.Clinic, Status: d.Status, ServerTime: s.now().UTC()}
	if d.Status != syncproto.StatusActive {
		resp.Status, resp.Erase, resp.Clinic = syncproto.StatusRevoked, true, ""
		s.log.Warn("revoked device told to erase", "device", d.ID, "clinic", d.Clinic, "ip", clientIP(r))
		s.reply(w, r, resp)
		return
	}
	c, err := s.store.Clinic(r.Context(), d.Clinic)
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	resp.Head = c.Head
	s.reply(w, r, resp)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
