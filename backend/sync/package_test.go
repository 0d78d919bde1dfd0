package sync_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"outpost/backend/seal"
	"outpost/backend/sync"
)

var fastCosts = seal.Costs{Memory: 64, Time: 1, Threads: 1}

func TestEnrollmentPackage(t *testing.T) {
	key, _ := seal.NewKey(nil)
	p := sync.Package{Server: "https://clinic.example:8443", Fingerprint: strings.Repeat("AB:", 31) + "AB", Token: "tok-123",
		ClinicKey: key.String(), ClinicName: "Hill Clinic"}
	code, err := sync.NewCode(nil)
	if err != nil || len(code) != 23 || strings.Count(code, "-") != 3 {
		t.Fatalf("code %q %v", code, err)
	}
	var file bytes.Buffer
	if err := sync.SealPackage(p, code, fastCosts, nil, &file); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file.Bytes(), []byte(key.String())) || bytes.Contains(file.Bytes(), []byte("tok-123")) {
		t.Fatal("the package shows its secrets")
	}
	// Typed in lower case without dashes: still opens.
	got, err := sync.OpenPackage(file.Bytes(), strings.ToLower(strings.ReplaceAll(code, "-", "")))
	if err != nil || got != p {
		t.Fatalf("open: %+v %v", got, err)
	}
	other, _ := sync.NewCode(nil)
	if _, err := sync.OpenPackage(file.Bytes(), other); !errors.Is(err, seal.ErrFile) {
		t.Fatalf("wrong code: %v", err)
	}
	bad := p
	bad.ClinicKey = "00"
	if err := sync.SealPackage(bad, code, fastCosts, nil, &bytes.Buffer{}); err == nil {
		t.Error("a package without a clinic key was sealed")
	}
	bad = p
	bad.Server = "http://clinic.example"
	if err := sync.SealPackage(bad, code, fastCosts, nil, &bytes.Buffer{}); err == nil {
		t.Error("a package for plain HTTP was sealed")
	}
}
