package vault

import (
	"context"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	sqlcipher "github.com/mutecomm/go-sqlcipher/v4"

	"outpost/backend/migrate"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// CacheKiB is the page cache per connection: SQLCipher decrypts each page
// it reads, so a warm cache matters more than with plain SQLite.
const CacheKiB = 64 * 1024

const driverName = "outpost-sqlcipher"

var registerOnce sync.Once

// connPragmas run on every new connection, after the key.
var connPragmas = []string{
	"PRAGMA cipher_memory_security = ON",
	"PRAGMA cache_size = -" + strconv.Itoa(CacheKiB),
	"PRAGMA temp_store = MEMORY",
	"PRAGMA secure_delete = ON",
}

func register() {
	registerOnce.Do(func() {
		sql.Register(driverName, &sqlcipher.SQLiteDriver{ConnectHook: func(c *sqlcipher.SQLiteConn) error {
			for _, p := range connPragmas {
				if _, err := c.Exec(p, nil); err != nil { // sqlcheck: p is one of the constant connPragmas
					return fmt.Errorf("%s: %w", p, err)
				}
			}
			return nil
		}})
	})
}

func dsn(path string, key []byte, create, readOnly bool) string {
	mode := "rw"
	if create {
		mode = "rwc"
	}
	q := url.Values{}
	q.Set("mode", mode)
	q.Set("_pragma_key", "x'"+strings.ToUpper(hex.EncodeToString(key))+"'")
	q.Set("_pragma_cipher_page_size", strconv.Itoa(PageSize))
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "1")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "FULL")
	if readOnly {
		q.Set("_query_only", "1")
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// openDB opens the writer and reader pools, checks that the key decrypts
// the file, and migrates the schema. Only Create may find an empty file.
func openDB(ctx context.Context, dir string, meta Meta, key []byte, create bool) (*Vault, error) {
	register()
	path, err := filepath.Abs(filepath.Join(dir, DBFile))
	if err != nil {
		return nil, fmt.Errorf("open vault: %w", err)
	}
	w, err := sql.Open(driverName, dsn(path, key, create, false))
	if err != nil {
		return nil, fmt.Errorf("open vault: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	var version int
	if err := w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		w.Close()
		return nil, classify(err)
	}
	if err := w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(new(int)); err != nil {
		w.Close()
		return nil, classify(err)
	}
	if version == 0 && !create {
		w.Close()
		return nil, fail(ErrCorrupt, "The vault file is empty: it has been replaced or reset. Restore it from a backup; do not create a new vault.")
	}
	if err := migrateSchema(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open(driverName, dsn(path, key, false, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open vault: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	// The read pool connects on first use: the writer has already proved
	// the key and the schema.
	return &Vault{dir: dir, meta: meta, W: w, R: r}, nil
}

// classify turns a driver error met while opening into a vault error.
func classify(err error) error {
	var se sqlcipher.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlcipher.ErrNotADB, sqlcipher.ErrCorrupt:
			return failWrap(ErrCorrupt, "The vault file is damaged or has been tampered with: its pages do not verify. Restore it from a backup; do not create a new vault.", err)
		case sqlcipher.ErrCantOpen, sqlcipher.ErrPerm, sqlcipher.ErrReadonly:
			return failWrap(ErrUnreadable, "The vault file cannot be opened. Check the data folder's permissions.", err)
		}
	}
	return fmt.Errorf("open vault: %w", err)
}

// IsCorrupt reports whether err came from a page that did not decrypt or
// verify (a damaged or tampered file).
func IsCorrupt(err error) bool {
	var se sqlcipher.Error
	if errors.As(err, &se) {
		return se.Code == sqlcipher.ErrNotADB || se.Code == sqlcipher.ErrCorrupt
	}
	return errors.Is(err, ErrCorrupt)
}

// SchemaVersion is the schema version this program writes.
func SchemaVersion() int {
	ms, err := migrate.Files(schemaFS, "schema")
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrateSchema applies each missing schema file in its own transaction.
func migrateSchema(ctx context.Context, db *sql.DB) error {
	ms, err := migrate.Files(schemaFS, "schema")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return classify(err)
	}
	if current > len(ms) {
		return fail(ErrSchemaNewer, "This vault was written by a newer version of Outpost. Install the latest update before opening it.")
	}
	if err := migrate.Apply(ctx, db, ms, current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
