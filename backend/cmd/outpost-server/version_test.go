package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"testing"
	"time"
)

// The release build sets the version with -ldflags -X main.version
// (scripts/release.sh); the version command prints it.
func TestVersionCommand(t *testing.T) {
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, now: time.Now, rand: rand.Reader, listening: func(net.Addr) {}}
	if code := run(context.Background(), []string{"version"}, e); code != 0 {
		t.Fatalf("version: exit %d, stderr %q", code, errb.String())
	}
	if got, want := out.String(), "outpost-server "+version+"\n"; got != want {
		t.Fatalf("version printed %q, want %q", got, want)
	}
}
