package totp_test

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"outpost/backend/totp"
)

// FuzzVerify: Verify never panics, and whatever it accepts is six ASCII
// digits (after white space), newer than lastUsed, within one step of the
// clock, and the code of the step it returns.
func FuzzVerify(f *testing.F) {
	for _, seed := range []struct {
		code           string
		unix, lastUsed int64
	}{
		{"050471", 1111111111, 0},
		{"050 471", 1111111111, 37037036},
		{"050471", 1111111111, 37037037},
		{"", 0, 0},
		{"000000", 0, -1},
		{"12345a", 59, 0},
		{"１２３４５６", 59, 0},
		{"\xff\xfe", -1, -1},
		{"1234567", 1 << 62, 1<<63 - 1},
		{"287082", 59, -1 << 63},
		{"999999", -1 << 63, -1 << 63},
	} {
		f.Add(seed.code, seed.unix, seed.lastUsed)
	}
	f.Fuzz(func(t *testing.T, code string, unix, lastUsed int64) {
		now := time.Unix(unix, 0)
		step, ok := totp.Verify(rfcSecret, code, now, lastUsed)
		if !ok {
			if step != 0 {
				t.Errorf("refused with step %d", step)
			}
			return
		}
		typed := strings.Join(strings.FieldsFunc(code, unicode.IsSpace), "")
		if len(typed) != 6 || strings.Trim(typed, "0123456789") != "" {
			t.Fatalf("accepted %q", code)
		}
		if step <= lastUsed {
			t.Errorf("accepted step %d <= lastUsed %d", step, lastUsed)
		}
		if d := step - totp.Step(now); d < -1 || d > 1 {
			t.Errorf("accepted step %d, %d steps from the clock", step, d)
		}
		if unix > -1<<40 && unix < 1<<40 {
			if got := totp.Code(rfcSecret, time.Unix(step*30, 0)); got != typed {
				t.Errorf("accepted %q as step %d, whose code is %q", typed, step, got)
			}
		}
	})
}
