package syncproto

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func gz(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(raw)
	w.Close()
	return b.Bytes()
}

func TestBodyRoundTrip(t *testing.T) {
	sealed := make([]byte, 3000)
	rand.Read(sealed)
	in := PushRequest{Versions: []Version{{Record: "r", ID: "v", Parents: []string{"p"}, Sealed: sealed}}}
	b, err := EncodeBody(in)
	if err != nil {
		t.Fatal(err)
	}
	var out PushRequest
	if err := DecodeBody(b, MaxDecodedBody, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Versions[0].Sealed, sealed) || out.Versions[0].Parents[0] != "p" {
		t.Fatalf("round trip changed the body")
	}
}

func TestDecodeBodyRefuses(t *testing.T) {
	bomb := gz(t, append([]byte(`{"versions":[],"x":"`), bytes.Repeat([]byte("A"), 10<<20)...))
	if len(bomb) > 100<<10 {
		t.Fatalf("the bomb is not one: %d bytes", len(bomb))
	}
	good := gz(t, []byte(`{"versions":[]}`))
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"decompression bomb", bomb, ErrTooLarge},
		{"not gzip", []byte(`{"versions":[]}`), ErrBadBody},
		{"unknown field", gz(t, []byte(`{"versions":[],"extra":1}`)), ErrBadBody},
		{"two values", gz(t, []byte(`{"versions":[]} {}`)), ErrBadBody},
		{"not json", gz(t, []byte(`versions`)), ErrBadBody},
		{"truncated gzip", good[:len(good)-6], ErrBadBody},
		{"damaged checksum", append(append([]byte{}, good[:len(good)-8]...), 0, 0, 0, 0, 15, 0, 0, 0), ErrBadBody},
		{"bytes after the gzip member", append(append([]byte{}, good...), 'x'), ErrBadBody},
		{"a second gzip member", append(append([]byte{}, good...), good...), ErrBadBody},
	}
	for _, tt := range tests {
		var v PushRequest
		if err := DecodeBody(tt.body, 1<<20, &v); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	var v PushRequest
	if err := DecodeBody(good, 1<<20, &v); err != nil {
		t.Fatalf("good body: %v", err)
	}
}

func TestValidatePush(t *testing.T) {
	v := func(id string) Version { return Version{Record: "rec-1", ID: id, Sealed: []byte{1}} }
	many := make([]Version, MaxBatch+1)
	for i := range many {
		many[i] = v("v" + strings.Repeat("x", i%50) + string(rune('a'+i%26)))
	}
	tests := []struct {
		name string
		vs   []Version
		ok   bool
	}{
		{"one", []Version{v("0190a6b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b")}, true},
		{"none", nil, false},
		{"too many", many, false},
		{"bad id", []Version{v("a b")}, false},
		{"id too long", []Version{v(strings.Repeat("a", 65))}, false},
		{"repeated id", []Version{v("a"), v("a")}, false},
		{"bad record", []Version{{Record: "", ID: "a", Sealed: []byte{1}}}, false},
		{"empty sealed", []Version{{Record: "r", ID: "a"}}, false},
		{"too large", []Version{{Record: "r", ID: "a", Sealed: make([]byte, MaxSealed+1)}}, false},
		{"own parent", []Version{{Record: "r", ID: "a", Parents: []string{"a"}, Sealed: []byte{1}}}, false},
		{"bad parent", []Version{{Record: "r", ID: "a", Parents: []string{"'; DROP"}, Sealed: []byte{1}}}, false},
		{"two parents", []Version{{Record: "r", ID: "a", Parents: []string{"b", "c"}, Sealed: []byte{1}}}, true},
	}
	for _, tt := range tests {
		err := PushRequest{Versions: tt.vs}.Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestTokens(t *testing.T) {
	tok, err := NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}$`).MatchString(tok) {
		t.Fatalf("token %q", tok)
	}
	canon, ok := NormalizeToken(tok)
	if !ok {
		t.Fatal("a new token does not normalise")
	}
	typed := strings.ToLower(strings.ReplaceAll(tok, "-", " "))
	typed = strings.ReplaceAll(strings.ReplaceAll(typed, "0", "o"), "1", "l")
	if c, ok := NormalizeToken(typed); !ok || c != canon || TokenHash(c) != TokenHash(canon) {
		t.Fatalf("typed %q: %q %v", typed, c, ok)
	}
	for _, bad := range []string{"", tok[:30], tok + "X", strings.Replace(tok, tok[:1], "U", 1), tok[:5] + "é" + tok[6:]} {
		if _, ok := NormalizeToken(bad); ok {
			t.Errorf("NormalizeToken(%q) accepted", bad)
		}
	}
	other, _ := NewToken(nil)
	if other == tok {
		t.Fatal("two tokens alike")
	}
	e := EnrollRequest{Token: tok, PublicKey: make([]byte, ed25519.PublicKeySize), Name: "Front desk laptop"}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "   ", "tab\there", strings.Repeat("n", 101)} {
		e.Name = name
		if e.Validate() == nil {
			t.Errorf("name %q accepted", name)
		}
	}
}

func TestFingerprint(t *testing.T) {
	fp := Fingerprint([]byte("certificate"))
	if len(fp) != 95 || strings.ToUpper(fp) != fp {
		t.Fatalf("fingerprint %q", fp)
	}
	want, _ := ParseFingerprint(fp)
	for _, typed := range []string{strings.ToLower(fp), strings.ReplaceAll(fp, ":", ""), "sha256 Fingerprint=" + fp} {
		if got, ok := ParseFingerprint(typed); !ok || got != want {
			t.Errorf("ParseFingerprint(%q)", typed)
		}
	}
	if _, ok := ParseFingerprint(fp[:90]); ok {
		t.Error("a short fingerprint parsed")
	}
}

// Every code has a status and a message that a user can read: no
// technical words, no placeholders.
func TestCodes(t *testing.T) {
	if len(Codes()) != 12 {
		t.Fatalf("%d codes: update the protocol document with the set", len(Codes()))
	}
	for _, c := range Codes() {
		if c.Status() < 400 || c.Message() == "" || strings.ContainsAny(c.Message(), "%{}<>/\\") {
			t.Errorf("%s: %d %q", c, c.Status(), c.Message())
		}
		for _, word := range []string{"sql", "stack", "panic", "nil", "error:", "goroutine"} {
			if strings.Contains(strings.ToLower(c.Message()), word) {
				t.Errorf("%s: message says %q", c, word)
			}
		}
	}
	if Code("made_up").Known() || Code("made_up").Status() != 500 {
		t.Error("an unknown code")
	}
}

// A refusal reads as an *Error with this package's message, whatever
// text the server sent.
func TestReadResponseError(t *testing.T) {
	body, _ := json.Marshal(map[string]string{"code": "rate_limited", "message": "<script>", "incident": "ABCD-1234"})
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3"}}, Body: io.NopCloser(bytes.NewReader(body))}
	err := ReadResponse(resp, 1<<20, nil)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeRateLimited || e.Message != CodeRateLimited.Message() || e.Incident != "ABCD-1234" || e.RetryAfter.Seconds() != 3 {
		t.Fatalf("%#v", err)
	}
	body, _ = json.Marshal(map[string]string{"code": "/etc/passwd", "incident": "<b>"})
	resp = &http.Response{StatusCode: 500, Header: http.Header{"Content-Encoding": {"gzip"}}, Body: io.NopCloser(bytes.NewReader(gz(t, body)))}
	if err := ReadResponse(resp, 1<<20, nil); !errors.As(err, &e) || e.Code != CodeInternal || e.Incident != "" {
		t.Fatalf("%#v", err)
	}
}

func FuzzDecodeBody(f *testing.F) {
	b, _ := EncodeBody(PushRequest{Versions: []Version{{Record: "r", ID: "v", Sealed: []byte("s")}}})
	f.Add(b)
	f.Add(gz(f, []byte(`{"token":"x","public_key":"AAAA","name":"n"}`)))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, body []byte) {
		var p PushRequest
		if DecodeBody(body, 1<<16, &p) == nil {
			_ = p.Validate()
		}
		var e EnrollRequest
		if DecodeBody(body, 1<<16, &e) == nil {
			_ = e.Validate()
		}
	})
}
