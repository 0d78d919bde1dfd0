package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/backend/syncserver"
	"outpost/backend/syncserver/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) syncserver.Store {
		s, err := Create(context.Background(), filepath.Join(t.TempDir(), "server.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestFileAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "server.db")
	if _, err := Open(ctx, path); !errors.Is(err, ErrNoStore) {
		t.Fatalf("open of nothing: %v", err)
	}
	s, err := Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(ctx, path); err == nil {
		t.Fatal("create over an existing file")
	}
	if err := s.CreateClinic(ctx, syncserver.Clinic{ID: "hill", Name: "Hill", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"server.db", "server.db-wal", "server.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", name, fi.Mode().Perm())
		}
	}
	var mode, sync string
	s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	s.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync)
	if mode != "wal" || sync != "2" {
		t.Fatalf("journal_mode %s, synchronous %s", mode, sync)
	}
	// The read pool cannot write.
	if _, err := s.r.ExecContext(ctx, "INSERT INTO clinics (id, name, created_at) VALUES ('x', 'x', 0)"); err == nil {
		t.Fatal("a write through the read pool")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Clinic(ctx, "hill"); err != nil || c.Name != "Hill" {
		t.Fatalf("after reopen: %+v %v", c, err)
	}
	// The stored versions cannot be changed or deleted, even by hand.
	for _, q := range []string{"UPDATE versions SET ciphertext = x'00'", "DELETE FROM versions"} {
		if _, err := s.w.ExecContext(ctx, "INSERT INTO versions VALUES ('hill', 1, 'v', 'r', '[]', 'd', 1, x'01')"); err != nil && !strings.Contains(err.Error(), "UNIQUE") {
			t.Fatal(err)
		}
		if _, err := s.w.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("%s: %v", q, err)
		}
	}
	// A newer schema is refused.
	if _, err := s.w.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("a newer schema: %v", err)
	}
}
