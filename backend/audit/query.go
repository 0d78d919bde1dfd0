package audit

import (
	"context"
	"database/sql"
	"encoding/json"
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
// fixed qOrders table; every value travels as a parameter.
const (
	qColumns = `SELECT seq, at, username, roles, action, outcome, patient_id, record_id, device, workstation, session, detail,
		os_user, addresses, reason, on_behalf_of, prev_hash, hash FROM audit`
	qCount       = `SELECT count(*) FROM audit`
	qWhere       = ` WHERE 1 = 1`
	qFrom        = ` AND at >= ?`
	qTo          = ` AND at < ?`
	qUsername    = ` AND username = ?`
	qPatient     = ` AND patient_id = ? AND patient_id <> ''` // the second term lets the partial index audit_patient serve
	qAction      = ` AND action = ?`
	qActionRange = ` AND action >= ? AND action < ?`
	qOutcome     = ` AND outcome = ?`
	qPage        = ` LIMIT ? OFFSET ?`
)

// qOrders gives each sort column its ORDER BY, ascending and descending.
var qOrders = map[string][2]string{
	SortSeq:         {` ORDER BY seq`, ` ORDER BY seq DESC`},
	SortAt:          {` ORDER BY seq`, ` ORDER BY seq DESC`},
	SortUsername:    {` ORDER BY username, seq`, ` ORDER BY username DESC, seq DESC`},
	SortAction:      {` ORDER BY action, seq`, ` ORDER BY action DESC, seq DESC`},
	SortOutcome:     {` ORDER BY outcome, seq`, ` ORDER BY outcome DESC, seq DESC`},
	SortPatient:     {` ORDER BY patient_id, seq`, ` ORDER BY patient_id DESC, seq DESC`},
	SortWorkstation: {` ORDER BY workstation, seq`, ` ORDER BY workstation DESC, seq DESC`},
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
// many events it selects in all. A bad filter is an ehr EInvalid error
// naming its fields.
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
	if total > f.Offset {
		// sqlcheck: constant q* fragments and an ORDER BY from the fixed qOrders table; values are parameters.
		rows, err := tx.QueryContext(ctx, qColumns+where+f.order()+qPage, append(args, limit, f.Offset)...)
		if err != nil {
			return nil, 0, fmt.Errorf("audit query: %w", err)
		}
		events, err = collect(rows, limit)
		if err != nil {
			return nil, 0, err
		}
	}
	return events, total, nil
}

// Each calls fn with every event f selects, in its order, ignoring
// f.Limit and f.Offset, until fn returns an error; for exports.
func Each(ctx context.Context, db *sql.DB, f Filter, fn func(*Event) error) error {
	f.Limit, f.Offset = 0, 0
	where, args, err := f.check()
	if err != nil {
		return err
	}
	// sqlcheck: constant q* fragments and an ORDER BY from the fixed qOrders table; values are parameters.
	rows, err := db.QueryContext(ctx, qColumns+where+f.order(), args...)
	if err != nil {
		return fmt.Errorf("audit query: %w", err)
	}
	defer rows.Close()
	var e Event
	for rows.Next() {
		if err := scanEvent(rows, &e); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit query: %w", err)
	}
	return nil
}

func collect(rows *sql.Rows, capacity int) ([]Event, error) {
	defer rows.Close()
	events := make([]Event, 0, min(capacity, 128))
	for rows.Next() {
		var e Event
		if err := scanEvent(rows, &e); err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit query: %w", err)
	}
	return events, nil
}

// scanEvent reads a row of qColumns into e. A row whose time or roles do
// not decode (a damaged row) is still returned, with a zero time or no
// roles, so the viewer never hides an event; the verifier judges it.
func scanEvent(rows *sql.Rows, e *Event) error {
	var at, roles, addresses string
	if err := rows.Scan(&e.Seq, &at, &e.Username, &roles, &e.Action, &e.Outcome, &e.PatientID, &e.RecordID,
		&e.Device, &e.Workstation, &e.Session, &e.Detail, &e.OSUser, &addresses, &e.Reason, &e.OnBehalfOf,
		&e.PrevHash, &e.Hash); err != nil {
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
