// Package migrate brings an SQLite database's schema up to date from
// numbered schema files (0001_name.sql, 0002_…) embedded in the program,
// each applied in its own transaction with its number recorded in PRAGMA
// user_version. The vault and the sync server's store both use it; it
// needs only the standard library, so the server binary may link it.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// File is one schema file.
type File struct {
	Version int
	Name    string
	SQL     string
}

// Files reads the schema files in dir of fsys, in order; their numbers
// must run 1, 2, 3 … without a gap.
func Files(fsys fs.FS, dir string) ([]File, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var files []File
	for _, e := range entries {
		n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("schema file %s: no number", e.Name())
		}
		raw, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		files = append(files, File{Version: n, Name: e.Name(), SQL: string(raw)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Version < files[j].Version })
	for i, f := range files {
		if f.Version != i+1 {
			return nil, fmt.Errorf("schema files: expected version %d, found %s", i+1, f.Name)
		}
	}
	return files, nil
}

// Apply applies every file after version have (the database's PRAGMA
// user_version, read by the caller), each in its own transaction that
// also records its number.
func Apply(ctx context.Context, db *sql.DB, files []File, have int) error {
	if have < 0 || have > len(files) {
		return fmt.Errorf("schema version %d: this program knows %d", have, len(files))
	}
	for _, f := range files[have:] {
		if err := apply(ctx, db, f); err != nil {
			return fmt.Errorf("apply %s: %w", f.Name, err)
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, f File) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, f.SQL); err != nil { // sqlcheck: a schema file embedded at build time
		return err
	}
	// sqlcheck: PRAGMA takes no parameters; the version is an integer from the file name.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(f.Version)); err != nil {
		return err
	}
	return tx.Commit()
}
