package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"outpost/backend/ehr"
)

// Page sizes of Query.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Sort columns of Filter.Sort. SortSeq and SortAt are the same order: the
// chain's, which is the order events were written on this device (their
// times follow it unless the clock was set back).
const (
	SortSeq         = "seq"
	SortAt          = "at"
	SortUsername    = "username"
	SortAction      = "action"
	SortOutcome     = "outcome"
	SortPatient     = "patient"
	SortWorkstation = "workstation"
)

// Sorts lists the columns a Filter may sort by.
var Sorts = []string{SortSeq, SortAt, SortUsername, SortAction, SortOutcome, SortPatient, SortWorkstation}

// Filter selects audit events for the viewer and its exports. Empty
// members select everything. Times are compared to the whole second
// (fractions are dropped): From is inclusive, To exclusive. Username,
// PatientID and Outcome match exactly; Action matches exactly, or as a
// prefix when it ends in "*" ("patient.*"). Ties of Sort are broken by
// seq in the same direction.
type Filter struct {
	From, To  time.Time
	Username  string
	PatientID string
	Action    string
	Outcome   string
	Sort      string // one of Sorts; "" is SortSeq
	Desc      bool
	Limit     int // Query only: 0 is DefaultLimit, at most MaxLimit
	Offset    int // Query only
}

// The statements Query and Each run are put together only from these
// constant fragments, chosen by which filter members are set and from the
// fixed qOrders table; every value travels as a parameter. They filter
// and sort audit_view (v), the viewer's indexed copy (see RefreshView);
// each event itself is then read from audit by qEvent.
const (
	qEvent = `SELECT seq, at, username, roles, action, outcome, patient_id, record_id, device, workstation, session, detail,
		os_user, addresses, reason, on_behalf_of, prev_hash, hash FROM audit WHERE seq = ?`

	qSeqs        = `SELECT v.seq FROM audit_view v`
	qCount       = `SELECT count(*) FROM audit_view v`
	qWhere       = ` WHERE 1 = 1`
	qFrom        = ` AND v.at >= ?`
	qTo          = ` AND v.at < ?`
	qUsername    = ` AND v.username = ?`
	qPatient     = ` AND v.patient_id = ?`
	qAction      = ` AND v.action = ?`
	qActionRange = ` AND v.action >= ? AND v.action < ?`
	qOutcome     = ` AND v.outcome = ?`
	qPage        = ` LIMIT ? OFFSET ?`
)

// qOrders gives each sort column its ORDER BY, ascending and descending.
var qOrders = map[string][2]string{
	SortSeq:         {` ORDER BY v.seq`, ` ORDER BY v.seq DESC`},
	SortAt:          {` ORDER BY v.seq`, ` ORDER BY v.seq DESC`},
	SortUsername:    {` ORDER BY v.username, v.seq`, ` ORDER BY v.username DESC, v.seq DESC`},
	SortAction:      {` ORDER BY v.action, v.seq`, ` ORDER BY v.action DESC, v.seq DESC`},
	SortOutcome:     {` ORDER BY v.outcome, v.seq`, ` ORDER BY v.outcome DESC, v.seq DESC`},
	SortPatient:     {` ORDER BY v.patient_id, v.seq`, ` ORDER BY v.patient_id DESC, v.seq DESC`},
	SortWorkstation: {` ORDER BY v.workstation, v.seq`, ` ORDER BY v.workstation DESC, v.seq DESC`},
}

// viewBatch is how many events RefreshView copies per transaction, so
// other writers wait at most one batch.
const viewBatch = 5000

// RefreshView brings audit_view, the indexed copy Query and Each filter
// and sort, up to date with the audit table: it copies the events newer
// than its newest (in batches of viewBatch, each its own transaction)
// and drops those older than the oldest event left (after a purge). db
// is the vault's writer. Query and Each see the events as of the last
// RefreshView; the copy is derived and never evidence.
func RefreshView(ctx context.Context, db *sql.DB) error {
	for {
		n, err := refreshBatch(ctx, db)
		if err != nil || n < viewBatch {
			return err
		}
	}
}

func refreshBatch(ctx context.Context, db *sql.DB) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("audit view: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM audit_view
		WHERE seq < coalesce((SELECT seq FROM audit ORDER BY seq LIMIT 1), 9223372036854775807)`); err != nil {
		return 0, fmt.Errorf("audit view: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_view (seq, at, username, action, outcome, patient_id, workstation)
		SELECT seq, at, username, action, outcome, patient_id, workstation FROM audit
		WHERE seq > coalesce((SELECT seq FROM audit_view ORDER BY seq DESC LIMIT 1), 0)
		ORDER BY seq LIMIT ?`, viewBatch)
	if err != nil {
		return 0, fmt.Errorf("audit view: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("audit view: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("audit view: %w", err)
	}
	return int(n), nil
}

// secondText is how a bound is compared with the stored times (RFC 3339
// UTC with an optional fraction): the first 19 characters order exactly
// as the times do to the second, and a stored time of that same second
// is longer, so sorts after it.
const secondText = "2006-01-02T15:04:05"

// check validates f and returns the WHERE clause and its arguments.
func (f Filter) check() (string, []any, error) {
	bad := ehr.Invalid{}
	if _, ok := qOrders[f.Sort]; !ok && f.Sort != "" {
		bad["sort"] = "Sort by one of: " + strings.Join(Sorts, ", ") + "."
	}
	switch f.Outcome {
	case "", Success, Failure, Denied:
	default:
		bad["outcome"] = "The outcome is one of success, failure or denied."
	}
	if f.Limit < 0 || f.Limit > MaxLimit {
		bad["limit"] = fmt.Sprintf("Show between 1 and %d events at a time.", MaxLimit)
	}
	if f.Offset < 0 {
		bad["offset"] = "The offset cannot be negative."
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		bad["to"] = "The end is not after the start."
	}
	where, args := qWhere, []any{}
	if !f.From.IsZero() {
		where += qFrom
		args = append(args, f.From.UTC().Format(secondText))
	}
	if !f.To.IsZero() {
		where += qTo
		args = append(args, f.To.UTC().Format(secondText))
	}
	if f.Username != "" {
		where += qUsername
		args = append(args, f.Username)
	}
	if f.PatientID != "" {
		where += qPatient
		args = append(args, f.PatientID)
	}
	if prefix, ok := strings.CutSuffix(f.Action, "*"); ok {
		switch {
		case prefix == "":
		case prefix[len(prefix)-1] == 0xff: // never in UTF-8 text
			bad["action"] = "Not an action."
		default:
			// Every string starting with prefix sorts at or after it and
			// before prefix with its last byte raised by one.
			end := prefix[:len(prefix)-1] + string([]byte{prefix[len(prefix)-1] + 1})
			where += qActionRange
			args = append(args, prefix, end)
		}
	} else if f.Action != "" {
		where += qAction
		args = append(args, f.Action)
	}
	if f.Outcome != "" {
		where += qOutcome
		args = append(args, f.Outcome)
	}
	return where, args, bad.Err()
}

func (f Filter) order() string {
	o := qOrders[f.Sort]
	if f.Sort == "" {
		o = qOrders[SortSeq]
	}
	if f.Desc {
		return o[1]
	}
	return o[0]
}

// Query returns one page of the events f selects, in its order, and how
// many events it selects in all, as of the last RefreshView. A bad filter
// is an ehr EInvalid error naming its fields.
func Query(ctx context.Context, db *sql.DB, f Filter) ([]Event, int, error) {
	where, args, err := f.check()
	if err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	// One read transaction: the count and the page see the same events.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("audit query: %w", err)
	}
	defer tx.Rollback()
	var total int
	// sqlcheck: where is made only of the constant q* fragments (see check); values are parameters.
	if err := tx.QueryRowContext(ctx, qCount+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("audit query: %w", err)
	}
	events := []Event{}
	if total <= f.Offset {
		return events, total, nil
	}
	// sqlcheck: constant q* fragments and an ORDER BY from the fixed qOrders table; values are parameters.
	seqs, err := pageSeqs(ctx, tx, qSeqs+where+f.order()+qPage, append(args, limit, f.Offset))
	if err != nil {
		return nil, 0, err
	}
	err = fetch(ctx, tx, seqs, func(e *Event) error {
		events = append(events, *e)
		return nil
	})
	return events, total, err
}

// Each calls fn with every event f selects (as of the last RefreshView),
// in its order, ignoring f.Limit and f.Offset, until fn returns an error;
// for exports.
func Each(ctx context.Context, db *sql.DB, f Filter, fn func(*Event) error) error {
	f.Limit, f.Offset = 0, 0
	where, args, err := f.check()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("audit query: %w", err)
	}
	defer tx.Rollback()
	// sqlcheck: constant q* fragments and an ORDER BY from the fixed qOrders table; values are parameters.
	seqs, err := pageSeqs(ctx, tx, qSeqs+where+f.order(), args)
	if err != nil {
		return err
	}
	return fetch(ctx, tx, seqs, fn)
}

// pageSeqs runs a query of audit_view's seqs: the events, in order. The
// sort runs over the small rows of audit_view alone; fetch then reads
// the events themselves, so a sort never carries whole events.
func pageSeqs(ctx context.Context, tx *sql.Tx, query string, args []any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...) // sqlcheck: callers pass the q* fragments, as their comments say
	if err != nil {
		return nil, fmt.Errorf("audit query: %w", err)
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, fmt.Errorf("audit query: %w", err)
		}
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit query: %w", err)
	}
	return seqs, nil
}

// fetch reads the events of seqs from audit, in that order, and calls fn
// with each. An event no longer there (purged since RefreshView) is
// skipped.
func fetch(ctx context.Context, tx *sql.Tx, seqs []int64, fn func(*Event) error) error {
	stmt, err := tx.PrepareContext(ctx, qEvent)
	if err != nil {
		return fmt.Errorf("audit query: %w", err)
	}
	defer stmt.Close()
	var e Event
	for _, seq := range seqs {
		// sqlcheck: a statement prepared from the constant qEvent; seq is its parameter.
		err := scanEvent(stmt.QueryRowContext(ctx, seq), &e)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return nil
}

// scanEvent reads a row of qEvent into e. A row whose time or roles do
// not decode (a damaged row) is still returned, with a zero time or no
// roles, so the viewer never hides an event; the verifier judges it.
func scanEvent(row *sql.Row, e *Event) error {
	var at, roles, addresses string
	if err := row.Scan(&e.Seq, &at, &e.Username, &roles, &e.Action, &e.Outcome, &e.PatientID, &e.RecordID,
		&e.Device, &e.Workstation, &e.Session, &e.Detail, &e.OSUser, &addresses, &e.Reason, &e.OnBehalfOf,
		&e.PrevHash, &e.Hash); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return fmt.Errorf("audit query: %w", err)
	}
	e.At, _ = time.Parse(timeFormat, at)
	e.Roles = nil
	if json.Unmarshal([]byte(roles), &e.Roles) != nil || e.Roles == nil {
		e.Roles = []string{}
	}
	e.Addresses = strings.Fields(addresses)
	return nil
}
