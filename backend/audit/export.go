package audit

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"time"
)

// ExportStats says what an export wrote.
type ExportStats struct {
	Events      int64 // event lines
	LastSeq     int64
	Checkpoints int
	Anchor      int64 // the last purged event, which the file starts after; 0 when none was
}

// Export writes the vault's chain to w in the format of
// docs/audit-format.md, from one consistent snapshot of db: a header
// line, every event as stored (a changed event is written as it now is,
// for the verifier to find), then every checkpoint. After a purge the
// file is of FormatAnchored: the anchor follows the header, and the
// checkpoints start with the anchor's (those of earlier purged events
// are left out). It checks nothing; VerifyFile does. The vault must
// have its device key.
func Export(ctx context.Context, db *sql.DB, exportedAt time.Time, w io.Writer) (ExportStats, error) {
	var st ExportStats
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("audit export: %w", err)
	}
	defer tx.Rollback()
	device, pub, err := PublicKey(ctx, tx)
	if err != nil {
		return st, err
	}
	anchor, err := readAnchor(ctx, tx)
	if err != nil {
		return st, err
	}
	st.Anchor = anchor.Seq
	bw := bufio.NewWriterSize(w, 1<<16)
	h := header{Format: Format, Device: device, PublicKey: base64.StdEncoding.EncodeToString(pub),
		ExportedAt: exportedAt.UTC().Truncate(time.Microsecond).Format(timeFormat)}
	if anchor.Seq > 0 {
		h.Format = FormatAnchored
	}
	buf := append(h.appendJSON(make([]byte, 0, 1024)), '\n')
	if anchor.Seq > 0 {
		buf = append(anchorLine{Type: "anchor", Seq: anchor.Seq, Hash: anchor.Hash}.appendJSON(buf), '\n')
	}
	if _, err := bw.Write(buf); err != nil {
		return st, fmt.Errorf("audit export: %w", err)
	}
	err = scanEvents(ctx, tx, math.MinInt64, math.MaxInt64, func(r *record, _ string) error {
		buf = append(r.AppendJSON(buf[:0], r.Hash), '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		st.Events++
		st.LastSeq = r.Seq
		return ctx.Err()
	})
	if err != nil {
		return st, err
	}
	cps, err := Checkpoints(ctx, tx)
	if err != nil {
		return st, err
	}
	for _, cp := range cps {
		if cp.Seq < anchor.Seq {
			continue
		}
		buf = append(exportCheckpoint(cp).appendJSON(buf[:0]), '\n')
		if _, err := bw.Write(buf); err != nil {
			return st, fmt.Errorf("audit export: %w", err)
		}
		st.Checkpoints++
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("audit export: %w", err)
	}
	return st, nil
}
