package records

import (
	"context"
	"database/sql"
	"fmt"

	"outpost/backend/ehr"
)

// Batch writes many records in few transactions, for imports, with a
// commit every BatchSize records, so the writer is not held for long.
//
// A record is checked before anything of it is written: one that is
// refused (it does not validate, its patient is missing, its chart is
// restricted) writes nothing and leaves the others standing. Its writes
// (version, heads, outbox, audit event, projection) then follow without a
// savepoint of their own: SQLCipher copies every page a savepoint touches
// into its statement journal, in locked and wiped memory, which made a
// savepoint cost more than the writes it guards. So when one of those
// writes fails, the batch rolls back everything since its last commit
// (never half a record) and ends: every later call, Commit included,
// returns that failure. (A patient, whose clinic number is taken before
// its version is written, and a restriction, a few per import, keep a
// savepoint each: see step.)
//
// Reads through the store's writer must not be made while a batch is
// open: use the batch's own methods.
type Batch struct {
	s       *Store
	ctx     context.Context
	tx      *sql.Tx
	pending int
	err     error // the failure that ended the batch
}

// BatchSize is how many records a batch commits at a time.
const BatchSize = 500

// BeginBatch opens a batch.
func (s *Store) BeginBatch(ctx context.Context) (*Batch, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin batch: %w", err)
	}
	return &Batch{s: s, ctx: ctx, tx: tx}, nil
}

// Commit commits what the batch holds and ends it. After a failed write
// it returns that failure: nothing since the last commit was kept.
func (b *Batch) Commit() error {
	if b.tx == nil {
		return b.err
	}
	err := b.tx.Commit()
	b.tx = nil
	if err != nil {
		b.err = fmt.Errorf("commit batch: %w", err)
		return b.err
	}
	return nil
}

// Rollback drops what the batch holds since its last commit.
func (b *Batch) Rollback() {
	if b.tx != nil {
		b.tx.Rollback()
		b.tx = nil
	}
}

// open returns the batch's transaction, or why there is none.
func (b *Batch) open() (*sql.Tx, error) {
	if b.tx != nil {
		return b.tx, nil
	}
	if b.err != nil {
		return nil, b.err
	}
	return nil, fmt.Errorf("batch: closed")
}

// fail ends the batch after a failed write: what it held since its last
// commit is rolled back, so no record is left half written.
func (b *Batch) fail(err error) error {
	b.Rollback()
	b.err = fmt.Errorf("batch: a write failed, so the records since the last commit were rolled back: %w", err)
	return b.err
}

// write runs the writes of one checked record.
func (b *Batch) write(fn func(*sql.Tx) error) error {
	tx, err := b.open()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return b.fail(err)
	}
	return b.wrote()
}

// step runs fn, which may refuse a record after writing part of it, in a
// savepoint: on error the record's writes are undone and the batch goes
// on. It serves the rare writes whose checks and writes are interleaved
// (a patient's clinic number, a restriction).
func (b *Batch) step(fn func(*sql.Tx) error) error {
	tx, err := b.open()
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(b.ctx, "SAVEPOINT record"); err != nil {
		return b.fail(err)
	}
	if err := fn(tx); err != nil {
		if _, rerr := tx.ExecContext(b.ctx, "ROLLBACK TO record"); rerr != nil {
			return b.fail(fmt.Errorf("%w (rollback: %v)", err, rerr))
		}
		if _, rerr := tx.ExecContext(b.ctx, "RELEASE record"); rerr != nil {
			return b.fail(fmt.Errorf("%w (release: %v)", err, rerr))
		}
		return err
	}
	if _, err := tx.ExecContext(b.ctx, "RELEASE record"); err != nil {
		return b.fail(err)
	}
	return b.wrote()
}

// wrote counts a record written and commits every BatchSize records.
func (b *Batch) wrote() error {
	b.pending++
	if b.pending < BatchSize {
		return nil
	}
	err := b.tx.Commit()
	b.tx = nil
	if err != nil {
		b.err = fmt.Errorf("commit batch: %w", err)
		return b.err
	}
	tx, err := b.s.w.BeginTx(b.ctx, nil)
	if err != nil {
		b.err = fmt.Errorf("begin batch: %w", err)
		return b.err
	}
	b.tx, b.pending = tx, 0
	return nil
}

// Exists reports whether a record is stored (or written in this batch).
func (b *Batch) Exists(id string) (bool, error) {
	tx, err := b.open()
	if err != nil {
		return false, err
	}
	var n int
	if err := tx.QueryRowContext(b.ctx, "SELECT count(*) FROM heads WHERE record_id = ?", id).Scan(&n); err != nil {
		return false, fmt.Errorf("record exists: %w", err)
	}
	return n > 0, nil
}

// BatchCreateAs is CreateAs inside a batch.
func BatchCreateAs[T any](b *Batch, a Actor, k Kind[T], id string, v T, reason string) (bool, Item[T], error) {
	if !ehr.ValidID(id) {
		return false, Item[T]{}, fmt.Errorf("create %s: bad id", k.Name)
	}
	if ok, err := b.Exists(id); err != nil || ok {
		return false, Item[T]{}, err
	}
	tx, err := b.open()
	if err != nil {
		return false, Item[T]{}, err
	}
	w, it, err := checkSave(b.ctx, b.s, tx, a, k, id, "", v, reason, true)
	if err != nil {
		return false, Item[T]{}, err // refused: nothing written
	}
	if err := b.write(func(tx *sql.Tx) error { return w.write(b.ctx, b.s, tx, a) }); err != nil {
		return false, Item[T]{}, err
	}
	return true, it, nil
}

// ImportPatientAs is Store.ImportPatientAs inside a batch.
func (b *Batch) ImportPatientAs(a Actor, id string, p ehr.Patient) (bool, PatientRecord, error) {
	if !ehr.ValidID(id) {
		return false, PatientRecord{}, fmt.Errorf("import patient: bad id")
	}
	if ok, err := b.Exists(id); err != nil || ok {
		return false, PatientRecord{}, err
	}
	var rec PatientRecord
	err := b.step(func(tx *sql.Tx) error {
		var err error
		rec, err = b.s.importOneAs(b.ctx, tx, a, id, p)
		return err
	})
	return err == nil, rec, err
}

// SetRestricted is Store.SetRestricted inside a batch.
func (b *Batch) SetRestricted(a Actor, id string, restricted bool, reason string) error {
	return b.step(func(tx *sql.Tx) error {
		_, err := b.s.setRestrictedIn(b.ctx, tx, a, id, restricted, reason)
		return err
	})
}
