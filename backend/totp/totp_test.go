package totp_test

import (
	"bytes"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"outpost/backend/totp"
)

// rfcSecret is the SHA1 key of RFC 6238 Appendix B.
var rfcSecret = totp.Secret("12345678901234567890")

func seeded(seed byte) *rand.ChaCha8 {
	return rand.NewChaCha8([32]byte{seed})
}

// The RFC 6238 Appendix B SHA1 vectors; the RFC's 8-digit codes cut to
// their last 6 digits.
func TestCodeRFC6238(t *testing.T) {
	tests := []struct {
		unix     int64
		step     int64
		rfc8     string
		wantCode string
	}{
		{59, 1, "94287082", "287082"},
		{1111111109, 0x23523EC, "07081804", "081804"},
		{1111111111, 0x23523ED, "14050471", "050471"},
		{1234567890, 0x273EF07, "89005924", "005924"},
		{2000000000, 0x3F940AA, "69279037", "279037"},
		{20000000000, 0x27BC86AA, "65353130", "353130"},
	}
	for _, tt := range tests {
		at := time.Unix(tt.unix, 0).UTC()
		if got, want := totp.Step(at), tt.step; got != want {
			t.Errorf("Step(%d) = %d, want %d", tt.unix, got, want)
		}
		if got, want := totp.Code(rfcSecret, at), tt.wantCode; got != want {
			t.Errorf("Code(%d) = %q, want %q (RFC %s)", tt.unix, got, want, tt.rfc8)
		}
		if !strings.HasSuffix(tt.rfc8, tt.wantCode) {
			t.Errorf("table: %q is not the tail of %q", tt.wantCode, tt.rfc8)
		}
	}
}

func TestStep(t *testing.T) {
	tests := []struct {
		at   time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(29, 999_999_999), 0},
		{time.Unix(30, 0), 1},
		{time.Unix(59, 0), 1},
		{time.Unix(60, 0), 2},
		{time.Unix(-1, 0), -1},
		{time.Unix(-30, 0), -1},
		{time.Unix(-31, 0), -2},
		{time.Unix(-1, 500_000_000), -1},
		// The same instant in another zone is the same step.
		{time.Unix(1111111111, 0).In(time.FixedZone("EAT", 3*3600)), 37037037},
	}
	for _, tt := range tests {
		if got, want := totp.Step(tt.at), tt.want; got != want {
			t.Errorf("Step(%v) = %d, want %d", tt.at, got, want)
		}
	}
}

func TestVerifyWindow(t *testing.T) {
	now := time.Unix(1111111111, 0)
	nowStep := totp.Step(now)
	tests := []struct {
		offset int64 // steps between the code's time and the verifier's clock
		wantOK bool
	}{
		{-3, false},
		{-2, false},
		{-1, true},
		{0, true},
		{1, true},
		{2, false},
		{3, false},
	}
	for _, tt := range tests {
		code := totp.Code(rfcSecret, now.Add(time.Duration(tt.offset)*30*time.Second))
		step, ok := totp.Verify(rfcSecret, code, now, 0)
		if got, want := ok, tt.wantOK; got != want {
			t.Errorf("offset %d: Verify(%q) ok = %v, want %v", tt.offset, code, got, want)
			continue
		}
		wantStep := int64(0)
		if tt.wantOK {
			wantStep = nowStep + tt.offset
		}
		if got, want := step, wantStep; got != want {
			t.Errorf("offset %d: Verify(%q) step = %d, want %d", tt.offset, code, got, want)
		}
	}
}

func TestVerifyReplay(t *testing.T) {
	now := time.Unix(1234567890, 0)
	s := totp.Step(now)
	tests := []struct {
		name     string
		offset   int64 // of the typed code, in steps from now
		lastUsed int64
		wantOK   bool
	}{
		{"never used", 0, 0, true},
		{"older step used", 0, s - 1, true},
		{"same step used", 0, s, false},
		{"newer step used", 0, s + 1, false},
		{"previous step after older", -1, s - 2, true},
		{"previous step replayed", -1, s - 1, false},
		{"previous step after current", -1, s, false},
		{"next step after current", 1, s, true},
		{"next step replayed", 1, s + 1, false},
	}
	for _, tt := range tests {
		code := totp.Code(rfcSecret, time.Unix((s+tt.offset)*30, 0))
		step, ok := totp.Verify(rfcSecret, code, now, tt.lastUsed)
		if got, want := ok, tt.wantOK; got != want {
			t.Errorf("%s: ok = %v, want %v", tt.name, got, want)
		}
		if ok && step != s+tt.offset {
			t.Errorf("%s: step = %d, want %d", tt.name, step, s+tt.offset)
		}
	}

	// The full cycle: the stored step stops the same code a second time.
	code := totp.Code(rfcSecret, now)
	step, ok := totp.Verify(rfcSecret, code, now, 0)
	if !ok {
		t.Fatal("first use refused")
	}
	if _, ok := totp.Verify(rfcSecret, code, now.Add(10*time.Second), step); ok {
		t.Error("second use of the same code accepted")
	}
}

func TestVerifyInput(t *testing.T) {
	now := time.Unix(1111111111, 0) // code "050471"
	tests := []struct {
		code   string
		wantOK bool
	}{
		{"050471", true},
		{"050 471", true},
		{" 050471 ", true},
		{"0 5 0 4 7 1", true},
		{"050\t471\n", true},
		{"050\u00a0471", true}, // no-break space from a copy and paste
		{"", false},
		{"   ", false},
		{"05047", false},
		{"0504710", false},
		{"50471", false},
		{"00050471", false},
		{"14050471", false}, // the 8-digit RFC code
		{"05047a", false},
		{"050-471", false},
		{"+050471", false},
		{"-050471", false},
		{"０５０４７１", false}, // full-width digits
		{"٠٥٠٤٧١", false}, // Arabic-Indic digits
		{"050471\x00", false},
		{"05047\xff1", false},
	}
	for _, tt := range tests {
		_, ok := totp.Verify(rfcSecret, tt.code, now, 0)
		if got, want := ok, tt.wantOK; got != want {
			t.Errorf("Verify(%q) = %v, want %v", tt.code, got, want)
		}
	}
}

func TestVerifyRefusesShortSecret(t *testing.T) {
	now := time.Unix(1111111111, 0)
	for _, s := range []totp.Secret{nil, {}, totp.Secret("short")} {
		if _, ok := totp.Verify(s, totp.Code(s, now), now, 0); ok {
			t.Errorf("Verify accepted a code for the %d-byte secret %q", len(s), s)
		}
	}
}

func TestNewSecret(t *testing.T) {
	s, err := totp.NewSecret(seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(s), 20; got != want {
		t.Errorf("len = %d, want %d", got, want)
	}
	s2, err := totp.NewSecret(seeded(2))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(s, s2) {
		t.Error("two sources gave the same secret")
	}
	if _, err := totp.NewSecret(bytes.NewReader(make([]byte, 19))); err == nil {
		t.Error("NewSecret accepted a source with 19 bytes")
	}
}

func TestBase32(t *testing.T) {
	if got, want := rfcSecret.Base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; got != want {
		t.Errorf("Base32 = %q, want %q", got, want)
	}
	sixteen := totp.Secret("0123456789abcdef")
	tests := []struct {
		in   string
		want totp.Secret
	}{
		{"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", rfcSecret},
		{"gezdgnbvgy3tqojqgezdgnbvgy3tqojq", rfcSecret},
		{"gezd gnbv gy3t qojq gezd gnbv gy3t qojq", rfcSecret},
		{" GEZDGNBVGY3TQOJQ\tGEZDGNBVGY3TQOJQ\n", rfcSecret},
		{sixteen.Base32(), sixteen},
		{sixteen.Base32() + "======", sixteen},
		{strings.ToLower(sixteen.Base32()) + "======", sixteen},
	}
	for _, tt := range tests {
		got, err := totp.ParseBase32(tt.in)
		if err != nil {
			t.Errorf("ParseBase32(%q): %v", tt.in, err)
			continue
		}
		if want := tt.want; !bytes.Equal(got, want) {
			t.Errorf("ParseBase32(%q) = %q, want %q", tt.in, got, want)
		}
	}
	if got := sixteen.Base32(); strings.Contains(got, "=") || got != strings.ToUpper(got) {
		t.Errorf("Base32 = %q, want unpadded upper case", got)
	}

	for _, bad := range []string{
		"",
		"   ",
		"========",
		"GEZDGNBVGY3TQOJQ",                  // 10 bytes: below 128 bits
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1",  // 1 is not base32
		"GEZDGNBVGY3TQOJQ=GEZDGNBVGY3TQOJQ", // padding inside
		"GEZDGNBVGY3TQOJQ-GEZDGNBVGY3TQOJQ", // hyphen
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQG", // impossible length
		"GAYTEMZUGU3DOOBZMFRGGZDFMZ",        // 16 bytes with spare bits set (MY is right)
	} {
		if s, err := totp.ParseBase32(bad); err == nil {
			t.Errorf("ParseBase32(%q) = %q, want an error", bad, s)
		}
	}

	for seed := range byte(20) {
		s, err := totp.NewSecret(seeded(seed))
		if err != nil {
			t.Fatal(err)
		}
		got, err := totp.ParseBase32(s.Base32())
		if err != nil || !bytes.Equal(got, s) {
			t.Errorf("round trip of %x = %x, %v", []byte(s), []byte(got), err)
		}
	}
}

func TestURI(t *testing.T) {
	tests := []struct {
		issuer, account string
		want            string
	}{
		{"", "alice@example.org",
			"otpauth://totp/Outpost:alice%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Outpost&algorithm=SHA1&digits=6&period=30"},
		{"Outpost", "nurse.joy",
			"otpauth://totp/Outpost:nurse.joy?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Outpost&algorithm=SHA1&digits=6&period=30"},
		{"St Mary's & Co", "Dr Jane: Smith/é?#",
			"otpauth://totp/St%20Mary%27s%20%26%20Co:Dr%20Jane%3A%20Smith%2F%C3%A9%3F%23?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=St%20Mary%27s%20%26%20Co&algorithm=SHA1&digits=6&period=30"},
	}
	for _, tt := range tests {
		got := totp.URI(rfcSecret, tt.issuer, tt.account)
		if got != tt.want {
			t.Errorf("URI(%q, %q) =\n %s\nwant\n %s", tt.issuer, tt.account, got, tt.want)
		}

		// A standard parser gets back exactly what went in.
		u, err := url.Parse(got)
		if err != nil {
			t.Errorf("url.Parse(%q): %v", got, err)
			continue
		}
		issuer := tt.issuer
		if issuer == "" {
			issuer = "Outpost"
		}
		q := u.Query()
		checks := []struct{ what, got, want string }{
			{"scheme", u.Scheme, "otpauth"},
			{"type", u.Host, "totp"},
			{"label", u.Path, "/" + issuer + ":" + tt.account},
			{"secret", q.Get("secret"), rfcSecret.Base32()},
			{"issuer", q.Get("issuer"), issuer},
			{"algorithm", q.Get("algorithm"), "SHA1"},
			{"digits", q.Get("digits"), "6"},
			{"period", q.Get("period"), "30"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("URI(%q, %q): %s = %q, want %q", tt.issuer, tt.account, c.what, c.got, c.want)
			}
		}
		// The label has exactly one literal colon, between issuer and account.
		label, _, _ := strings.Cut(strings.TrimPrefix(got, "otpauth://totp/"), "?")
		if strings.Count(label, ":") != 1 {
			t.Errorf("URI(%q, %q): label %q has %d colons", tt.issuer, tt.account, label, strings.Count(label, ":"))
		}
	}
}
