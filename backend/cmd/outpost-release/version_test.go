package main

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"
)

// The release build sets the version with -ldflags -X main.version
// (scripts/release.sh); the version command prints it.
func TestVersionCommand(t *testing.T) {
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, now: time.Now, rand: rand.Reader}
	if code := run([]string{"version"}, e); code != 0 {
		t.Fatalf("version: exit %d, stderr %q", code, errb.String())
	}
	if got, want := out.String(), "outpost-release "+version+"\n"; got != want {
		t.Fatalf("version printed %q, want %q", got, want)
	}
}
