package update

import (
	"errors"
	"testing"
)

func TestParseVersion(t *testing.T) {
	cases := []struct {
		in   string
		want Version
		ok   bool
	}{
		{"1.2.3", Version{1, 2, 3}, true},
		{"v2.0.0", Version{2, 0, 0}, true},
		{"10.20.30", Version{10, 20, 30}, true},
		{"dev", Version{}, false},
		{"1.2", Version{}, false},
		{"1.2.3-rc1", Version{}, false},
		{"01.2.3", Version{}, false},
		{"1.-2.3", Version{}, false},
		{"1.2.3.4", Version{}, false},
		{"cd9aae7-dirty", Version{}, false},
		{"-0.1.2", Version{}, false},
		{"1.+2.3", Version{}, false},
		{"1.2.99999999", Version{}, false},
	}
	for _, c := range cases {
		got, err := ParseVersion(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseVersion(%q): got %v, %v; want %v, ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !errors.Is(err, ErrUnknownVersion) {
			t.Errorf("ParseVersion(%q): error %v is not ErrUnknownVersion", c.in, err)
		}
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.0.0", "2.0.0", -1}, {"2.0.0", "1.9.9", 1}, {"1.2.3", "1.2.3", 0}, {"1.10.0", "1.9.0", 1}, {"1.0.10", "1.0.9", 1},
	}
	for _, c := range cases {
		a, _ := ParseVersion(c.a)
		b, _ := ParseVersion(c.b)
		if got := a.Compare(b); got != c.want {
			t.Errorf("%s vs %s: got %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestPolicy(t *testing.T) {
	sec := Available{Found: true, Security: true}
	plain := Available{Found: true}
	cases := []struct {
		policy Policy
		a      Available
		want   bool
	}{
		{PolicyAutoSecurity, sec, true},
		{PolicyAutoSecurity, plain, false},
		{PolicyAutoSecurity, Available{}, false},
		{PolicyAsk, sec, false},
		{PolicyAsk, plain, false},
	}
	for _, c := range cases {
		if got := c.policy.AutoInstall(c.a); got != c.want {
			t.Errorf("%s %+v: got %v, want %v", c.policy, c.a, got, c.want)
		}
	}
	if _, err := ParsePolicy("always"); err == nil {
		t.Error("ParsePolicy accepted an unknown policy")
	}
	if p, err := ParsePolicy("auto-security"); err != nil || p != PolicyAutoSecurity {
		t.Errorf("ParsePolicy: got %v %v", p, err)
	}
}

func TestRefusalIs(t *testing.T) {
	err := Refuse(ErrExpired, "x")
	if !errors.Is(err, ErrRefused) || !errors.Is(err, ErrExpired) || errors.Is(err, ErrRollback) {
		t.Errorf("Refusal.Is: %v", err)
	}
}
