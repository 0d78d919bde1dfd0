// Package audit keeps the append-only, hash-chained audit log of one
// device. Each event carries SHA-256(previous hash ‖ canonical event), so
// a changed, removed or reordered event breaks the chain; the device signs
// checkpoints of the chain (Ed25519, its key kept inside the vault) at
// least daily and at each sync, so a chain cut short is noticed against
// the latest checkpoint; triggers in the schema refuse UPDATE and DELETE
// of events, the key and checkpoints. The format of an exported chain,
// and how to verify one without Outpost, is in docs/audit-format.md.
//
// An event is written in the same transaction as the action it records:
// if it cannot be written, the action fails. Events of actions that write
// nothing else (reads, searches, sign-in failures) commit on their own
// without waiting for the disk (synchronous = NORMAL for that one
// commit): the event is in the vault's write-ahead log before the read
// returns, and on the disk at the next write or within FlushWithin, so
// only a power cut in that window can lose it. That keeps auditing a read
// under 0.2 ms.
package audit

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"outpost/backend/auditchain"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
	Denied  = "denied"
)

// Genesis is the previous hash of the first event.
const Genesis = auditchain.Genesis

// timeFormat is how event and checkpoint times are written (always UTC).
const timeFormat = time.RFC3339Nano

// Intervals.
const (
	// CheckpointEvery: an event appended this long after the latest
	// checkpoint is checkpointed at once.
	CheckpointEvery = 24 * time.Hour
	// AddressesEvery: the network addresses are read at most this often.
	AddressesEvery = time.Minute
	// FlushWithin: an event committed without waiting for the disk is
	// made durable within this time.
	FlushWithin = time.Second
)

// Event is one audited action. It names patients and records by id only:
// no patient data is ever in the audit log. The members marked omitempty
// came with schema 6; left out when empty, they keep the hash of an
// older event what it was.
type Event struct {
	Seq         int64     `json:"seq"`
	At          time.Time `json:"at"`
	Username    string    `json:"username"`
	Roles       []string  `json:"roles"`
	Action      string    `json:"action"` // e.g. "patient.register", "user.login"
	Outcome     string    `json:"outcome"`
	PatientID   string    `json:"patientId"`
	RecordID    string    `json:"recordId"`
	Device      string    `json:"device"`
	Workstation string    `json:"workstation"`
	Session     string    `json:"session"`
	Detail      string    `json:"detail"` // free text without patient data
	// OSUser is the operating-system account Outpost runs under, set by
	// the Log (never from the caller or the user's input).
	OSUser string `json:"osUser,omitempty"`
	// Addresses are the device's network addresses when it was online,
	// set by the Log.
	Addresses []string `json:"addresses,omitempty"`
	// Reason is the justification typed for an emergency (break-glass)
	// access.
	Reason string `json:"reason,omitempty"`
	// OnBehalfOf names a substitute decision-maker acting for the
	// patient, e.g. "guardian: NAME".
	OnBehalfOf string `json:"onBehalfOf,omitempty"`
	PrevHash   string `json:"prevHash"`
	Hash       string `json:"hash"`
}

// Log appends events for one device. Device, Workstation and Now are
// required; OSUser and Addresses describe the computer and may be empty
// (see clinic.Deps, which fills them). A Log is shared, never copied.
type Log struct {
	Device      string
	Workstation string
	Now         func() time.Time
	// OSUser is the operating-system user, read once at start.
	OSUser string
	// Addresses returns the device's non-loopback addresses, none when
	// offline (InterfaceAddresses); nil records none. It is called at
	// most once every AddressesEvery.
	Addresses func() []string
	// OnFailure, when set, is told of every event that could not be
	// written (the action it records then fails). It runs on a goroutine
	// of its own: the failed transaction still holds the vault's writer.
	// See FailureAlarm.
	OnFailure func(error)

	mu        sync.Mutex
	addrs     []string
	addrsAt   time.Time
	addrsSet  bool
	db        *sql.DB // the vault's writer, once Open
	tail      *sql.Stmt
	insert    *sql.Stmt
	keyless   bool // not open, and the vault has no key: no checkpoints
	flushing  bool
	unflushed int  // events committed without waiting for the disk, not yet flushed
	skip      bool // tests only (export_test.go): record nothing, to measure what auditing costs
}

// Append writes e in tx, after the last event, and returns it as stored.
// When the latest checkpoint is older than CheckpointEvery, the event is
// checkpointed in the same transaction.
func (l *Log) Append(ctx context.Context, tx *sql.Tx, e Event) (Event, error) {
	if l.skip {
		return e, nil
	}
	now := l.Now().UTC()
	e.At = now.Truncate(time.Microsecond)
	e.Device = l.Device
	e.Workstation = l.Workstation
	e.OSUser = l.OSUser
	e.Addresses = l.addresses(now)
	if e.Roles == nil {
		e.Roles = []string{}
	}
	tail, insert := l.statements()
	var last sql.NullInt64
	var prev, checkpointAt sql.NullString
	var row *sql.Row
	if tail != nil {
		row = tx.StmtContext(ctx, tail).QueryRowContext(ctx)
	} else {
		row = tx.QueryRowContext(ctx, qTail)
	}
	err := row.Scan(&last, &prev, &checkpointAt)
	if err != nil {
		return Event{}, l.failed(fmt.Errorf("audit append: %w", err))
	}
	e.Seq = last.Int64 + 1
	e.PrevHash = Genesis
	if prev.Valid {
		e.PrevHash = prev.String
	}
	r := toRecord(&e)
	e.Hash = r.ComputeHash()
	roles, _ := json.Marshal(e.Roles)
	args := []any{e.Seq, r.At, e.Username, string(roles), e.Action, e.Outcome, e.PatientID, e.RecordID,
		e.Device, e.Workstation, e.Session, e.Detail, e.OSUser, strings.Join(e.Addresses, " "), e.Reason, e.OnBehalfOf,
		e.PrevHash, e.Hash}
	if insert != nil {
		// sqlcheck: the statement is qInsert, prepared; these are its values.
		_, err = tx.StmtContext(ctx, insert).ExecContext(ctx, args...)
	} else {
		_, err = tx.ExecContext(ctx, qInsert, args...)
	}
	if err != nil {
		return Event{}, l.failed(fmt.Errorf("audit append: %w", err))
	}
	if checkpointDue(checkpointAt, now) {
		if _, err := l.sign(ctx, tx, e.Seq, e.Hash, now); err != nil {
			return Event{}, l.failed(err)
		}
	}
	return e, nil
}

// The two statements of every append: prepared once on the vault's
// writer by Open (preparing them each time took three times as long as
// running them).
const (
	qTail = `SELECT (SELECT seq FROM audit ORDER BY seq DESC LIMIT 1),
		(SELECT hash FROM audit ORDER BY seq DESC LIMIT 1),
		(SELECT at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1)`
	qInsert = `INSERT INTO audit (seq, at, username, roles, action, outcome, patient_id, record_id,
		device, workstation, session, detail, os_user, addresses, reason, on_behalf_of, prev_hash, hash)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
)

// statements returns the prepared statements, nil before Open.
func (l *Log) statements() (tail, insert *sql.Stmt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tail, l.insert
}

// checkpointDue reports whether the latest checkpoint, signed at last, is
// CheckpointEvery old (or that far in the future: the clock was set back).
func checkpointDue(last sql.NullString, now time.Time) bool {
	if !last.Valid {
		return true
	}
	t, err := time.Parse(timeFormat, last.String)
	if err != nil {
		return true
	}
	d := now.Sub(t)
	return d >= CheckpointEvery || d <= -CheckpointEvery
}

// Record appends e in a transaction of its own, for actions that write
// nothing else (a failed login, a read). The commit does not wait for
// the disk; the log flushes it within FlushWithin (see the package
// comment). If the event cannot be written, Record fails.
func (l *Log) Record(ctx context.Context, db *sql.DB, e Event) error {
	if l.skip {
		return nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	defer conn.Close()
	var level int
	if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&level); err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	// 2 is FULL, 3 EXTRA: lower to NORMAL (1) for this commit only, and
	// put the level back on the connection whatever happens; a
	// connection that cannot be put back is closed, never reused.
	if level >= 2 {
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
			return fmt.Errorf("audit record: %w", err)
		}
		defer func() {
			var err error
			if level > 2 {
				_, err = conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = EXTRA")
			} else {
				_, err = conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL")
			}
			if err != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	if _, err := l.Append(ctx, tx, e); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	if level >= 2 {
		l.flushSoon(db)
	}
	return nil
}

// flushSoon makes the write-ahead log durable within FlushWithin: a
// passive checkpoint syncs it to disk (and never waits for readers).
func (l *Log) flushSoon(db *sql.DB) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unflushed++
	if !l.flushing {
		l.flushing = true
		time.AfterFunc(FlushWithin, func() { l.flush(db) })
	}
}

// flush syncs what was committed before it started, and comes back for
// what was committed meanwhile. It is best effort: once the vault is
// closed there is nothing to do (closing checkpoints the log itself).
func (l *Log) flush(db *sql.DB) {
	l.mu.Lock()
	n := l.unflushed
	l.mu.Unlock()
	_, _ = db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unflushed -= n
	if l.unflushed > 0 {
		time.AfterFunc(FlushWithin, func() { l.flush(db) })
		return
	}
	l.flushing = false
}

// addresses returns the network addresses, read again when the last
// reading is AddressesEvery old.
func (l *Log) addresses(now time.Time) []string {
	if l.Addresses == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.addrsSet || now.Sub(l.addrsAt) >= AddressesEvery || now.Before(l.addrsAt) {
		l.addrs = cleanAddresses(l.Addresses())
		l.addrsAt, l.addrsSet = now, true
	}
	return slices.Clone(l.addrs)
}

// cleanAddresses keeps the addresses a device is reached at: valid IP
// addresses, not loopback, link-local or unspecified (a link-local
// address exists without any network), in their standard spelling,
// sorted, once each.
func cleanAddresses(in []string) []string {
	var out []string
	for _, s := range in {
		a, err := netip.ParseAddr(s)
		if err != nil || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified() {
			continue
		}
		out = append(out, a.WithZone("").String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// InterfaceAddresses returns the IP addresses of the network interfaces
// that are up and running, other than loopback: none when offline.
func InterfaceAddresses() []string {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []string
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagRunning == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				out = append(out, n.IP.String())
			}
		}
	}
	return cleanAddresses(out)
}

// Hash returns SHA-256 over the previous hash and the canonical JSON of
// the event without its own hash (its "hash" member empty), as
// lower-case hex.
func Hash(e Event) string {
	r := toRecord(&e)
	return r.ComputeHash()
}

// CanonicalJSON returns the event as one line of an export: its
// canonical JSON, hash included.
func CanonicalJSON(e Event) []byte {
	r := toRecord(&e)
	return r.AppendJSON(nil, r.Hash)
}

// errNotOpen is returned by what needs Open first.
var errNotOpen = errors.New("audit: the log is not open on a vault")
