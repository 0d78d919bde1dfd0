package posture

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/sync"
	"outpost/backend/syncproto"
	"outpost/backend/update"
	"outpost/backend/update/client"
	"outpost/backend/update/trust"
	"outpost/backend/vault"
)

// facts are the live values the rows are computed from, read once.
type facts struct {
	now      time.Time
	in       Inputs
	policy   auth.Policy
	settings auth.Settings
	accounts []auth.Account

	openAlerts map[string]int // unacknowledged alerts by kind
	pending    map[string]int // approvals waiting for a second person, by kind
	maxOpen    int            // the most sessions one account has open now

	shipping   audit.Shipping
	receipt    syncproto.Receipt
	hasReceipt bool
	enrollment sync.Settings

	chain    audit.Report
	chainErr error // a *audit.BreakError when the chain does not verify

	cipher   map[string]string // pragma -> value
	keyStore string
	modes    []string // files of the data folder open to others, "name 0644"

	lastEvent struct{ device, workstation, osUser string }
	versions  int64
	triggers  map[string]bool

	update    update.Status
	updateErr error
	hasRoot   bool
	build     *debug.BuildInfo
}

// The pragmas read from the vault (constant statements).
var pragmas = []struct{ name, query string }{
	{"cipher_version", "PRAGMA cipher_version"},
	{"sqlite_version", "SELECT sqlite_version()"},
	{"cipher_page_size", "PRAGMA cipher_page_size"},
	{"cipher_hmac_algorithm", "PRAGMA cipher_hmac_algorithm"},
	{"cipher_kdf_algorithm", "PRAGMA cipher_kdf_algorithm"},
	{"kdf_iter", "PRAGMA kdf_iter"},
	{"cipher_memory_security", "PRAGMA cipher_memory_security"},
	{"secure_delete", "PRAGMA secure_delete"},
}

func gather(ctx context.Context, in Inputs) (*facts, error) {
	s := in.Services
	db := s.Vault.R
	f := &facts{now: in.Now(), in: in, keyStore: s.Vault.Meta().KeyStore}
	var err error
	if f.policy, err = s.Users.Policy(ctx); err != nil {
		return nil, err
	}
	if f.settings, err = s.Users.Settings(ctx); err != nil {
		return nil, err
	}
	if f.accounts, err = s.Users.ListUsers(ctx); err != nil {
		return nil, err
	}
	if f.openAlerts, err = countBy(ctx, db, "SELECT kind, count(*) FROM alerts WHERE acknowledged_by = '' GROUP BY kind"); err != nil {
		return nil, err
	}
	if f.pending, err = countBy(ctx, db, "SELECT kind, count(*) FROM approvals WHERE approved_by = '' GROUP BY kind"); err != nil {
		return nil, err
	}
	since := f.now.Add(-f.policy.Absolute).UTC().Format(time.RFC3339Nano)
	err = db.QueryRowContext(ctx, "SELECT count(*) AS n FROM sessions WHERE ended = '' AND started > ? GROUP BY user_id ORDER BY n DESC LIMIT 1", since).Scan(&f.maxOpen)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("open sessions: %w", err)
	}
	if f.shipping, err = audit.ShippingState(ctx, db, f.now); err != nil {
		return nil, err
	}
	if f.receipt, f.hasReceipt, err = sync.LastReceipt(ctx, db); err != nil {
		return nil, err
	}
	if f.enrollment, err = sync.LoadSettings(ctx, db); err != nil {
		return nil, err
	}
	f.chain, err = audit.VerifyVault(ctx, db)
	var be *audit.BreakError
	if errors.As(err, &be) {
		f.chainErr = err
	} else if err != nil {
		return nil, err
	}
	f.cipher = map[string]string{}
	for _, p := range pragmas {
		var v sql.NullString
		if err := db.QueryRowContext(ctx, p.query).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) { // sqlcheck: p.query is one of the constant pragmas
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
		f.cipher[p.name] = v.String
	}
	f.modes = looseModes(s.Vault.Dir())
	var device, ws, osUser sql.NullString
	err = db.QueryRowContext(ctx, "SELECT device, workstation, os_user FROM audit ORDER BY seq DESC LIMIT 1").Scan(&device, &ws, &osUser)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("newest audit event: %w", err)
	}
	f.lastEvent.device, f.lastEvent.workstation, f.lastEvent.osUser = device.String, ws.String, osUser.String
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM versions").Scan(&f.versions); err != nil {
		return nil, fmt.Errorf("count versions: %w", err)
	}
	f.triggers = map[string]bool{}
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'trigger'")
	if err != nil {
		return nil, fmt.Errorf("triggers: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("triggers: %w", err)
		}
		f.triggers[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("triggers: %w", err)
	}

	dir := in.UpdateStateDir
	if dir == "" {
		dir = filepath.Join(s.Vault.Dir(), "update")
	}
	f.update, f.updateErr = client.ReadStatus(dir, in.Version, f.now)
	_, f.hasRoot = trust.Root()
	f.build = in.Build
	if f.build == nil {
		if bi, ok := debug.ReadBuildInfo(); ok {
			f.build = bi
		}
	}
	return f, nil
}

func countBy(ctx context.Context, db *sql.DB, query string) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, query) // sqlcheck: callers pass constant statements
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("count: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}

// looseModes lists the data folder and vault files that others than
// their owner may read.
func looseModes(dir string) []string {
	var out []string
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o077 != 0 {
		out = append(out, fmt.Sprintf("data folder %04o", st.Mode().Perm()))
	}
	for _, name := range []string{vault.DBFile, vault.DBFile + "-wal", vault.MetaFile, vault.RecoveryFile, vault.KeyFile} {
		st, err := os.Stat(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) || err != nil {
			continue
		}
		if st.Mode().Perm()&0o077 != 0 {
			out = append(out, fmt.Sprintf("%s %04o", name, st.Mode().Perm()))
		}
	}
	return out
}
