package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Finding is one line of a vault check.
type Finding struct {
	Name   string
	OK     bool
	Detail string
}

// Report is the result of Check.
type Report struct {
	Findings []Finding
}

// OK reports whether every finding passed.
func (r Report) OK() bool {
	for _, f := range r.Findings {
		if !f.OK {
			return false
		}
	}
	return len(r.Findings) > 0
}

func (r *Report) add(name string, ok bool, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// Check verifies an open vault: every page's HMAC (cipher_integrity_check),
// SQLite's own integrity check, the schema version, the cipher settings in
// force, and the file modes of the data directory.
func (v *Vault) Check(ctx context.Context) Report {
	var r Report
	r.add("schema", true, "vault %s", v.meta.VaultID)

	var version int
	if err := v.W.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		r.add("schema version", false, "cannot read: %v", errCode(err))
	} else {
		r.add("schema version", version == SchemaVersion(), "%d (this program: %d)", version, SchemaVersion())
	}

	bad, err := pragmaRows(ctx, v, "PRAGMA cipher_integrity_check")
	switch {
	case err != nil:
		r.add("page authentication", false, "check failed: %v", errCode(err))
	case len(bad) > 0:
		r.add("page authentication", false, "%d page(s) fail HMAC verification: damaged or tampered (%s)", len(bad), firstLines(bad, 3))
	default:
		r.add("page authentication", true, "every page verifies (cipher_integrity_check)")
	}

	res, err := pragmaRows(ctx, v, "PRAGMA integrity_check")
	switch {
	case err != nil:
		r.add("database integrity", false, "check failed: %v", errCode(err))
	case len(res) != 1 || res[0] != "ok":
		r.add("database integrity", false, "%s", firstLines(res, 3))
	default:
		r.add("database integrity", true, "ok")
	}

	settings := []struct {
		pragma, want, name string
	}{
		{"PRAGMA journal_mode", "wal", "journal mode"},
		{"PRAGMA foreign_keys", "1", "foreign keys"},
		{"PRAGMA cipher_memory_security", "1", "cipher memory security"},
		{"PRAGMA cipher_page_size", fmt.Sprint(PageSize), "cipher page size"},
		{"PRAGMA cipher_hmac_algorithm", "HMAC_SHA512", "cipher HMAC"},
	}
	for _, s := range settings {
		got, err := pragmaRows(ctx, v, s.pragma)
		if err != nil || len(got) == 0 {
			r.add(s.name, false, "cannot read")
			continue
		}
		r.add(s.name, strings.EqualFold(got[0], s.want), "%s (want %s)", got[0], s.want)
	}
	if cv, err := pragmaRows(ctx, v, "PRAGMA cipher_version"); err == nil && len(cv) > 0 {
		r.add("cipher version", true, "SQLCipher %s", cv[0])
	}
	if cs, err := pragmaRows(ctx, v, "PRAGMA cache_size"); err == nil && len(cs) > 0 {
		r.add("page cache", cs[0] == fmt.Sprint(-CacheKiB), "%s KiB per connection", strings.TrimPrefix(cs[0], "-"))
	}
	checkModes(&r, v.dir)
	return r
}

func checkModes(r *Report, dir string) {
	if st, err := os.Stat(dir); err != nil {
		r.add("folder mode", false, "cannot stat")
	} else {
		r.add("folder mode", st.Mode().Perm()&0o077 == 0, "%04o (want 0700)", st.Mode().Perm())
	}
	for _, f := range []string{DBFile, DBFile + "-wal", DBFile + "-shm", MetaFile, RecoveryFile, KeyFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			r.add(f+" mode", false, "cannot stat")
			continue
		}
		r.add(f+" mode", st.Mode().Perm()&0o077 == 0, "%04o (want 0600)", st.Mode().Perm())
	}
}

func pragmaRows(ctx context.Context, v *Vault, pragma string) ([]string, error) {
	rows, err := v.W.QueryContext(ctx, pragma) // sqlcheck: callers pass constant PRAGMA statements
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func firstLines(lines []string, n int) string {
	if len(lines) > n {
		return strings.Join(lines[:n], "; ") + fmt.Sprintf("; and %d more", len(lines)-n)
	}
	return strings.Join(lines, "; ")
}

// errCode keeps a check's output free of paths: it reports only whether
// the failure was corruption.
func errCode(err error) string {
	if IsCorrupt(err) {
		return "pages do not decrypt or verify (damaged or tampered)"
	}
	return "database error"
}
