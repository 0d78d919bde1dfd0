// Package sqlite is outpost-server's embedded store: one SQLite file
// through github.com/mattn/go-sqlite3, in WAL mode with full fsync. It is
// the only package that imports that driver, and it never shares a
// binary with the desktop's SQLCipher driver (both register "sqlite3").
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"outpost/backend/migrate"
	"outpost/backend/syncserver"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Store is a syncserver.Store in one SQLite file. Writes go through one
// connection, so they never wait on each other inside SQLite; reads use
// a pool of read-only connections.
type Store struct {
	w, r *sql.DB
}

var _ syncserver.Store = (*Store)(nil)

// ErrNoStore: Open found no database file.
var ErrNoStore = errors.New("sqlite store: no database file")

// Create makes a new database file at path (mode 0600; its folder must
// exist) and opens it. It fails if the file exists.
func Create(ctx context.Context, path string) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	return Open(ctx, path)
}

// Open opens the database file at path and brings its schema up to date.
// SQLite gives the WAL and shared-memory files the database file's mode.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.Mode().IsRegular() {
		return nil, ErrNoStore
	}
	base := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?_busy_timeout=10000&_foreign_keys=on&_synchronous=FULL"
	w, err := sql.Open("sqlite3", base+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		w.Close()
		return nil, fmt.Errorf("open store: journal mode %q, want wal (%v)", mode, err)
	}
	r, err := sql.Open("sqlite3", base+"&mode=ro&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.r = r
	return s, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// SchemaVersion is the schema version this program writes.
func SchemaVersion() int {
	ms, _ := migrate.Files(schemaFS, "schema")
	return len(ms)
}

// migrate applies each missing schema file in its own transaction; a
// schema newer than the program is refused.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrate.Files(schemaFS, "schema")
	if err != nil {
		return fmt.Errorf("migrate store: %w", err)
	}
	var have int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("migrate store: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("migrate store: schema %d is newer than this program's %d", have, len(ms))
	}
	if err := migrate.Apply(ctx, s.w, ms, have); err != nil {
		return fmt.Errorf("migrate store: %w", err)
	}
	return nil
}

// ms and fromMS convert times to the stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// Checkpoint copies the WAL into the database file (for a backup of the
// file alone, or before a copy).
func (s *Store) Checkpoint(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("checkpoint store: %w", err)
	}
	return nil
}
