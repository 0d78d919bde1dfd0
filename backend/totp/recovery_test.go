package totp_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"outpost/backend/totp"
)

const alphabet = "23456789abcdefghijkmnpqrstuvwxyz"

var wellFormed = regexp.MustCompile(`^[` + alphabet + `]{4}-[` + alphabet + `]{4}-[` + alphabet + `]{4}$`)

// counter yields 0, 1, 2, … 255, 0, 1, … forever.
type counter struct{ next byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

// zeros yields zero bytes forever: a broken random source.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestRecoveryCodesDeterministic(t *testing.T) {
	got, err := totp.RecoveryCodes(&counter{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2345-6789-abcd", "efgh-ijkm-npqr", "stuv-wxyz-2345"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("RecoveryCodes(counter) = %q, want %q", got, want)
	}
}

func TestRecoveryCodes(t *testing.T) {
	const n = 1000
	codes, err := totp.RecoveryCodes(seeded(7), n)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(codes), n; got != want {
		t.Fatalf("len = %d, want %d", got, want)
	}
	seen := map[string]bool{}
	symbols := map[rune]bool{}
	for _, c := range codes {
		if !wellFormed.MatchString(c) {
			t.Errorf("code %q is not xxxx-xxxx-xxxx over %q", c, alphabet)
		}
		if seen[c] {
			t.Errorf("code %q repeated", c)
		}
		seen[c] = true
		for _, r := range strings.ReplaceAll(c, "-", "") {
			symbols[r] = true
		}
	}
	// 12 symbols from 32 equally likely ones are 60 bits: every symbol
	// must turn up in 12,000 draws.
	if got, want := len(symbols), 32; got != want {
		t.Errorf("codes use %d distinct symbols, want %d", got, want)
	}
	for _, r := range "01lo" {
		if symbols[r] {
			t.Errorf("ambiguous symbol %q used", r)
		}
	}

	other, err := totp.RecoveryCodes(seeded(8), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range other {
		if seen[c] {
			t.Errorf("two sources share the code %q", c)
		}
	}
}

func TestRecoveryCodesErrors(t *testing.T) {
	got, err := totp.RecoveryCodes(seeded(1), 0)
	if err != nil || len(got) != 0 {
		t.Errorf("RecoveryCodes(0) = %q, %v; want none, nil", got, err)
	}
	tests := []struct {
		name string
		r    interface{ Read([]byte) (int, error) }
		n    int
	}{
		{"negative count", seeded(1), -1},
		{"huge count", seeded(1), 1_000_000},
		{"short source", bytes.NewReader(make([]byte, 12*2+5)), 3},
		{"repeating source", zeros{}, 2},
	}
	for _, tt := range tests {
		if codes, err := totp.RecoveryCodes(tt.r, tt.n); err == nil {
			t.Errorf("%s: RecoveryCodes = %q, want an error", tt.name, codes)
		}
	}
	// One code from a constant source is still a (poor but) valid result.
	if codes, err := totp.RecoveryCodes(zeros{}, 1); err != nil || len(codes) != 1 || codes[0] != "2222-2222-2222" {
		t.Errorf("RecoveryCodes(zeros, 1) = %q, %v", codes, err)
	}
}

func TestHashRecoveryCode(t *testing.T) {
	// printf abcdefghjkmn | sha256sum
	const want = "ff25e0a8f930ea31f7d2fdefc87340e34d7f6849d0781d0cd87701a5301722c0"
	tests := []struct {
		code string
		want string
	}{
		{"abcd-efgh-jkmn", want},
		{"abcdefghjkmn", want},
		{"ABCD-EFGH-JKMN", want},
		{"AbCd-eFgH-jKmN", want},
		{"abcd efgh jkmn", want},
		{"  abcd - efgh - jkmn\n", want},
		{"ab-cd-ef-gh-jk-mn", want},
		{"abcd\tefgh\u00a0jkmn", want},
	}
	for _, tt := range tests {
		if got := totp.HashRecoveryCode(tt.code); got != tt.want {
			t.Errorf("HashRecoveryCode(%q) = %s, want %s", tt.code, got, tt.want)
		}
	}
	for _, other := range []string{"abcd-efgh-jkmm", "abcd_efgh_jkmn", "abcd.efgh.jkmn", "", "-"} {
		if got := totp.HashRecoveryCode(other); got == want {
			t.Errorf("HashRecoveryCode(%q) equals the hash of abcdefghjkmn", other)
		}
	}

	codes, err := totp.RecoveryCodes(seeded(3), 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		h := totp.HashRecoveryCode(c)
		if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
			t.Errorf("HashRecoveryCode(%q) = %q, want 64 lower-case hex digits", c, h)
		}
		if typed := strings.ToUpper(strings.ReplaceAll(c, "-", " ")); totp.HashRecoveryCode(typed) != h {
			t.Errorf("HashRecoveryCode(%q) differs from HashRecoveryCode(%q)", typed, c)
		}
	}
}
