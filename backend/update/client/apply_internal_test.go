package client

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
)

// install hands selfupdate the checksum: a file that does not match is
// not installed, and nothing is left behind.
func TestInstallChecksum(t *testing.T) {
	cases := []struct {
		name      string
		sumOf     string
		wantErr   bool
		wantFinal string
	}{
		{"verified file", "new program", false, "new program"},
		{"file changed after verification", "something else", true, "old program"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			target, tmp := filepath.Join(dir, "outpost"), filepath.Join(t.TempDir(), "download")
			os.WriteFile(target, []byte("old program"), 0o755)
			os.WriteFile(tmp, []byte("new program"), 0o600)
			sum := sha256.Sum256([]byte(c.sumOf))
			err := install(tmp, target, sum[:])
			if (err != nil) != c.wantErr {
				t.Fatalf("install: got %v, want error %v", err, c.wantErr)
			}
			if got, _ := os.ReadFile(target); string(got) != c.wantFinal {
				t.Errorf("target: got %q, want %q", got, c.wantFinal)
			}
			st, _ := os.Stat(target)
			if got, want := st.Mode().Perm(), os.FileMode(0o755); got != want {
				t.Errorf("mode: got %v, want %v", got, want)
			}
			prev, perr := os.ReadFile(PreviousPath(target))
			if c.wantErr && perr == nil {
				t.Error("a refused install saved a previous program")
			}
			if !c.wantErr && string(prev) != "old program" {
				t.Errorf("previous: got %q, want the old program", prev)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "outpost" && e.Name() != "outpost.previous" {
					t.Errorf("left behind: %s", e.Name())
				}
			}
		})
	}
}
