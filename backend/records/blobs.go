package records

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"outpost/backend/ehr"
)

// Document contents and sync (docs/sync-protocol.md, "Document
// contents"): the bytes of a document travel apart from its version. What
// a laptop must send is derived from the outbox (the document versions
// queued, whose bytes are here); what it must fetch from the chart (the
// documents whose bytes are not here yet). Neither needs a table of its
// own.

// BlobOf returns the SHA-256 of the contents a version names: set for a
// document version that is not a tombstone, "" for any other.
func BlobOf(v ehr.Version) string {
	if v.Kind != ehr.KindDocument || v.Deleted {
		return ""
	}
	d, err := ehr.ParseDocumentBody(v.Body)
	if err != nil {
		return ""
	}
	return d.SHA256
}

// Blob returns the contents whose SHA-256 is sha, false when they are
// not on this computer.
func (s *Store) Blob(ctx context.Context, sha string) ([]byte, bool, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, "SELECT data FROM blobs WHERE sha256 = ?", sha).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("blob: %w", err)
	}
	return data, true, nil
}

// ErrBlobContent: contents to store are not those their SHA-256 names.
var ErrBlobContent = errors.New("records: document content does not match its checksum")

// PutBlob stores contents received from another laptop under their
// SHA-256 sha, after checking them against it and the size limit.
// Storing contents already here changes nothing.
func (s *Store) PutBlob(ctx context.Context, sha string, data []byte) error {
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != sha || len(data) == 0 || len(data) > ehr.MaxDocument {
		return ErrBlobContent
	}
	if _, err := s.w.ExecContext(ctx, "INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?, ?, ?)", sha, len(data), data); err != nil {
		return fmt.Errorf("store document content: %w", err)
	}
	return nil
}

// MissingBlobs returns the SHA-256 of the contents of current documents
// (the heads the chart shows, not deleted) that are not on this
// computer, each once.
func (s *Store) MissingBlobs(ctx context.Context) ([]string, error) {
	all, err := s.documentBlobs(ctx)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, sha := range all {
		var one int
		err := s.r.QueryRowContext(ctx, "SELECT 1 FROM blobs WHERE sha256 = ?", sha).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			missing = append(missing, sha)
		} else if err != nil {
			return nil, fmt.Errorf("missing document contents: %w", err)
		}
	}
	return missing, nil
}

// documentBlobs returns the SHA-256 of the contents of every current
// document, each once, in the chart's order.
func (s *Store) documentBlobs(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT v.kind, v.deleted, v.body FROM chart c CROSS JOIN versions v ON v.version_id = c.version_id
		WHERE c.kind = ? AND c.deleted = 0`, ehr.KindDocument)
	if err != nil {
		return nil, fmt.Errorf("document contents: %w", err)
	}
	defer rows.Close()
	var out []string
	seen := map[string]bool{}
	for rows.Next() {
		v := ehr.Version{}
		if err := rows.Scan(&v.Kind, &v.Deleted, &v.Body); err != nil {
			return nil, fmt.Errorf("document contents: %w", err)
		}
		if sha := BlobOf(v); sha != "" && !seen[sha] {
			seen[sha] = true
			out = append(out, sha)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("document contents: %w", err)
	}
	return out, nil
}

// State returns a sync state value (0 when unset) and whether it is set.
func (s *Store) State(ctx context.Context, key string) (int64, bool, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, "SELECT value FROM sync_state WHERE key = ?", key).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("sync state: %w", err)
	}
	return n, true, nil
}

// SetState sets a sync state value.
func (s *Store) SetState(ctx context.Context, key string, value int64) error {
	if _, err := s.w.ExecContext(ctx, "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value); err != nil {
		return fmt.Errorf("sync state: %w", err)
	}
	return nil
}

// HeldBlobs returns the SHA-256 of the contents of current documents
// that are on this computer, each once.
func (s *Store) HeldBlobs(ctx context.Context) ([]string, error) {
	all, err := s.documentBlobs(ctx)
	if err != nil {
		return nil, err
	}
	var held []string
	for _, sha := range all {
		var one int
		err := s.r.QueryRowContext(ctx, "SELECT 1 FROM blobs WHERE sha256 = ?", sha).Scan(&one)
		if err == nil {
			held = append(held, sha)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("held document contents: %w", err)
		}
	}
	return held, nil
}
