package audit

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CSVHeader names the columns of a CSV export: every member of an event.
// Roles and addresses are space-separated; times are RFC 3339 UTC as
// stored (hashed).
var CSVHeader = []string{"seq", "at", "username", "roles", "action", "outcome", "patient_id", "record_id",
	"device", "workstation", "os_user", "addresses", "session", "reason", "on_behalf_of", "detail", "prev_hash", "hash"}

// CSVWriter writes events as CSV (RFC 4180: CRLF line ends, quoted where
// needed) after a header row. A cell that a spreadsheet would read as a
// formula (beginning with =, +, -, @, a tab or a carriage return) is
// written with a single quote in front, so opening the file never runs
// anything an event's text holds.
type CSVWriter struct {
	w      *csv.Writer
	header bool
	row    []string
}

// NewCSVWriter returns a CSVWriter on w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSVWriter{w: cw, row: make([]string, len(CSVHeader))}
}

// Write writes one event (the header row first, once).
func (c *CSVWriter) Write(e *Event) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	at := ""
	if !e.At.IsZero() {
		at = e.At.UTC().Format(timeFormat)
	}
	r := c.row
	r[0], r[1], r[2], r[3] = strconv.FormatInt(e.Seq, 10), at, e.Username, strings.Join(e.Roles, " ")
	r[4], r[5], r[6], r[7] = e.Action, e.Outcome, e.PatientID, e.RecordID
	r[8], r[9], r[10], r[11] = e.Device, e.Workstation, e.OSUser, strings.Join(e.Addresses, " ")
	r[12], r[13], r[14], r[15] = e.Session, e.Reason, e.OnBehalfOf, e.Detail
	r[16], r[17] = e.PrevHash, e.Hash
	for i := range r {
		r[i] = CSVCell(r[i])
	}
	return c.w.Write(r)
}

func (c *CSVWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.w.Write(CSVHeader)
}

// Flush writes out what is buffered (the header alone when no event was
// written) and reports any error of the writes.
func (c *CSVWriter) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

// CSVCell defuses a cell a spreadsheet would take for a formula by
// putting a single quote in front of it (OWASP's advice on CSV
// injection).
func CSVCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// WriteCSV writes the events f selects (all of them: f.Limit and f.Offset
// are ignored) to w as CSV and returns how many it wrote.
func WriteCSV(ctx context.Context, db *sql.DB, f Filter, w io.Writer) (int, error) {
	cw := NewCSVWriter(w)
	n := 0
	err := Each(ctx, db, f, func(e *Event) error {
		n++
		return cw.Write(e)
	})
	if err != nil {
		return 0, err
	}
	if err := cw.Flush(); err != nil {
		return 0, fmt.Errorf("audit csv: %w", err)
	}
	return n, nil
}
