package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"outpost/backend/ehr"
)

// Retention (S32). Events are kept for the clinic's retention period (7
// to 75 years, 10 by default: a setting of the admin area). Older events
// may be purged from the front of the chain once a copy off the device
// covers them, and only with dual control: one person with audit.manage
// asks (RequestPurge), a different one approves (ApprovePurge). The
// cut-off is computed here, from the clock and the chain, when asked and
// again when approved; nothing younger than the retention period is ever
// purged, whatever the caller passes, and an approval never purges
// beyond what was asked.
//
// The chain stays verifiable: the last purged event's seq and hash
// become the anchor (schema 8's audit_anchor), which must be an event
// with a signed checkpoint that a copy off the device covers. The
// verifiers start after it, and an export carries it (FormatAnchored).

// Retention bounds, in years.
const (
	MinRetentionYears     = 7
	MaxRetentionYears     = 75
	DefaultRetentionYears = 10
)

// PurgeKind is the kind of a purge request in the approvals table.
const PurgeKind = "audit.purge"

// Bounds of a purge request's reason, in characters.
const (
	minPurgeReason = 5
	maxPurgeReason = 200
)

// Anchor is the last purged event: the chain continues after it.
type Anchor struct {
	Seq  int64  // 0 while nothing is purged
	Hash string // Genesis while nothing is purged
}

// readAnchor returns the vault's anchor.
func readAnchor(ctx context.Context, q querier) (Anchor, error) {
	a := Anchor{Hash: Genesis}
	err := q.QueryRowContext(ctx, "SELECT seq, hash FROM audit_anchor WHERE id = 1").Scan(&a.Seq, &a.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Anchor{Hash: Genesis}, nil
	}
	if err != nil {
		return Anchor{}, fmt.Errorf("audit anchor: %w", err)
	}
	return a, nil
}

// PurgeActor is who asks for or approves a purge.
type PurgeActor struct {
	UserID   string
	Username string
	Roles    []string
	Session  string
}

// PurgeRange is a run of events at the front of the chain: From to
// Through, written from Oldest to Newest. Through is always the seq of a
// signed checkpoint. A zero range (Through 0) holds nothing.
type PurgeRange struct {
	From, Through  int64
	Oldest, Newest time.Time
}

// Events returns how many events the range holds.
func (r PurgeRange) Events() int64 {
	if r.Through == 0 || r.Through < r.From {
		return 0
	}
	return r.Through - r.From + 1
}

// PurgeRequest is a request waiting for a second person.
type PurgeRequest struct {
	ID            string
	RequestedByID string
	RequestedBy   string // username
	Reason        string
	At            time.Time
	PurgeRange    // what it asks to purge (From follows the current anchor)
}

// PurgeState is what the retention screen shows.
type PurgeState struct {
	RetentionYears int
	Cutoff         time.Time // events written before it are old enough
	Anchor         Anchor    // purged so far: events 1 to Anchor.Seq
	PurgedAt       time.Time // the latest purge; zero when none
	Eligible       PurgeRange
	// Why nothing is eligible (a message to show), when Eligible is
	// empty.
	Why     string
	Pending []PurgeRequest
}

// PurgeResult is what an approved purge removed.
type PurgeResult struct {
	RequestID string
	PurgeRange
	Anchor Anchor // the new anchor: the last purged event
}

// purgeRefused is a purge that cannot go ahead, with the reason to show.
func purgeRefused(format string, args ...any) error {
	return ehr.Errorf(ehr.EConflict, format, args...)
}

// day formats a time as a date for messages.
func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// Cutoff returns the time before which events are old enough to purge at
// now with a retention of years (at least MinRetentionYears).
func Cutoff(now time.Time, years int) time.Time {
	return now.UTC().AddDate(-max(years, MinRetentionYears), 0, 0)
}

// planPurge returns the events that may be purged at now with a retention
// of years, no further than event limit (0: no limit): from the event
// after the anchor up to the highest seq that is a signed checkpoint, at
// or before the newest checkpoint acknowledged off the device, and before
// the first event that is not older than the cut-off. Times are compared
// to the second, so an event of the cut-off's own second is kept. The
// newest event is never purged. It returns a purgeRefused error saying
// why when nothing may be purged.
func planPurge(ctx context.Context, q querier, now time.Time, years int, limit int64) (PurgeRange, Anchor, error) {
	years = max(years, MinRetentionYears)
	cutoff := Cutoff(now, years)
	cut := cutoff.Format(secondText)
	anchor, err := readAnchor(ctx, q)
	if err != nil {
		return PurgeRange{}, anchor, err
	}
	if limit > 0 && limit <= anchor.Seq {
		return PurgeRange{}, anchor, purgeRefused("The events this request names were purged already.")
	}
	var first int64
	var firstAt string
	err = q.QueryRowContext(ctx, "SELECT seq, at FROM audit WHERE seq > ? ORDER BY seq LIMIT 1", anchor.Seq).Scan(&first, &firstAt)
	if errors.Is(err, sql.ErrNoRows) {
		return PurgeRange{}, anchor, purgeRefused("Nothing is old enough to purge: the audit trail holds no events.")
	}
	if err != nil {
		return PurgeRange{}, anchor, fmt.Errorf("audit purge: %w", err)
	}
	if !olderThan(firstAt, cut) {
		t, _ := time.Parse(timeFormat, firstAt)
		return PurgeRange{}, anchor, purgeRefused("Nothing is old enough to purge: the oldest event kept is from %s, and events are kept for %d years (that one until %s).",
			day(t), years, day(t.AddDate(years, 0, 0)))
	}
	var acked int64
	if err := q.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM audit_checkpoints WHERE acknowledged_at <> ''").Scan(&acked); err != nil {
		return PurgeRange{}, anchor, fmt.Errorf("audit purge: %w", err)
	}
	if acked <= anchor.Seq {
		return PurgeRange{}, anchor, purgeRefused("Nothing old enough has been copied off this laptop yet. Save a sealed copy of the audit trail and confirm it (or sync), then ask again.")
	}
	end := acked
	// The first event not old enough, in seq order: times follow seq
	// unless the clock was set back, so every event up to the end of the
	// range is checked, not only the last (a scan of the old events, in
	// the order of the table, that stops at the first young one).
	var young int64
	err = q.QueryRowContext(ctx, "SELECT seq FROM audit WHERE seq > ? AND seq <= ? AND substr(at, 1, 19) >= ? ORDER BY seq LIMIT 1",
		anchor.Seq, acked, cut).Scan(&young)
	switch {
	case err == nil:
		end = young - 1
	case !errors.Is(err, sql.ErrNoRows):
		return PurgeRange{}, anchor, fmt.Errorf("audit purge: %w", err)
	}
	if limit > 0 {
		end = min(end, limit)
	}
	var head, through int64
	if err := q.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM audit").Scan(&head); err != nil {
		return PurgeRange{}, anchor, fmt.Errorf("audit purge: %w", err)
	}
	end = min(end, head-1)
	if err := q.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM audit_checkpoints WHERE seq > ? AND seq <= ?",
		anchor.Seq, end).Scan(&through); err != nil {
		return PurgeRange{}, anchor, fmt.Errorf("audit purge: %w", err)
	}
	if through == 0 {
		return PurgeRange{}, anchor, purgeRefused("Nothing can be purged yet: no signed checkpoint of the audit trail falls among the events older than %d years that are copied off this laptop. Ask again later.", years)
	}
	r := PurgeRange{From: anchor.Seq + 1, Through: through}
	if r.Oldest, r.Newest, err = rangeTimes(ctx, q, r.From, r.Through); err != nil {
		return PurgeRange{}, anchor, err
	}
	return r, anchor, nil
}

// olderThan reports whether an event's time is before the cut-off's
// second (cut, in secondText's layout).
func olderThan(at, cut string) bool {
	return len(at) >= len(secondText) && at[:len(secondText)] < cut
}

// rangeTimes returns the times of events from and through.
func rangeTimes(ctx context.Context, q querier, from, through int64) (oldest, newest time.Time, err error) {
	var a, b sql.NullString
	if err := q.QueryRowContext(ctx, "SELECT (SELECT at FROM audit WHERE seq = ?), (SELECT at FROM audit WHERE seq = ?)", from, through).
		Scan(&a, &b); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("audit purge: %w", err)
	}
	oldest, _ = time.Parse(timeFormat, a.String)
	newest, _ = time.Parse(timeFormat, b.String)
	return oldest, newest, nil
}

func (r PurgeRange) describe() string {
	return fmt.Sprintf("events %d to %d (%d, written %s to %s)", r.From, r.Through, r.Events(), day(r.Oldest), day(r.Newest))
}

// writer returns the vault's writer the log was opened on.
func (l *Log) writer() (*sql.DB, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.db == nil {
		return nil, errNotOpen
	}
	return l.db, nil
}

// RequestPurge asks for the events old enough at the log's now, with a
// retention of years, to be purged: nothing is deleted until a different
// person approves (ApprovePurge). id names the request. It is audited as
// audit.purge_request, with the reason.
func (l *Log) RequestPurge(ctx context.Context, id string, by PurgeActor, reason string, years int) (PurgeRequest, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	if n := len([]rune(reason)); n < minPurgeReason || n > maxPurgeReason {
		return PurgeRequest{}, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{"reason": fmt.Sprintf("Say why the events are purged (%d to %d characters).", minPurgeReason, maxPurgeReason)}}
	}
	db, err := l.writer()
	if err != nil {
		return PurgeRequest{}, err
	}
	now := l.Now().UTC()
	years = max(years, MinRetentionYears)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return PurgeRequest{}, fmt.Errorf("audit purge request: %w", err)
	}
	defer tx.Rollback()
	r, _, err := planPurge(ctx, tx, now, years, 0)
	if err != nil {
		return PurgeRequest{}, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO approvals (id, kind, target_id, requested_by, reason, at) VALUES (?,?,?,?,?,?)",
		id, PurgeKind, strconv.FormatInt(r.Through, 10), by.UserID, reason, now.Format(timeFormat)); err != nil {
		return PurgeRequest{}, fmt.Errorf("audit purge request: %w", err)
	}
	if _, err := l.Append(ctx, tx, Event{Username: by.Username, Roles: by.Roles, Session: by.Session, Action: "audit.purge_request",
		Outcome: Success, Detail: fmt.Sprintf("request %s: %s, retention %d years; reason: %s", id, r.describe(), years, reason)}); err != nil {
		return PurgeRequest{}, err
	}
	if err := tx.Commit(); err != nil {
		return PurgeRequest{}, fmt.Errorf("audit purge request: %w", err)
	}
	return PurgeRequest{ID: id, RequestedByID: by.UserID, RequestedBy: by.Username, Reason: reason, At: now, PurgeRange: r}, nil
}

// ApprovePurge carries out a request made by someone else: it computes
// the cut-off again at the log's now with a retention of years, never
// beyond the event the request named, checks the chain of the events to
// purge (links, hashes and signed checkpoints, from the anchor), moves
// the anchor to the last of them and deletes them, in one transaction
// audited as audit.purge_approve. The requester cannot approve (refused,
// and audited as denied).
func (l *Log) ApprovePurge(ctx context.Context, requestID string, by PurgeActor, years int) (PurgeResult, error) {
	db, err := l.writer()
	if err != nil {
		return PurgeResult{}, err
	}
	now := l.Now().UTC()
	years = max(years, MinRetentionYears)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return PurgeResult{}, fmt.Errorf("audit purge: %w", err)
	}
	defer tx.Rollback()
	var target, requester, approved, asker string
	err = tx.QueryRowContext(ctx, `SELECT a.target_id, a.requested_by, a.approved_by, coalesce(u.username, '')
		FROM approvals a LEFT JOIN users u ON u.id = a.requested_by WHERE a.id = ? AND a.kind = ?`, requestID, PurgeKind).
		Scan(&target, &requester, &approved, &asker)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && approved != "") {
		return PurgeResult{}, ehr.Errorf(ehr.ENotFound, "No such pending purge request.")
	}
	if err != nil {
		return PurgeResult{}, fmt.Errorf("audit purge: %w", err)
	}
	if requester == by.UserID {
		// The writer is free again before the refusal is recorded.
		tx.Rollback()
		if err := l.Record(ctx, db, Event{Username: by.Username, Roles: by.Roles, Session: by.Session, Action: "audit.purge_approve",
			Outcome: Denied, Detail: fmt.Sprintf("request %s: the requester may not approve it", requestID)}); err != nil {
			return PurgeResult{}, err
		}
		return PurgeResult{}, ehr.Errorf(ehr.EForbidden, "A second person with the audit management role must approve this purge; you asked for it.")
	}
	limit, err := strconv.ParseInt(target, 10, 64)
	if err != nil || limit < 1 {
		return PurgeResult{}, fmt.Errorf("audit purge: request %s names no event", requestID)
	}
	r, anchor, err := planPurge(ctx, tx, now, years, limit)
	if err != nil {
		return PurgeResult{}, err
	}
	last, err := checkRange(ctx, tx, anchor, r.Through)
	if err != nil {
		return PurgeResult{}, err
	}
	res := PurgeResult{RequestID: requestID, PurgeRange: r, Anchor: last}
	if _, err := tx.ExecContext(ctx, "UPDATE audit_anchor SET seq = ?, hash = ?, purged_at = ? WHERE id = 1",
		last.Seq, last.Hash, now.Format(timeFormat)); err != nil {
		return PurgeResult{}, fmt.Errorf("audit purge: %w", err)
	}
	del, err := tx.ExecContext(ctx, "DELETE FROM audit WHERE seq <= ?", last.Seq)
	if err != nil {
		return PurgeResult{}, fmt.Errorf("audit purge: %w", err)
	}
	if n, err := del.RowsAffected(); err != nil || n != r.Events() {
		return PurgeResult{}, fmt.Errorf("audit purge: deleted %d events, expected %d (%v)", n, r.Events(), err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM audit_view WHERE seq <= ?", last.Seq); err != nil {
		return PurgeResult{}, fmt.Errorf("audit purge: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE approvals SET approved_by = ?, approved_at = ? WHERE id = ? AND approved_by = ''",
		by.UserID, now.Format(timeFormat), requestID); err != nil {
		return PurgeResult{}, fmt.Errorf("audit purge: %w", err)
	}
	if _, err := l.Append(ctx, tx, Event{Username: by.Username, Roles: by.Roles, Session: by.Session, Action: "audit.purge_approve",
		Outcome: Success, Detail: fmt.Sprintf("request %s of %s: purged %s, retention %d years; anchor: event %d, hash %s",
			requestID, asker, r.describe(), years, last.Seq, last.Hash)}); err != nil {
		return PurgeResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return PurgeResult{}, fmt.Errorf("audit purge: %w", err)
	}
	return res, nil
}

// checkRange verifies the events after anchor up to through, as
// VerifyVault would, before they are purged: each link and hash, every
// checkpoint among them, and a checkpoint of event through signed by the
// device key. It returns event through as the new anchor. A chain that
// does not verify is never purged: the events are the evidence.
func checkRange(ctx context.Context, tx *sql.Tx, anchor Anchor, through int64) (Anchor, error) {
	_, pub, err := PublicKey(ctx, tx)
	if err != nil {
		return Anchor{}, err
	}
	cps, err := Checkpoints(ctx, tx)
	if err != nil {
		return Anchor{}, err
	}
	k := 0
	for k < len(cps) && cps[k].Seq <= anchor.Seq {
		k++
	}
	ch := newChain().After(anchor.Seq, anchor.Hash)
	after, signed := anchor.Seq, false
	err = scanEvents(ctx, tx, anchor.Seq, through, func(r *record, bad string) error {
		if bad != "" {
			return &BreakError{Seq: r.Seq, Reason: bad}
		}
		if _, berr := ch.Add(r); berr != nil {
			return berr
		}
		for ; k < len(cps) && cps[k].Seq <= r.Seq; k++ {
			if cps[k].Seq < r.Seq {
				return &BreakError{Seq: cps[k].Seq, Reason: "a checkpoint names no stored event"}
			}
			if berr := checkCheckpoint(cps[k], pub, r.Hash, after); berr != nil {
				return berr
			}
			after, signed = cps[k].Seq, cps[k].Seq == through
		}
		return nil
	})
	if err == nil && ch.Next != through+1 {
		err = &BreakError{Seq: ch.Next, Reason: "missing"}
	}
	if err == nil && !signed {
		err = &BreakError{Seq: through, Reason: "no signed checkpoint of this event"}
	}
	var be *BreakError
	if errors.As(err, &be) {
		return Anchor{}, ehr.Wrap(ehr.EConflict, fmt.Sprintf("The audit trail does not verify at event %d, so nothing was purged: the events are evidence. Export the trail for the auditor (outpost-admin audit export) and tell the security officer.", be.Seq), err)
	}
	if err != nil {
		return Anchor{}, err
	}
	return Anchor{Seq: through, Hash: ch.Prev}, nil
}

// Purges reads the retention screen's state at now with a retention of
// years: what was purged, what is old enough now, and the requests
// waiting for a second person (those a purge since has made moot are
// left out).
func Purges(ctx context.Context, q querier, now time.Time, years int) (PurgeState, error) {
	years = max(years, MinRetentionYears)
	st := PurgeState{RetentionYears: years, Cutoff: Cutoff(now, years)}
	var purgedAt string
	err := q.QueryRowContext(ctx, "SELECT seq, hash, purged_at FROM audit_anchor WHERE id = 1").Scan(&st.Anchor.Seq, &st.Anchor.Hash, &purgedAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return PurgeState{}, fmt.Errorf("audit purges: %w", err)
	}
	if st.Anchor.Hash == "" {
		st.Anchor.Hash = Genesis
	}
	st.PurgedAt, _ = time.Parse(timeFormat, purgedAt)
	r, _, err := planPurge(ctx, q, now, years, 0)
	switch {
	case err == nil:
		st.Eligible = r
	case ehr.ErrorCode(err) == ehr.EConflict:
		st.Why = ehr.ErrorMessage(err)
	default:
		return PurgeState{}, err
	}
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.target_id, a.requested_by, coalesce(u.username, ''), a.reason, a.at
		FROM approvals a LEFT JOIN users u ON u.id = a.requested_by
		WHERE a.kind = ? AND a.approved_by = '' ORDER BY a.at, a.id`, PurgeKind)
	if err != nil {
		return PurgeState{}, fmt.Errorf("audit purges: %w", err)
	}
	var pending []PurgeRequest
	for rows.Next() {
		var p PurgeRequest
		var target, at string
		if err := rows.Scan(&p.ID, &target, &p.RequestedByID, &p.RequestedBy, &p.Reason, &at); err != nil {
			rows.Close()
			return PurgeState{}, fmt.Errorf("audit purges: %w", err)
		}
		p.At, _ = time.Parse(timeFormat, at)
		p.Through, _ = strconv.ParseInt(target, 10, 64)
		p.From = st.Anchor.Seq + 1
		if p.Through >= p.From {
			pending = append(pending, p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return PurgeState{}, fmt.Errorf("audit purges: %w", err)
	}
	for i := range pending {
		if pending[i].Oldest, pending[i].Newest, err = rangeTimes(ctx, q, pending[i].From, pending[i].Through); err != nil {
			return PurgeState{}, err
		}
	}
	st.Pending = pending
	return st, nil
}
