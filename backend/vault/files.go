package vault

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PageSize is the SQLCipher page size; a whole vault file is a multiple.
const PageSize = 4096

// writeJSON writes v to path atomically: a temporary file in the same
// directory, fsync, rename, fsync of the directory. Mode 0600.
func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return writeFileAtomic(path, append(raw, '\n'))
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	return nil
}

var plainHeader = []byte("SQLite format 3\x00")

// checkFile looks at the database file before any key is used: it must
// exist, be a whole number of pages, and not be plain SQLite.
func checkFile(dir string) error {
	path := filepath.Join(dir, DBFile)
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(ErrCorrupt, "The vault file is missing from the data folder. Restore it from a backup; do not create a new vault.")
	}
	if err != nil {
		return failWrap(ErrUnreadable, "The vault file cannot be read. Check the data folder's permissions.", err)
	}
	if st.Size() < PageSize || st.Size()%PageSize != 0 {
		return fail(ErrTruncated, "The vault file is truncated: it is shorter than a whole number of pages. Restore it from a backup; do not create a new vault.")
	}
	f, err := os.Open(path)
	if err != nil {
		return failWrap(ErrUnreadable, "The vault file cannot be read. Check the data folder's permissions.", err)
	}
	defer f.Close()
	head := make([]byte, len(plainHeader))
	if _, err := f.ReadAt(head, 0); err != nil {
		return failWrap(ErrUnreadable, "The vault file cannot be read.", err)
	}
	if bytes.Equal(head, plainHeader) {
		return fail(ErrCorrupt, "The vault file is not encrypted: it has been replaced. Restore it from a backup.")
	}
	return nil
}

func hmacEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
