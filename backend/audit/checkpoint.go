package audit

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"outpost/backend/auditchain"
)

// The device key is an Ed25519 key pair made with the vault (or on the
// first open of a vault older than the audit trail). Its private half is
// read from the vault only to sign a checkpoint, and wiped from memory
// straight after; nothing returns or logs it.

// ErrNoKey: the vault has no device key yet.
var ErrNoKey = errors.New("audit: the vault has no device key")

// CheckpointDomain starts every signed checkpoint message.
const CheckpointDomain = auditchain.CheckpointDomain

// Checkpoint is the device's signed statement that event Seq of its
// chain had Hash, at time At.
type Checkpoint struct {
	Device    string
	Seq       int64
	Hash      string
	At        time.Time
	Signature []byte
	// AcknowledgedAt is when a copy was confirmed off this device; zero
	// until then.
	AcknowledgedAt time.Time
}

// Message returns the exact bytes the signature covers: the lines
// CheckpointDomain, device, seq (decimal), hash (lower-case hex) and at
// (RFC 3339, UTC, as exported), joined by "\n", with no final newline.
func (c Checkpoint) Message() []byte {
	return auditchain.CheckpointMessage(c.Device, c.Seq, c.Hash, c.At.UTC().Format(timeFormat))
}

// Verify reports whether the signature is the device key's.
func (c Checkpoint) Verify(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, c.Message(), c.Signature)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// EnsureKey makes the device's key inside tx unless the vault has one,
// and returns its public half. device names the device in every
// checkpoint.
func EnsureKey(ctx context.Context, tx *sql.Tx, device string, now time.Time) (ed25519.PublicKey, error) {
	if device == "" || strings.ContainsAny(device, "\n\r") {
		return nil, errors.New("audit key: bad device id")
	}
	_, pub, err := PublicKey(ctx, tx)
	if err == nil {
		return pub, nil
	}
	if !errors.Is(err, ErrNoKey) {
		return nil, err
	}
	pub, priv, err := ed25519.GenerateKey(nil) // crypto/rand
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	seed := priv.Seed()
	defer clear(seed)
	defer clear(priv)
	if _, err := tx.ExecContext(ctx, "INSERT INTO audit_key (id, device, public_key, private_key, created_at) VALUES (1, ?, ?, ?, ?)",
		device, []byte(pub), seed, now.UTC().Format(timeFormat)); err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return pub, nil
}

// PublicKey returns the device id and public key of the vault's key, or
// ErrNoKey.
func PublicKey(ctx context.Context, q querier) (string, ed25519.PublicKey, error) {
	var device string
	var pub []byte
	err := q.QueryRowContext(ctx, "SELECT device, public_key FROM audit_key WHERE id = 1").Scan(&device, &pub)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, ErrNoKey
	}
	if err != nil {
		return "", nil, fmt.Errorf("audit key: %w", err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return "", nil, errors.New("audit key: damaged")
	}
	return device, ed25519.PublicKey(pub), nil
}

// sign signs and stores a checkpoint of event seq inside tx. Without a
// key it does nothing for a log that was never opened (a test's bare
// log), and fails for one that was: Open made the key.
func (l *Log) sign(ctx context.Context, tx *sql.Tx, seq int64, hash string, now time.Time) (Checkpoint, error) {
	l.mu.Lock()
	open, keyless := l.db != nil, l.keyless
	l.mu.Unlock()
	if keyless {
		return Checkpoint{}, nil
	}
	var device string
	var seed []byte
	err := tx.QueryRowContext(ctx, "SELECT device, private_key FROM audit_key WHERE id = 1").Scan(&device, &seed)
	if errors.Is(err, sql.ErrNoRows) && !open {
		l.mu.Lock()
		l.keyless = true
		l.mu.Unlock()
		return Checkpoint{}, nil
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	defer clear(seed)
	if len(seed) != ed25519.SeedSize {
		return Checkpoint{}, errors.New("audit checkpoint: the device key is damaged")
	}
	priv := ed25519.NewKeyFromSeed(seed)
	defer clear(priv)
	c := Checkpoint{Device: device, Seq: seq, Hash: hash, At: now.UTC().Truncate(time.Microsecond)}
	c.Signature = ed25519.Sign(priv, c.Message())
	if _, err := tx.ExecContext(ctx, "INSERT INTO audit_checkpoints (seq, hash, at, signature) VALUES (?, ?, ?, ?)",
		c.Seq, c.Hash, c.At.Format(timeFormat), c.Signature); err != nil {
		return Checkpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	return c, nil
}

// Open binds the log to the vault's writer db: it makes the device key
// if the vault has none yet (a vault from before the audit trail) and
// checkpoints the events that no checkpoint covers. clinic.Attach calls
// it whenever a vault is opened.
func (l *Log) Open(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("audit open: %w", err)
	}
	defer tx.Rollback()
	now := l.Now().UTC()
	if _, err := EnsureKey(ctx, tx, l.Device, now); err != nil {
		return err
	}
	l.mu.Lock()
	l.keyless = false
	l.mu.Unlock()
	if _, err := l.checkpointHead(ctx, tx, now); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit open: %w", err)
	}
	tail, err := db.PrepareContext(ctx, qTail)
	if err != nil {
		return fmt.Errorf("audit open: %w", err)
	}
	insert, err := db.PrepareContext(ctx, qInsert)
	if err != nil {
		tail.Close()
		return fmt.Errorf("audit open: %w", err)
	}
	l.mu.Lock()
	for _, st := range []*sql.Stmt{l.tail, l.insert} {
		if st != nil {
			st.Close()
		}
	}
	l.db, l.tail, l.insert = db, tail, insert
	l.mu.Unlock()
	return nil
}

// Checkpoint signs a checkpoint of the newest event, unless the latest
// checkpoint already covers it, and returns it; the sync calls it at
// each sync. On an empty chain it returns a zero Checkpoint.
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, error) {
	l.mu.Lock()
	db := l.db
	l.mu.Unlock()
	if db == nil {
		return Checkpoint{}, errNotOpen
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	defer tx.Rollback()
	c, err := l.checkpointHead(ctx, tx, l.Now().UTC())
	if err != nil {
		return Checkpoint{}, err
	}
	if err := tx.Commit(); err != nil {
		return Checkpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	return c, nil
}

// checkpointHead returns the checkpoint of the newest event, signing one
// when the latest checkpoint is of an older event.
func (l *Log) checkpointHead(ctx context.Context, tx *sql.Tx, now time.Time) (Checkpoint, error) {
	var seq int64
	var hash string
	err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, nil
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit checkpoint: %w", err)
	}
	latest, err := latestCheckpoint(ctx, tx)
	if err != nil {
		return Checkpoint{}, err
	}
	if latest.Seq == seq {
		return latest, nil
	}
	return l.sign(ctx, tx, seq, hash, now)
}

func latestCheckpoint(ctx context.Context, q querier) (Checkpoint, error) {
	cps, err := checkpoints(ctx, q, true)
	if err != nil || len(cps) == 0 {
		return Checkpoint{}, err
	}
	return cps[0], nil
}

// Checkpoints returns every checkpoint, oldest first.
func Checkpoints(ctx context.Context, q querier) ([]Checkpoint, error) {
	return checkpoints(ctx, q, false)
}

// checkpoints returns every checkpoint, or only the latest.
func checkpoints(ctx context.Context, q querier, latest bool) ([]Checkpoint, error) {
	device, _, err := PublicKey(ctx, q)
	if err != nil && !errors.Is(err, ErrNoKey) {
		return nil, err
	}
	var rows *sql.Rows
	if latest {
		rows, err = q.QueryContext(ctx, "SELECT seq, hash, at, signature, acknowledged_at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
	} else {
		rows, err = q.QueryContext(ctx, "SELECT seq, hash, at, signature, acknowledged_at FROM audit_checkpoints ORDER BY seq")
	}
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		c := Checkpoint{Device: device}
		var at, ack string
		if err := rows.Scan(&c.Seq, &c.Hash, &at, &c.Signature, &ack); err != nil {
			return nil, fmt.Errorf("audit checkpoints: %w", err)
		}
		// A time that does not parse stays zero: its signature then fails.
		c.At, _ = time.Parse(timeFormat, at)
		if ack != "" {
			c.AcknowledgedAt, _ = time.Parse(timeFormat, ack)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Acknowledge records, inside tx, that checkpoint seq was confirmed off
// this device at at. It is the only change a checkpoint accepts, once.
func Acknowledge(ctx context.Context, tx *sql.Tx, seq int64, at time.Time) error {
	res, err := tx.ExecContext(ctx, "UPDATE audit_checkpoints SET acknowledged_at = ? WHERE seq = ? AND acknowledged_at = ''",
		at.UTC().Format(timeFormat), seq)
	if err != nil {
		return fmt.Errorf("acknowledge checkpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("acknowledge checkpoint: no unacknowledged checkpoint %d", seq)
	}
	return nil
}
