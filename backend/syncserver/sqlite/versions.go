package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

const (
	qInsertVersion = "INSERT INTO versions (clinic, seq, version_id, record_id, parents, device, size, ciphertext) VALUES (?, ?, ?, ?, ?, ?, ?, ?) " +
		"ON CONFLICT (clinic, version_id) DO NOTHING"
	qStoredVersion = "SELECT seq, record_id, parents, ciphertext FROM versions WHERE clinic = ? AND version_id = ?"
	qPull          = "SELECT seq, version_id, record_id, parents, device, ciphertext FROM versions " +
		"WHERE clinic = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
)

func encodeParents(p []string) string {
	if len(p) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(p) // ids are validated: plain ASCII
	return string(b)
}

func decodeParents(s string) ([]string, error) {
	var p []string
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, nil
	}
	return p, nil
}

func (s *Store) Push(ctx context.Context, clinic, device string, vs []syncserver.Version) ([]syncserver.PushResult, int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("push: %w", err)
	}
	defer tx.Rollback()
	var status string
	err = tx.QueryRowContext(ctx, "SELECT status FROM devices WHERE id = ? AND clinic = ?", device, clinic).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, syncserver.ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("push: %w", err)
	}
	if status != syncproto.StatusActive {
		return nil, 0, syncserver.ErrRevoked
	}
	var head int64
	if err := tx.QueryRowContext(ctx, "SELECT head FROM clinics WHERE id = ?", clinic).Scan(&head); err != nil {
		return nil, 0, fmt.Errorf("push: %w", err)
	}
	insert, err := tx.PrepareContext(ctx, qInsertVersion)
	if err != nil {
		return nil, 0, fmt.Errorf("push: %w", err)
	}
	defer insert.Close()
	results := make([]syncserver.PushResult, len(vs))
	for i, v := range vs {
		parents := encodeParents(v.Parents)
		// sqlcheck: the statement is qInsertVersion, prepared; these are its values.
		res, err := insert.ExecContext(ctx, clinic, head+1, v.ID, v.Record, parents, device, len(v.Sealed), v.Sealed)
		if err != nil {
			return nil, 0, fmt.Errorf("push: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, 0, fmt.Errorf("push: %w", err)
		} else if n == 1 {
			head++
			results[i] = syncserver.PushResult{ID: v.ID, Seq: head, Status: syncproto.PushStored}
			continue
		}
		var seq int64
		var record, storedParents string
		var sealed []byte
		if err := tx.QueryRowContext(ctx, qStoredVersion, clinic, v.ID).Scan(&seq, &record, &storedParents, &sealed); err != nil {
			return nil, 0, fmt.Errorf("push: %w", err)
		}
		st := syncproto.PushDuplicate
		if record != v.Record || storedParents != parents || !bytes.Equal(sealed, v.Sealed) {
			st = syncproto.PushMismatch
		}
		results[i] = syncserver.PushResult{ID: v.ID, Seq: seq, Status: st}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE clinics SET head = ? WHERE id = ?", head, clinic); err != nil {
		return nil, 0, fmt.Errorf("push: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("push: %w", err)
	}
	return results, head, nil
}

func (s *Store) Pull(ctx context.Context, clinic string, after int64, limit int, maxBytes int64) ([]syncserver.Version, int64, error) {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("pull: %w", err)
	}
	defer tx.Rollback()
	var head int64
	err = tx.QueryRowContext(ctx, "SELECT head FROM clinics WHERE id = ?", clinic).Scan(&head)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, syncserver.ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("pull: %w", err)
	}
	rows, err := tx.QueryContext(ctx, qPull, clinic, after, head, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("pull: %w", err)
	}
	defer rows.Close()
	var out []syncserver.Version
	var total int64
	for rows.Next() {
		var v syncserver.Version
		var parents string
		if err := rows.Scan(&v.Seq, &v.ID, &v.Record, &parents, &v.Device, &v.Sealed); err != nil {
			return nil, 0, fmt.Errorf("pull: %w", err)
		}
		if len(out) > 0 && total+int64(len(v.Sealed)) > maxBytes {
			break
		}
		if v.Parents, err = decodeParents(parents); err != nil {
			return nil, 0, fmt.Errorf("pull: version %d: %w", v.Seq, err)
		}
		total += int64(len(v.Sealed))
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("pull: %w", err)
	}
	return slices.Clip(out), head, nil
}
