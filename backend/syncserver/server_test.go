package syncserver_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func sealedVersions(n int, prefix string) []syncproto.Version {
	vs := make([]syncproto.Version, n)
	for i := range vs {
		b := make([]byte, 64)
		rand.Read(b)
		vs[i] = syncproto.Version{Record: fmt.Sprintf("%s-r%d", prefix, i/2), ID: fmt.Sprintf("%s-v%d", prefix, i), Sealed: b}
		if i%2 == 1 {
			vs[i].Parents = []string{vs[i-1].ID}
		}
	}
	return vs
}

// P1, P4: only /health answers without a signature; every other path,
// known or not, is refused alike, with no banner and no cookie.
func TestOnlyHealthWithoutSignature(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.plain(nil, http.MethodGet, syncproto.PathHealth, nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(raw)) != `{"status":"ok"}` {
		t.Fatalf("health: %d %s", resp.StatusCode, raw)
	}
	checkHeaders(t, resp)
	var health syncproto.HealthResponse
	if err := h.call(nil, http.MethodGet, syncproto.PathHealth, nil, &health); err != nil || health.Status != "ok" {
		t.Fatalf("health, compressed: %+v %v", health, err)
	}

	for _, c := range []struct{ method, uri string }{
		{http.MethodPost, syncproto.PathEnroll}, {http.MethodPost, syncproto.PathPush},
		{http.MethodGet, syncproto.PathPull + "?after=0"}, {http.MethodGet, syncproto.PathStatus},
		{http.MethodGet, "/"}, {http.MethodGet, "/v1/"}, {http.MethodGet, "/metrics"}, {http.MethodGet, "/debug/pprof/"},
		{http.MethodDelete, syncproto.PathPush}, {http.MethodPost, syncproto.PathHealth + "/x"},
	} {
		var payload any
		if c.method == http.MethodPost {
			payload = map[string]string{}
		}
		er := refusal(t, h.plain(nil, c.method, c.uri, payload))
		if er.Code != syncproto.CodeUnauthenticated {
			t.Errorf("unsigned %s %s: %s", c.method, c.uri, er.Code)
		}
	}
	// A signature by a device the server does not know is no better.
	stranger := h.newDevice()
	for _, uri := range []string{syncproto.PathStatus, syncproto.PathPull, "/nowhere"} {
		if er := refusal(t, h.plain(stranger, http.MethodGet, uri, nil)); er.Code != syncproto.CodeUnauthenticated {
			t.Errorf("stranger %s: %s", uri, er.Code)
		}
	}
	// An enrolled device reaching a path that does not exist learns that.
	d := h.newDevice()
	h.enroll(d, "hill")
	if er := refusal(t, h.plain(d, http.MethodGet, "/v1/nowhere", nil)); er.Code != syncproto.CodeNotFound {
		t.Errorf("signed, unknown path: %s", er.Code)
	}
	if er := refusal(t, h.plain(d, http.MethodGet, syncproto.PathPush, nil)); er.Code != syncproto.CodeNotFound {
		t.Errorf("signed, wrong method: %s", er.Code)
	}
}

const injection = `O'Brien"); DROP TABLE devices; --`

func TestEnrollment(t *testing.T) {
	h := newHarness(t, nil)
	d := h.newDevice()
	tok := h.token("hill", h.clock.Now())
	req := syncproto.EnrollRequest{Token: tok, PublicKey: d.pub, Name: "Front desk"}
	var got syncproto.EnrollResponse
	if err := h.call(d, http.MethodPost, syncproto.PathEnroll, req, &got); err != nil {
		t.Fatal(err)
	}
	if got.Device != d.id || got.Clinic != "hill" || got.ClinicName != "Clinic hill" {
		t.Fatalf("enrolled: %+v", got)
	}
	// The answer was lost: the same device tries again and gets the same.
	var again syncproto.EnrollResponse
	if err := h.call(d, http.MethodPost, syncproto.PathEnroll, req, &again); err != nil || again.Device != d.id {
		t.Fatalf("retry: %+v %v", again, err)
	}
	// The token a second time, by another laptop: refused.
	other := h.newDevice()
	err := h.call(other, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: tok, PublicKey: other.pub, Name: "Other"}, nil)
	wantCode(t, err, syncproto.CodeEnrollRefused)

	// A token typed in lower case with spaces is the same token.
	typed := strings.ToLower(strings.ReplaceAll(h.token("hill", h.clock.Now()), "-", " "))
	// Its name is an injection attempt, stored as typed (P2).
	if err := h.call(other, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: typed, PublicKey: other.pub, Name: injection}, nil); err != nil {
		t.Fatalf("typed token: %v", err)
	}

	// Expired: made 24 hours and a second ago.
	late := h.newDevice()
	old := h.token("hill", h.clock.Now().Add(-syncproto.TokenTTL-time.Second))
	err = h.call(late, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: old, PublicKey: late.pub, Name: "Late"}, nil)
	wantCode(t, err, syncproto.CodeEnrollRefused)
	// Never issued.
	made, _ := syncproto.NewToken(nil)
	err = h.call(late, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: made, PublicKey: late.pub, Name: "Late"}, nil)
	wantCode(t, err, syncproto.CodeEnrollRefused)

	// The key in the body must be the signer's: a key copied from
	// somewhere else cannot be enrolled without its private half.
	thief, victim := h.newDevice(), h.newDevice()
	err = h.call(thief, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: h.token("hill", h.clock.Now()), PublicKey: victim.pub, Name: "Thief"}, nil)
	wantCode(t, err, syncproto.CodeUnauthenticated)
	thief.signer.Device = victim.id // claims the victim's id, signs with its own key
	err = h.call(thief, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: h.token("hill", h.clock.Now()), PublicKey: victim.pub, Name: "Thief"}, nil)
	wantCode(t, err, syncproto.CodeUnauthenticated)

	// Malformed: not a token's form, a short key, an empty name.
	for _, bad := range []syncproto.EnrollRequest{
		{Token: "not-a-token", PublicKey: late.pub, Name: "x"},
		{Token: made, PublicKey: late.pub[:31], Name: "x"},
		{Token: made, PublicKey: late.pub, Name: " "},
	} {
		wantCode(t, h.call(late, http.MethodPost, syncproto.PathEnroll, bad, nil), syncproto.CodeBadRequest)
	}

	ds, err := h.store.Devices(ctx)
	if err != nil || len(ds) != 2 || ds[0].Name+ds[1].Name != "Front desk"+injection && ds[0].Name+ds[1].Name != injection+"Front desk" {
		t.Fatalf("devices: %+v %v", ds, err)
	}
}

func TestRevokedDeviceIsToldToErase(t *testing.T) {
	h := newHarness(t, nil)
	d, peer := h.newDevice(), h.newDevice()
	h.enroll(d, "hill")
	h.enroll(peer, "hill")
	if _, err := h.push(d, sealedVersions(4, "a")); err != nil {
		t.Fatal(err)
	}
	var st syncproto.StatusResponse
	if err := h.call(d, http.MethodGet, syncproto.PathStatus, nil, &st); err != nil || st.Status != syncproto.StatusActive || st.Erase || st.Head != 4 || st.Clinic != "hill" {
		t.Fatalf("status: %+v %v", st, err)
	}
	if err := h.store.Revoke(ctx, d.id, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := h.push(d, sealedVersions(1, "b"))
	wantCode(t, err, syncproto.CodeRevoked)
	_, err = h.pull(d, 0, 10)
	wantCode(t, err, syncproto.CodeRevoked)
	st = syncproto.StatusResponse{}
	if err := h.call(d, http.MethodGet, syncproto.PathStatus, nil, &st); err != nil {
		t.Fatal(err)
	}
	if st.Status != syncproto.StatusRevoked || !st.Erase || st.Head != 0 || st.Clinic != "" {
		t.Fatalf("revoked status: %+v", st)
	}
	if !strings.Contains(syncproto.CodeRevoked.Message(), "erased") {
		t.Fatalf("the revoked message does not say to erase: %q", syncproto.CodeRevoked.Message())
	}
	// Only its own signature gets it told: a stranger naming it is refused.
	impostor := h.newDevice()
	impostor.signer.Device = d.id
	if er := refusal(t, h.plain(impostor, http.MethodGet, syncproto.PathStatus, nil)); er.Code != syncproto.CodeUnauthenticated {
		t.Fatalf("impostor: %s", er.Code)
	}
	// The rest of the clinic goes on.
	if page, err := h.pull(peer, 0, 10); err != nil || len(page.Versions) != 4 {
		t.Fatalf("peer pull: %v", err)
	}
}

func TestReplayAndClockSkew(t *testing.T) {
	h := newHarness(t, nil)
	d := h.newDevice()
	h.enroll(d, "hill")
	body, _ := syncproto.EncodeBody(syncproto.PushRequest{Versions: sealedVersions(2, "r")})
	req, err := syncproto.NewRequest(ctx, http.MethodPost, h.url, syncproto.PathPush, syncproto.PushRequest{Versions: sealedVersions(2, "r")}, d.signer)
	if err != nil {
		t.Fatal(err)
	}
	// NewRequest encodes the same way EncodeBody does; replay its bytes.
	sent, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(sent))
	if err := syncproto.ReadResponse(h.send(req), 1<<20, &syncproto.PushResponse{}); err != nil {
		t.Fatal(err)
	}
	replay, _ := http.NewRequest(http.MethodPost, h.url+syncproto.PathPush, bytes.NewReader(sent))
	replay.Header = req.Header.Clone()
	if er := refusal(t, h.send(replay)); er.Code != syncproto.CodeReplayed {
		t.Fatalf("replayed: %s", er.Code)
	}
	// Even four minutes later, still within the skew window.
	h.clock.Add(4 * time.Minute)
	replay, _ = http.NewRequest(http.MethodPost, h.url+syncproto.PathPush, bytes.NewReader(sent))
	replay.Header = req.Header.Clone()
	if er := refusal(t, h.send(replay)); er.Code != syncproto.CodeReplayed {
		t.Fatalf("replayed later: %s", er.Code)
	}
	// Ten minutes on, it is stale.
	h.clock.Add(6 * time.Minute)
	replay, _ = http.NewRequest(http.MethodPost, h.url+syncproto.PathPush, bytes.NewReader(sent))
	replay.Header = req.Header.Clone()
	if er := refusal(t, h.send(replay)); er.Code != syncproto.CodeClockSkew {
		t.Fatalf("stale: %s", er.Code)
	}
	// A laptop whose clock is six minutes fast.
	fast := *d.signer
	fast.Now = func() time.Time { return h.clock.Now().Add(6 * time.Minute) }
	r2, _ := syncproto.NewRequest(ctx, http.MethodGet, h.url, syncproto.PathStatus, nil, &fast)
	if er := refusal(t, h.send(r2)); er.Code != syncproto.CodeClockSkew {
		t.Fatalf("fast clock: %s", er.Code)
	}
	_ = body
}

// A body or URI changed after signing fails the signature.
func TestTamperedRequest(t *testing.T) {
	h := newHarness(t, nil)
	d := h.newDevice()
	h.enroll(d, "hill")
	vs := sealedVersions(2, "t")
	req, _ := syncproto.NewRequest(ctx, http.MethodPost, h.url, syncproto.PathPush, syncproto.PushRequest{Versions: vs}, d.signer)
	vs[1].Sealed[0] ^= 1
	tampered, _ := syncproto.EncodeBody(syncproto.PushRequest{Versions: vs})
	req.Body, req.ContentLength, req.GetBody = io.NopCloser(bytes.NewReader(tampered)), int64(len(tampered)), nil
	if er := refusal(t, h.send(req)); er.Code != syncproto.CodeUnauthenticated {
		t.Fatalf("tampered body: %s", er.Code)
	}
	req, _ = syncproto.NewRequest(ctx, http.MethodGet, h.url, syncproto.PathPull+"?after=5", nil, d.signer)
	req.URL.RawQuery = "after=0"
	if er := refusal(t, h.send(req)); er.Code != syncproto.CodeUnauthenticated {
		t.Fatalf("tampered query: %s", er.Code)
	}
	if page, err := h.pull(d, 0, 10); err != nil || len(page.Versions) != 0 {
		t.Fatalf("something was stored: %+v %v", page, err)
	}
}

func TestOversizedBodies(t *testing.T) {
	h := newHarness(t, func(c *syncserver.Config) { c.MaxPushBody, c.MaxDecodedBody = 256<<10, 512<<10 })
	d := h.newDevice()
	h.enroll(d, "hill")

	// Declared too large: refused before it is read.
	big := make([]byte, 300<<10)
	rand.Read(big)
	req, _ := syncproto.NewRequest(ctx, http.MethodPost, h.url, syncproto.PathPush, syncproto.PushRequest{Versions: []syncproto.Version{{Record: "r", ID: "v", Sealed: big}}}, d.signer)
	if er := refusal(t, h.send(req)); er.Code != syncproto.CodeTooLarge {
		t.Fatalf("declared: %s", er.Code)
	}
	// Sent without a length (chunked): cut off at the limit.
	req, _ = syncproto.NewRequest(ctx, http.MethodPost, h.url, syncproto.PathPush, syncproto.PushRequest{Versions: []syncproto.Version{{Record: "r", ID: "v", Sealed: big}}}, d.signer)
	body, _ := io.ReadAll(req.Body)
	req.Body, req.ContentLength, req.GetBody = io.NopCloser(io.MultiReader(bytes.NewReader(body))), -1, nil
	if er := refusal(t, h.send(req)); er.Code != syncproto.CodeTooLarge {
		t.Fatalf("chunked: %s", er.Code)
	}
	// Small when sent, huge once decompressed.
	bomb := syncproto.PushRequest{Versions: []syncproto.Version{{Record: "r", ID: "v", Sealed: make([]byte, 1<<20)}}}
	req, _ = syncproto.NewRequest(ctx, http.MethodPost, h.url, syncproto.PathPush, bomb, d.signer)
	if req.ContentLength > 256<<10 {
		t.Fatalf("the bomb is %d bytes", req.ContentLength)
	}
	if er := refusal(t, h.send(req)); er.Code != syncproto.CodeTooLarge {
		t.Fatalf("decompression bomb: %s", er.Code)
	}
	// A body on a GET, and an enrollment over its small limit.
	req, _ = syncproto.NewRequest(ctx, http.MethodGet, h.url, syncproto.PathStatus, map[string]string{"x": "y"}, d.signer)
	if er := refusal(t, h.send(req)); er.Code != syncproto.CodeTooLarge {
		t.Fatalf("GET with a body: %s", er.Code)
	}
	n := h.newDevice()
	req, _ = syncproto.NewRequest(ctx, http.MethodPost, h.url, syncproto.PathEnroll, syncproto.EnrollRequest{Token: strings.Repeat("A", 32), PublicKey: n.pub, Name: string(big[:20<<10])}, n.signer)
	if er := refusal(t, h.send(req)); er.Code != syncproto.CodeTooLarge {
		t.Fatalf("big enrollment: %s", er.Code)
	}
	// The server still serves.
	if _, err := h.push(d, sealedVersions(2, "ok")); err != nil {
		t.Fatal(err)
	}
}

// The protocol's own ceiling: a body over MaxPushBody is refused by a
// server with the default configuration.
func TestDefaultPushLimit(t *testing.T) {
	h := newHarness(t, nil)
	d := h.newDevice()
	h.enroll(d, "hill")
	body := make([]byte, syncproto.MaxPushBody+1)
	req, _ := http.NewRequest(http.MethodPost, h.url+syncproto.PathPush, bytes.NewReader(body))
	req.Header.Set("Content-Encoding", "gzip")
	if err := d.signer.Sign(req, body); err != nil {
		t.Fatal(err)
	}
	if er := refusal(t, h.send(req)); er.Code != syncproto.CodeTooLarge {
		t.Fatalf("over MaxPushBody: %s", er.Code)
	}
}

func TestBadRequests(t *testing.T) {
	h := newHarness(t, nil)
	d := h.newDevice()
	h.enroll(d, "hill")
	for _, q := range []string{"after=-1", "after=x", "limit=0", "limit=1001", "after=1&after=2", "cursor=3", "after=99999999999999999999"} {
		if er := refusal(t, h.plain(d, http.MethodGet, syncproto.PathPull+"?"+q, nil)); er.Code != syncproto.CodeBadRequest {
			t.Errorf("pull?%s: %s", q, er.Code)
		}
	}
	for name, vs := range map[string][]syncproto.Version{
		"empty":        nil,
		"bad id":       {{Record: "r", ID: "a b", Sealed: []byte{1}}},
		"no sealed":    {{Record: "r", ID: "v"}},
		"repeated ids": {{Record: "r", ID: "v", Sealed: []byte{1}}, {Record: "r", ID: "v", Sealed: []byte{1}}},
		"sql in id":    {{Record: "r'; DROP TABLE versions; --", ID: "v", Sealed: []byte{1}}},
	} {
		if _, err := h.push(d, vs); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			wantCode(t, err, syncproto.CodeBadRequest)
		}
	}
	// A body that is not gzip, and unknown fields.
	req, _ := http.NewRequest(http.MethodPost, h.url+syncproto.PathPush, strings.NewReader(`{"versions":[]}`))
	d.signer.Sign(req, []byte(`{"versions":[]}`))
	if er := refusal(t, h.send(req)); er.Code != syncproto.CodeBadRequest {
		t.Errorf("plain JSON body: %s", er.Code)
	}
	if er := refusal(t, h.plain(d, http.MethodPost, syncproto.PathPush, map[string]any{"versions": sealedVersions(1, "u"), "admin": true})); er.Code != syncproto.CodeBadRequest {
		t.Errorf("unknown field: %s", er.Code)
	}
}

func TestPushIdempotentPullInOrder(t *testing.T) {
	h := newHarness(t, nil)
	a, b := h.newDevice(), h.newDevice()
	h.enroll(a, "hill")
	h.enroll(b, "hill")
	first, second := sealedVersions(30, "a"), sealedVersions(20, "b")
	res, err := h.push(a, first)
	if err != nil || res.Head != 30 || res.Results[29].Seq != 30 || res.Results[0].Status != syncproto.PushStored {
		t.Fatalf("push: %+v %v", res.Head, err)
	}
	// The same batch again (a retry after a lost answer): nothing new.
	res, err = h.push(a, first)
	if err != nil || res.Head != 30 {
		t.Fatalf("again: %v %v", res.Head, err)
	}
	for i, r := range res.Results {
		if r.Status != syncproto.PushDuplicate || r.Seq != int64(i+1) || r.ID != first[i].ID {
			t.Fatalf("again, %d: %+v", i, r)
		}
	}
	if res, err = h.push(b, second); err != nil || res.Head != 50 {
		t.Fatalf("b: %v %v", res.Head, err)
	}
	// A different version under a stored id is a mismatch, and logged.
	changed := first[3]
	changed.Sealed = []byte("other ciphertext")
	if res, err = h.push(b, []syncproto.Version{changed}); err != nil || res.Results[0].Status != syncproto.PushMismatch || res.Results[0].Seq != 4 {
		t.Fatalf("mismatch: %+v %v", res, err)
	}
	if !strings.Contains(h.logs.String(), "mismatched") {
		t.Error("a mismatch is not in the log")
	}

	// Pages of 7 after cursors, in order, every version once.
	want := append(append([]syncproto.Version{}, first...), second...)
	var after int64
	var got []syncproto.Version
	for pages := 0; ; pages++ {
		page, err := h.pull(b, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if page.Head != 50 || (len(page.Versions) > 0 && page.Versions[0].Seq != after+1) {
			t.Fatalf("page after %d: head %d, first %+v", after, page.Head, page.Versions[0].Seq)
		}
		got = append(got, page.Versions...)
		after = page.Next
		if !page.More {
			if pages != 7 || len(page.Versions) != 1 {
				t.Fatalf("%d pages, last of %d", pages+1, len(page.Versions))
			}
			break
		}
	}
	if len(got) != 50 {
		t.Fatalf("pulled %d", len(got))
	}
	for i, v := range got {
		w := want[i]
		dev := a.id
		if i >= 30 {
			dev = b.id
		}
		if v.ID != w.ID || v.Record != w.Record || !bytes.Equal(v.Sealed, w.Sealed) || fmt.Sprint(v.Parents) != fmt.Sprint(w.Parents) || v.Seq != int64(i+1) || v.Device != dev {
			t.Fatalf("version %d: %+v", i, v)
		}
	}
	// At the head: an empty page, the cursor unchanged. The default limit.
	if page, err := h.pull(b, 50, 7); err != nil || len(page.Versions) != 0 || page.Next != 50 || page.More {
		t.Fatalf("at the head: %+v %v", page, err)
	}
	var page syncproto.PullResponse
	if err := h.call(a, http.MethodGet, syncproto.PathPull, nil, &page); err != nil || len(page.Versions) != 50 || page.Next != 50 {
		t.Fatalf("default page: %d %v", len(page.Versions), err)
	}
	// Another clinic sees none of it.
	c := h.newDevice()
	h.enroll(c, "coast")
	if page, err := h.pull(c, 0, 100); err != nil || len(page.Versions) != 0 || page.Head != 0 {
		t.Fatalf("coast: %+v %v", page, err)
	}
}
