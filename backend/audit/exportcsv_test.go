package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/vault/vaulttest"
)

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"dr.ama":                   "dr.ama",
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+1":                       "'+1",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tcmd":                    "'\tcmd",
		"\rcmd":                    "'\rcmd",
		" =not first":              " =not first",
		"a=b":                      "a=b",
		"'quoted":                  "'quoted",
	} {
		if got := audit.CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every field of every selected event, after a header row, in RFC 4180
// CSV that reads back exactly, with formulas defused.
func TestWriteCSV(t *testing.T) {
	ctx := context.Background()
	v := vaulttest.New(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 250_000_000, time.UTC)
	log := &audit.Log{Device: "dev-1", Workstation: "=ward", Now: func() time.Time { return at }, OSUser: "clinic",
		Addresses: func() []string { return []string{"192.0.2.7", "2001:db8::1"} }}
	detail := "said \"hi\", then\r\nleft; =1+1"
	events := []audit.Event{
		{Username: "dr.ama", Roles: []string{"clinician", "nurse"}, Action: "patient.breakglass", Outcome: audit.Success,
			PatientID: "p1", RecordID: "p1", Session: "s1", Detail: detail, Reason: "-unconscious, no id", OnBehalfOf: "guardian: @mother"},
		{Username: "+ghost", Action: "user.login", Outcome: audit.Failure},
	}
	for _, e := range events {
		if err := log.Record(ctx, v.W, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := audit.RefreshView(ctx, v.W); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := audit.WriteCSV(ctx, v.R, audit.Filter{}, &buf)
	if err != nil || n != 2 {
		t.Fatalf("WriteCSV: %d, %v", n, err)
	}
	out := buf.String()
	if !strings.HasSuffix(out, "\r\n") || strings.Count(out, "\r\n") < 3 {
		t.Errorf("lines do not end in CRLF: %q", out)
	}
	r := csv.NewReader(strings.NewReader(out))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, out)
	}
	if len(rows) != 3 || !slices.Equal(rows[0], audit.CSVHeader) {
		t.Fatalf("rows %q", rows)
	}
	stored, _, err := audit.Query(ctx, v.R, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]string{}
	for i, h := range rows[0] {
		row[h] = rows[1][i]
	}
	e := stored[0]
	want := map[string]string{
		"seq": "1", "at": "2026-03-01T09:00:00.25Z", "username": "dr.ama", "roles": "clinician nurse", "action": "patient.breakglass",
		"outcome": "success", "patient_id": "p1", "record_id": "p1", "device": "dev-1", "workstation": "'=ward", "os_user": "clinic",
		"addresses": "192.0.2.7 2001:db8::1", "session": "s1", "reason": "'-unconscious, no id", "on_behalf_of": "guardian: @mother",
		"detail":    strings.ReplaceAll(detail, "\r\n", "\n"), // encoding/csv reads a quoted CRLF as LF
		"prev_hash": audit.Genesis, "hash": e.Hash,
	}
	for k, w := range want {
		if row[k] != w {
			t.Errorf("%s = %q, want %q", k, row[k], w)
		}
	}
	if len(want) != len(audit.CSVHeader) {
		t.Errorf("checked %d of %d columns", len(want), len(audit.CSVHeader))
	}
	if rows[2][2] != "'+ghost" || rows[2][5] != "failure" || rows[2][17] != stored[1].Hash {
		t.Errorf("second row %q", rows[2])
	}
	// The detail's CRLF is kept inside its quoted cell.
	if !strings.Contains(out, `"said ""hi"", then`+"\r\n"+`left; =1+1"`) {
		t.Errorf("detail not quoted as RFC 4180 says: %q", out)
	}

	// A filter that selects nothing still writes the header.
	buf.Reset()
	if n, err := audit.WriteCSV(ctx, v.R, audit.Filter{Username: "nobody"}, &buf); err != nil || n != 0 ||
		buf.String() != strings.Join(audit.CSVHeader, ",")+"\r\n" {
		t.Errorf("empty export: %d %v %q", n, err, buf.String())
	}
	// A bad filter writes nothing.
	buf.Reset()
	if _, err := audit.WriteCSV(ctx, v.R, audit.Filter{Sort: "nope"}, &buf); err == nil || buf.Len() != 0 {
		t.Errorf("bad filter: %v, %q", err, buf.String())
	}
}
