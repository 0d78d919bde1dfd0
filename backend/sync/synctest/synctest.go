// Package synctest runs the real outpost-server as a process for tests,
// as in a clinic: its binary links the server's SQLite driver, which a
// laptop's binary (and any test binary that opens a vault) never does.
package synctest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/backend/syncproto"
)

// Build compiles outpost-server into dir and returns its path. Call it
// once from TestMain.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "outpost-server")
	cmd := exec.Command("go", "build", "-o", bin, "outpost/backend/cmd/outpost-server")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build outpost-server: %w", err)
	}
	return bin, nil
}

// Server is one outpost-server process on loopback with its own data
// directory.
type Server struct {
	Bin  string
	Dir  string
	Addr string   // 127.0.0.1:port
	Base string   // https://127.0.0.1:port
	Pin  [32]byte // the certificate's SHA-256
	// Fingerprint is Pin as printed (hex pairs joined by colons).
	Fingerprint string
	// Args are added to every serve command line (e.g. a webhook).
	Args []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	logs lockedBuffer
}

// lockedBuffer is the process's stderr, read while it is written.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

// Run runs one outpost-server command and returns its output.
func (s *Server) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(s.Bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("outpost-server %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

var fingerprintLine = regexp.MustCompile(`(?m)^\s+([0-9A-F:]{95})\s*$`)

// Start initialises a data directory and serves it on a free loopback
// port until the test ends.
func Start(t testing.TB, bin string, args ...string) *Server {
	t.Helper()
	s := &Server{Bin: bin, Dir: filepath.Join(t.TempDir(), "srv"), Args: args}
	out := s.Run(t, "init", "--data-dir", s.Dir)
	fp := fingerprintLine.FindStringSubmatch(out)
	if fp == nil {
		t.Fatalf("no fingerprint in:\n%s", out)
	}
	var ok bool
	if s.Pin, ok = syncproto.ParseFingerprint(fp[1]); !ok {
		t.Fatalf("bad fingerprint %q", fp[1])
	}
	s.Fingerprint = fp[1]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	ln.Close()
	s.Base = "https://" + s.Addr
	t.Cleanup(s.Kill)
	s.Serve(t)
	return s
}

// Serve starts the server process on its data dir and address and waits
// until it listens.
func (s *Server) Serve(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmd = exec.Command(s.Bin, append([]string{"serve", "--data-dir", s.Dir, "--addr", s.Addr}, s.Args...)...)
	s.logs.Reset()
	s.cmd.Stderr = &s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", s.Addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not listen:\n%s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends the server process with SIGKILL (no shutdown of any kind).
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// Logs returns what the running (or last) server process wrote to its
// log so far.
func (s *Server) Logs() string { return s.logs.String() }

// Token makes a one-time enrollment token for clinic (created with name
// when new).
func (s *Server) Token(t testing.TB, clinic, name string) string {
	t.Helper()
	out := s.Run(t, "enroll", "--data-dir", s.Dir, "--clinic", clinic, "--clinic-name", name)
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Enrollment token") && i+2 < len(lines) {
			return strings.TrimSpace(lines[i+2])
		}
	}
	t.Fatalf("no token in:\n%s", out)
	return ""
}
