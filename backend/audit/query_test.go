package audit_test

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/vault"
	"outpost/backend/vault/vaulttest"
)

// viewerLog fills a real vault with events of several users, actions,
// outcomes, patients and workstations, one minute apart from base (the
// 4th half a second past its minute), and returns them as stored.
func viewerLog(t *testing.T) (*vault.Vault, []audit.Event, time.Time) {
	t.Helper()
	ctx := context.Background()
	v := vaulttest.New(t)
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	at := base
	now := func() time.Time { return at }
	logs := map[string]*audit.Log{
		"ward":  {Device: "dev-1", Workstation: "ward", Now: now, OSUser: "clinic", Addresses: func() []string { return []string{"192.0.2.7", "127.0.0.1"} }},
		"front": {Device: "dev-1", Workstation: "front", Now: now},
	}
	type ev struct{ ws, user, action, outcome, patient, record string }
	in := []ev{
		{"ward", "dr.ama", "user.login", audit.Success, "", "u1"},
		{"ward", "dr.ama", "patient.register", audit.Success, "p1", "p1"},
		{"front", "clerk.sam", "patient.search", audit.Success, "", ""},
		{"ward", "dr.ama", "patient.read", audit.Success, "p1", "p1"},
		{"front", "clerk.sam", "ChartSummary", audit.Denied, "", ""},
		{"ward", "nurse.eve", "encounter.create", audit.Success, "p2", "e1"},
		{"front", "ghost", "user.login", audit.Failure, "", ""},
		{"ward", "nurse.eve", "patient.read", audit.Success, "p2", "p2"},
		{"front", "dr.ama", "patient.update", audit.Success, "p1", "p1"},
		{"ward", "nurse.eve", "user.logout", audit.Success, "", "u3"},
	}
	for i, x := range in {
		at = base.Add(time.Duration(i) * time.Minute)
		if i == 3 {
			at = at.Add(500 * time.Millisecond)
		}
		err := logs[x.ws].Record(ctx, v.W, audit.Event{Username: x.user, Roles: []string{"clinician"}, Action: x.action,
			Outcome: x.outcome, PatientID: x.patient, RecordID: x.record, Session: "s-" + x.user})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := audit.RefreshView(ctx, v.W); err != nil {
		t.Fatal(err)
	}
	all, total, err := audit.Query(ctx, v.R, audit.Filter{})
	if err != nil || total != len(in) || len(all) != len(in) {
		t.Fatalf("query everything: %d of %d, %v", len(all), total, err)
	}
	return v, all, base
}

func seqs(events []audit.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.Seq
	}
	return out
}

func TestQueryFilters(t *testing.T) {
	ctx := context.Background()
	v, all, base := viewerLog(t)
	if e := all[0]; e.Seq != 1 || e.Workstation != "ward" || e.OSUser != "clinic" || !slices.Equal(e.Addresses, []string{"192.0.2.7"}) ||
		!slices.Equal(e.Roles, []string{"clinician"}) || !e.At.Equal(base) || e.Hash == "" || e.PrevHash != audit.Genesis {
		t.Errorf("first event read back as %+v", e)
	}
	if !all[3].At.Equal(base.Add(3*time.Minute + 500*time.Millisecond)) {
		t.Errorf("fractional time read back as %v", all[3].At)
	}
	tests := []struct {
		name string
		f    audit.Filter
		want []int64
	}{
		{"user", audit.Filter{Username: "dr.ama"}, []int64{1, 2, 4, 9}},
		{"user and action", audit.Filter{Username: "dr.ama", Action: "patient.read"}, []int64{4}},
		{"action", audit.Filter{Action: "user.login"}, []int64{1, 7}},
		{"action prefix", audit.Filter{Action: "patient.*"}, []int64{2, 3, 4, 8, 9}},
		{"action prefix without the dot", audit.Filter{Action: "user*"}, []int64{1, 7, 10}},
		{"star alone", audit.Filter{Action: "*"}, seqs(all)},
		{"outcome", audit.Filter{Outcome: audit.Denied}, []int64{5}},
		{"failures", audit.Filter{Outcome: audit.Failure}, []int64{7}},
		{"patient", audit.Filter{PatientID: "p1"}, []int64{2, 4, 9}},
		{"patient and user", audit.Filter{PatientID: "p2", Username: "nurse.eve"}, []int64{6, 8}},
		// From is inclusive, To exclusive, both to the second: 09:03:00.5 is in 09:03:00.
		{"from", audit.Filter{From: base.Add(7 * time.Minute)}, []int64{8, 9, 10}},
		{"to", audit.Filter{To: base.Add(3 * time.Minute)}, []int64{1, 2, 3}},
		{"the second of a fractional time", audit.Filter{From: base.Add(3 * time.Minute), To: base.Add(3*time.Minute + time.Second)}, []int64{4}},
		{"fraction of a bound dropped", audit.Filter{From: base.Add(3*time.Minute + 900*time.Millisecond), To: base.Add(4 * time.Minute)}, []int64{4}},
		{"range in another zone", audit.Filter{From: base.Add(time.Minute).In(time.FixedZone("CAT", 2*3600)), To: base.Add(3 * time.Minute).In(time.FixedZone("X", -5*3600))}, []int64{2, 3}},
		{"nothing", audit.Filter{Username: "nobody"}, []int64{}},
		// Values only ever travel as parameters.
		{"quote in a value", audit.Filter{Username: "x' OR '1'='1"}, []int64{}},
		{"case matters", audit.Filter{Username: "DR.AMA"}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := audit.Query(ctx, v.R, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seqs(got), tt.want) || total != len(tt.want) {
				t.Errorf("got %v (total %d), want %v", seqs(got), total, tt.want)
			}
			// Each selects the same events, ignoring paging.
			var each []int64
			tt.f.Limit, tt.f.Offset = 1, 1
			if err := audit.Each(ctx, v.R, tt.f, func(e *audit.Event) error { each = append(each, e.Seq); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(each, tt.want) && !(len(each) == 0 && len(tt.want) == 0) {
				t.Errorf("Each: %v, want %v", each, tt.want)
			}
		})
	}
}

func TestQuerySortsEveryColumn(t *testing.T) {
	ctx := context.Background()
	v, all, _ := viewerLog(t)
	keys := map[string]func(audit.Event) string{
		audit.SortUsername:    func(e audit.Event) string { return e.Username },
		audit.SortAction:      func(e audit.Event) string { return e.Action },
		audit.SortOutcome:     func(e audit.Event) string { return e.Outcome },
		audit.SortPatient:     func(e audit.Event) string { return e.PatientID },
		audit.SortWorkstation: func(e audit.Event) string { return e.Workstation },
		audit.SortSeq:         func(audit.Event) string { return "" },
		audit.SortAt:          func(audit.Event) string { return "" },
		"":                    func(audit.Event) string { return "" },
	}
	for col, key := range keys {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(all)
			slices.SortFunc(want, func(a, b audit.Event) int {
				c := cmp.Or(strings.Compare(key(a), key(b)), cmp.Compare(a.Seq, b.Seq))
				if desc {
					return -c
				}
				return c
			})
			got, _, err := audit.Query(ctx, v.R, audit.Filter{Sort: col, Desc: desc})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seqs(got), seqs(want)) {
				t.Errorf("sort %q desc=%v: %v, want %v", col, desc, seqs(got), seqs(want))
			}
		}
	}
	// Sorted and filtered at once.
	got, _, err := audit.Query(ctx, v.R, audit.Filter{Action: "patient.*", Sort: audit.SortUsername, Desc: true})
	if err != nil || !slices.Equal(seqs(got), []int64{8, 9, 4, 2, 3}) {
		t.Errorf("filtered and sorted: %v, %v", seqs(got), err)
	}
}

func TestQueryPages(t *testing.T) {
	ctx := context.Background()
	v, _, _ := viewerLog(t)
	var pages [][]int64
	for off := 0; off < 12; off += 4 {
		got, total, err := audit.Query(ctx, v.R, audit.Filter{Desc: true, Limit: 4, Offset: off})
		if err != nil || total != 10 {
			t.Fatalf("offset %d: total %d, %v", off, total, err)
		}
		pages = append(pages, seqs(got))
	}
	want := [][]int64{{10, 9, 8, 7}, {6, 5, 4, 3}, {2, 1}}
	if !slices.EqualFunc(pages, want, slices.Equal) {
		t.Errorf("pages %v, want %v", pages, want)
	}
	got, total, err := audit.Query(ctx, v.R, audit.Filter{Offset: 50})
	if err != nil || len(got) != 0 || total != 10 || got == nil {
		t.Errorf("past the end: %v (total %d), %v", got, total, err)
	}
	// Without a limit, a page is DefaultLimit events; MaxLimit is allowed.
	for range audit.DefaultLimit {
		if err := (&audit.Log{Device: "d", Workstation: "w", Now: time.Now}).Record(ctx, v.W, audit.Event{Username: "bulk", Action: "patient.read", Outcome: audit.Success}); err != nil {
			t.Fatal(err)
		}
	}
	if err := audit.RefreshView(ctx, v.W); err != nil {
		t.Fatal(err)
	}
	if got, total, err := audit.Query(ctx, v.R, audit.Filter{}); err != nil || len(got) != audit.DefaultLimit || total != 10+audit.DefaultLimit {
		t.Errorf("default page: %d of %d, %v", len(got), total, err)
	}
	if got, _, err := audit.Query(ctx, v.R, audit.Filter{Limit: audit.MaxLimit}); err != nil || len(got) != 10+audit.DefaultLimit {
		t.Errorf("largest page: %d, %v", len(got), err)
	}
}

func TestQueryRefusesBadFilters(t *testing.T) {
	ctx := context.Background()
	v := vaulttest.New(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		f     audit.Filter
		field string
	}{
		{audit.Filter{Sort: "hash"}, "sort"},
		{audit.Filter{Sort: "seq; DROP TABLE audit"}, "sort"},
		{audit.Filter{Sort: "username DESC"}, "sort"},
		{audit.Filter{Limit: audit.MaxLimit + 1}, "limit"},
		{audit.Filter{Limit: -1}, "limit"},
		{audit.Filter{Offset: -1}, "offset"},
		{audit.Filter{Outcome: "ok"}, "outcome"},
		{audit.Filter{From: at, To: at}, "to"},
		{audit.Filter{From: at, To: at.Add(-time.Hour)}, "to"},
		{audit.Filter{Action: "bad\xff*"}, "action"},
	}
	for _, tt := range tests {
		_, _, err := audit.Query(ctx, v.R, tt.f)
		var e *ehr.Error
		if !errors.As(err, &e) || e.Code != ehr.EInvalid || e.Fields[tt.field] == "" {
			t.Errorf("%+v: %v, want a message for %s", tt.f, err, tt.field)
		}
		if err := audit.Each(ctx, v.R, tt.f, func(*audit.Event) error { return nil }); err == nil && tt.field != "limit" && tt.field != "offset" {
			t.Errorf("Each %+v: no error", tt.f)
		}
	}
	if _, err := v.R.Exec("SELECT 1 FROM audit"); err != nil {
		t.Fatalf("the audit table is gone: %v", err)
	}
}

// Each stops at the first error of its callback and returns it.
func TestEachStops(t *testing.T) {
	v, _, _ := viewerLog(t)
	stop := errors.New("stop")
	n := 0
	err := audit.Each(context.Background(), v.R, audit.Filter{}, func(*audit.Event) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("Each: %d events, %v", n, err)
	}
}

// The viewer's copy follows the log: in batches, only what is new, and
// without what a purge removed; Query sees it as of the last refresh.
func TestRefreshView(t *testing.T) {
	ctx := context.Background()
	v := vaulttest.New(t)
	log := &audit.Log{Device: "d", Workstation: "w", Now: time.Now}
	add := func(n int) {
		t.Helper()
		tx, err := v.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if _, err := log.Append(ctx, tx, audit.Event{Username: []string{"dr.a", "nurse.b"}[i%2], Action: "patient.read", Outcome: audit.Success}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	total := func(f audit.Filter) int {
		t.Helper()
		_, n, err := audit.Query(ctx, v.R, f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := audit.RefreshView(ctx, v.W); err != nil || total(audit.Filter{}) != 0 {
		t.Fatalf("empty log: %d, %v", total(audit.Filter{}), err)
	}
	// More than a batch (5000 each).
	add(12000)
	if n := total(audit.Filter{}); n != 0 {
		t.Errorf("before a refresh Query sees %d events", n)
	}
	if err := audit.RefreshView(ctx, v.W); err != nil {
		t.Fatal(err)
	}
	if n, u := total(audit.Filter{}), total(audit.Filter{Username: "dr.a"}); n != 12000 || u != 6000 {
		t.Errorf("after a refresh: %d events, %d of dr.a", n, u)
	}
	add(3)
	if err := audit.RefreshView(ctx, v.W); err != nil || total(audit.Filter{}) != 12003 {
		t.Errorf("catching up: %d, %v", total(audit.Filter{}), err)
	}
	// A purge removes the oldest events (with dual control, elsewhere).
	for _, stmt := range []string{"DROP TRIGGER audit_immutable_delete", "DELETE FROM audit WHERE seq <= 1000"} {
		if _, err := v.W.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	if err := audit.RefreshView(ctx, v.W); err != nil {
		t.Fatal(err)
	}
	got, n, err := audit.Query(ctx, v.R, audit.Filter{Limit: 1})
	if err != nil || n != 11003 || len(got) != 1 || got[0].Seq != 1001 {
		t.Errorf("after a purge: %d events from %v, %v", n, seqs(got), err)
	}
	// Every event purged.
	if _, err := v.W.Exec("DELETE FROM audit"); err != nil {
		t.Fatal(err)
	}
	if err := audit.RefreshView(ctx, v.W); err != nil || total(audit.Filter{}) != 0 {
		t.Errorf("all purged: %d, %v", total(audit.Filter{}), err)
	}
}
