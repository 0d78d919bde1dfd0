package records

import (
	"context"
	"database/sql"
	"fmt"

	"outpost/backend/ehr"
)

// Batch writes many records in few transactions, for imports: each record
// in a savepoint of its own, so a record that is refused leaves the others
// standing, and a commit every BatchSize records, so the writer is not
// held for long. Reads through the store's writer must not be made while
// a batch is open: use the batch's own methods.
type Batch struct {
	s       *Store
	ctx     context.Context
	tx      *sql.Tx
	pending int
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

// Commit commits what the batch holds and ends it.
func (b *Batch) Commit() error {
	if b.tx == nil {
		return nil
	}
	err := b.tx.Commit()
	b.tx = nil
	if err != nil {
		return fmt.Errorf("commit batch: %w", err)
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

// step runs fn in a savepoint: on error the record's writes are undone and
// the batch goes on.
func (b *Batch) step(fn func(*sql.Tx) error) error {
	if b.tx == nil {
		return fmt.Errorf("batch: closed")
	}
	if _, err := b.tx.ExecContext(b.ctx, "SAVEPOINT record"); err != nil {
		return fmt.Errorf("batch: %w", err)
	}
	if err := fn(b.tx); err != nil {
		if _, rerr := b.tx.ExecContext(b.ctx, "ROLLBACK TO record"); rerr != nil {
			return fmt.Errorf("batch: %w (rollback: %v)", err, rerr)
		}
		b.tx.ExecContext(b.ctx, "RELEASE record")
		return err
	}
	if _, err := b.tx.ExecContext(b.ctx, "RELEASE record"); err != nil {
		return fmt.Errorf("batch: %w", err)
	}
	b.pending++
	if b.pending >= BatchSize {
		if err := b.tx.Commit(); err != nil {
			b.tx = nil
			return fmt.Errorf("commit batch: %w", err)
		}
		tx, err := b.s.w.BeginTx(b.ctx, nil)
		if err != nil {
			b.tx = nil
			return fmt.Errorf("begin batch: %w", err)
		}
		b.tx, b.pending = tx, 0
	}
	return nil
}

// Exists reports whether a record is stored (or written in this batch).
func (b *Batch) Exists(id string) (bool, error) {
	var n int
	if err := b.tx.QueryRowContext(b.ctx, "SELECT count(*) FROM heads WHERE record_id = ?", id).Scan(&n); err != nil {
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
	var it Item[T]
	err := b.step(func(tx *sql.Tx) error {
		var err error
		it, err = saveIn(b.ctx, b.s, tx, a, k, id, "", v, reason, true)
		return err
	})
	return err == nil, it, err
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
