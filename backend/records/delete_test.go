package records_test

import (
	"testing"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// S1: a delete by A stays pending; A cannot approve it; B approves; only
// then the tombstone exists; both steps are audited; restore brings it back.
func TestDualControlDeleteAndRestore(t *testing.T) {
	e := newEnv(t)
	pid := registered(t, e)
	cond, err := records.Save(ctx, e.s, e.actor, records.Conditions, "", "", ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "Asthma"}, Status: "active"}, "")
	if err != nil {
		t.Fatal(err)
	}
	a := e.actor
	b := records.Actor{UserID: "u2", Username: "dr.second", Roles: []string{"clinician"}, Session: "s2"}
	if _, err := e.s.RequestDeletion(ctx, a, cond.ID, "x"); ehr.ErrorFields(err)["reason"] == "" {
		t.Fatalf("no reason: %v", err)
	}
	req, err := e.s.RequestDeletion(ctx, a, cond.ID, "entered on the wrong patient")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.ApproveDeletion(ctx, a, req.ID); ehr.ErrorCode(err) != ehr.EForbidden {
		t.Fatalf("self-approval: %v", err)
	}
	if sum, _ := records.ChartSummary(ctx, e.s, a, pid); len(sum.Problems) != 1 {
		t.Fatal("deleted before approval")
	}
	pending, err := e.s.PendingDeletions(ctx)
	if err != nil || len(pending) != 1 || pending[0].RecordID != cond.ID || pending[0].Kind != ehr.KindCondition || pending[0].PatientID != pid {
		t.Fatalf("pending = %+v %v", pending, err)
	}
	if err := e.s.ApproveDeletion(ctx, b, req.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.s.ApproveDeletion(ctx, b, req.ID); ehr.ErrorCode(err) != ehr.ENotFound {
		t.Fatalf("second approval: %v", err)
	}
	if sum, _ := records.ChartSummary(ctx, e.s, a, pid); len(sum.Problems) != 0 {
		t.Fatal("a deleted problem is still in the summary")
	}
	hist, err := e.s.History(ctx, a, cond.ID)
	if err != nil || len(hist) != 2 || !hist[1].Deleted || string(hist[1].Body) != string(hist[0].Body) {
		t.Fatalf("history after delete: %d versions, %v", len(hist), err)
	}
	up := cond.Value
	if _, err := records.Save(ctx, e.s, a, records.Conditions, cond.ID, hist[1].VersionID, up, "edit"); ehr.ErrorCode(err) != ehr.EConflict {
		t.Fatalf("edit of a deleted record: %v", err)
	}
	var n int
	e.v.R.QueryRow("SELECT count(*) FROM audit WHERE action IN ('record.delete_request', 'record.delete_approve')").Scan(&n)
	if n != 2 {
		t.Errorf("audited steps = %d, want 2", n)
	}
	if err := e.s.Restore(ctx, b, cond.ID, "deleted by mistake"); err != nil {
		t.Fatal(err)
	}
	if sum, _ := records.ChartSummary(ctx, e.s, a, pid); len(sum.Problems) != 1 {
		t.Fatal("a restored problem is missing from the summary")
	}
	// A patient is deleted the same way and leaves search.
	req, err = e.s.RequestDeletion(ctx, a, pid, "duplicate registration")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.ApproveDeletion(ctx, b, req.ID); err != nil {
		t.Fatal(err)
	}
	if hits, _ := e.s.FindPatients(ctx, "phiri", 50); len(hits) != 0 {
		t.Fatalf("deleted patient still found: %v", hits)
	}
}

// A document is deleted and restored like any other record.
func TestDeleteEveryKind(t *testing.T) {
	e := newEnv(t)
	pid := registered(t, e)
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	doc, err := e.s.AddDocument(ctx, e.actor, pid, "Referral", pdf)
	if err != nil {
		t.Fatal(err)
	}
	b := records.Actor{UserID: "u2", Username: "dr.second", Roles: []string{"clinician"}, Session: "s2"}
	req, err := e.s.RequestDeletion(ctx, e.actor, doc.ID, "scanned the wrong page")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.ApproveDeletion(ctx, b, req.ID); err != nil {
		t.Fatalf("approve a document's deletion: %v", err)
	}
	if list, _ := records.List(ctx, e.s, e.actor, records.Documents, pid, 10); len(list) != 0 {
		t.Fatalf("deleted document still listed: %+v", list)
	}
	if err := e.s.Restore(ctx, b, doc.ID, "it was the right page"); err != nil {
		t.Fatal(err)
	}
	if list, _ := records.List(ctx, e.s, e.actor, records.Documents, pid, 10); len(list) != 1 {
		t.Fatalf("restored document not listed: %+v", list)
	}
}
