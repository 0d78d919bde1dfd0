package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

const (
	qBlobDevice = "SELECT status FROM devices WHERE id = ? AND clinic = ?"
	qBlobInsert = "INSERT INTO blobs (clinic, blob_id, size, ciphertext, device, stored_at) VALUES (?, ?, ?, ?, ?, ?) " +
		"ON CONFLICT (clinic, blob_id) DO NOTHING"
	// The comparison runs inside SQLite: a stored blob is not read out
	// to tell a duplicate from a mismatch.
	qBlobSame = "SELECT size = ? AND ciphertext = ? FROM blobs WHERE clinic = ? AND blob_id = ?"
	qBlobGet  = "SELECT device, stored_at, ciphertext FROM blobs WHERE clinic = ? AND blob_id = ?"
	qBlobHave = "SELECT 1 FROM blobs WHERE clinic = ? AND blob_id = ?"
)

func (s *Store) PutBlob(ctx context.Context, b syncserver.Blob) (string, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	defer tx.Rollback()
	var status string
	err = tx.QueryRowContext(ctx, qBlobDevice, b.Device, b.Clinic).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", syncserver.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	if status != syncproto.StatusActive {
		return "", syncserver.ErrRevoked
	}
	res, err := tx.ExecContext(ctx, qBlobInsert, b.Clinic, b.ID, len(b.Sealed), b.Sealed, b.Device, ms(b.Stored))
	if err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	if n == 0 {
		var same bool
		if err := tx.QueryRowContext(ctx, qBlobSame, len(b.Sealed), b.Sealed, b.Clinic, b.ID).Scan(&same); err != nil {
			return "", fmt.Errorf("put blob: %w", err)
		}
		if same {
			return syncproto.BlobDuplicate, nil
		}
		return syncproto.BlobMismatch, nil
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("put blob: %w", err)
	}
	return syncproto.BlobStored, nil
}

func (s *Store) Blob(ctx context.Context, clinic, id string) (syncserver.Blob, error) {
	b := syncserver.Blob{Clinic: clinic, ID: id}
	var at sql.NullInt64
	err := s.r.QueryRowContext(ctx, qBlobGet, clinic, id).Scan(&b.Device, &at, &b.Sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return syncserver.Blob{}, syncserver.ErrNotFound
	}
	if err != nil {
		return syncserver.Blob{}, fmt.Errorf("blob: %w", err)
	}
	b.Stored = fromMS(at)
	return b, nil
}

func (s *Store) MissingBlobs(ctx context.Context, clinic string, ids []string) ([]string, error) {
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("missing blobs: %w", err)
	}
	defer conn.Close()
	have, err := conn.PrepareContext(ctx, qBlobHave)
	if err != nil {
		return nil, fmt.Errorf("missing blobs: %w", err)
	}
	defer have.Close()
	missing := []string{}
	for _, id := range ids {
		var one int
		// sqlcheck: the statement is qBlobHave, prepared; these are its values.
		err := have.QueryRowContext(ctx, clinic, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			missing = append(missing, id)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("missing blobs: %w", err)
		}
	}
	return missing, nil
}
