package audit

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"outpost/backend/vault/vaulttest"
)

// The viewer's filters and sorts are served by the indexes of audit_view
// (schema 7), not by reading the whole log, and a user's or an action's
// events come newest first straight from the index (a range of times or
// actions is sorted once read).
func TestQueryUsesIndexes(t *testing.T) {
	v := vaulttest.New(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		f     Filter
		index string
	}{
		{Filter{Username: "dr.ama", Desc: true}, "audit_view_username"},
		{Filter{Username: "dr.ama", Action: "patient.read", Desc: true}, "audit_view_username_action"},
		{Filter{Action: "patient.read", Desc: true}, "audit_view_action"},
		{Filter{Action: "patient.*"}, "audit_view_action"},
		{Filter{PatientID: "p1", Desc: true}, "audit_view_patient"},
		{Filter{From: at, To: at.Add(time.Hour)}, "audit_view_at"},
		{Filter{Sort: SortUsername}, "audit_view_username"},
		{Filter{Sort: SortAction, Desc: true}, "audit_view_action"},
		{Filter{Sort: SortOutcome}, "audit_view_outcome"},
		{Filter{Sort: SortPatient, Desc: true}, "audit_view_patient"},
		{Filter{Sort: SortWorkstation}, "audit_view_workstation"},
		{Filter{Outcome: Denied, Desc: true}, "audit_view_outcome"},
	}
	for _, tt := range tests {
		where, args, err := tt.f.check()
		if err != nil {
			t.Fatal(err)
		}
		rows, err := v.R.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+qSeqs+where+tt.f.order()+qPage, append(args, 100, 0)...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !regexp.MustCompile(`INDEX ` + tt.index + `\b`).MatchString(p) {
			t.Errorf("%+v: plan %q does not use %s", tt.f, p, tt.index)
		}
		exact := tt.f.From.IsZero() && !strings.HasSuffix(tt.f.Action, "*") // a range is sorted after it is read
		if exact && strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%+v: plan %q sorts the events itself", tt.f, p)
		}
	}
}
