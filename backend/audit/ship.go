package audit

import (
	"context"
	"errors"
	"fmt"
)

// What audit shipping (backend/sync, docs/sync-protocol.md) reads from
// the vault: event lines exactly as an export writes them, and the
// anchor with the checkpoint that vouches for it.

// errEnough stops a scan once a batch is full.
var errEnough = errors.New("audit: batch full")

// EventLines returns the export lines (docs/audit-format.md, without
// their final line feed) of the events with seq above after and at most
// through, in order: at most limit of them, and no more than maxBytes of
// lines except that the first is always returned.
func EventLines(ctx context.Context, q querier, after, through int64, limit, maxBytes int) ([][]byte, error) {
	hi := min(through, after+int64(limit))
	if hi <= after {
		return nil, nil
	}
	var out [][]byte
	size := 0
	err := scanEvents(ctx, q, after, hi, func(r *record, bad string) error {
		if bad != "" {
			return &BreakError{Seq: r.Seq, Reason: bad}
		}
		line := r.AppendJSON(nil, r.Hash)
		if len(out) > 0 && size+len(line) > maxBytes {
			return errEnough
		}
		size += len(line)
		out = append(out, line)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return out, nil
}

// AnchorCheckpoint returns the vault's anchor (the last purged event) and
// the device's checkpoint of it; both zero while nothing was purged.
func AnchorCheckpoint(ctx context.Context, q querier) (Anchor, Checkpoint, error) {
	a, err := readAnchor(ctx, q)
	if err != nil || a.Seq == 0 {
		return Anchor{}, Checkpoint{}, err
	}
	cps, err := Checkpoints(ctx, q)
	if err != nil {
		return Anchor{}, Checkpoint{}, err
	}
	for _, c := range cps {
		if c.Seq == a.Seq {
			return a, c, nil
		}
	}
	return Anchor{}, Checkpoint{}, fmt.Errorf("audit anchor: no checkpoint of event %d", a.Seq)
}
