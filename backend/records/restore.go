package records

import (
	"context"
	"database/sql"
	"fmt"

	"outpost/backend/audit"
)

// RequeueAll puts every version this laptop holds back into the outbox
// and sets the pull cursor under key back to 0 (forgetting its anchor),
// in one transaction. Sync
// calls it when the clinic server holds fewer versions than this laptop
// already received (the server was restored from an older backup): the
// laptop then sends back everything it holds, so whatever the server
// lost comes back from every laptop that has it (the server stores a
// version it still holds only once: pushes are idempotent by id), and
// pulls again from the start (applying a version already here changes
// nothing). Versions already waiting keep their place in the outbox. It
// returns how many versions it queued again; the step is audited.
func (s *Store) RequeueAll(ctx context.Context, key string) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var cursor int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(value), 0) FROM sync_state WHERE key = ?", key).Scan(&cursor); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO outbox (version_id, queued_hlc) SELECT version_id, hlc FROM versions")
		if err != nil {
			return err
		}
		if n, err = r.RowsAffected(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO sync_state (key, value) VALUES (?, 0) ON CONFLICT (key) DO UPDATE SET value = 0", key); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sync_state WHERE key = ?", AnchorKey(key)); err != nil {
			return err
		}
		_, err = s.cfg.Audit.Append(ctx, tx, audit.Event{Username: "sync", Roles: []string{}, Action: "sync.requeue", Outcome: audit.Success,
			Detail: fmt.Sprintf("%d versions queued again: the clinic server holds fewer than this laptop received (cursor %d was reset to 0)", n, cursor)})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("requeue all: %w", err)
	}
	return int(n), nil
}
