package app

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/ehr"
)

// AuditFilter is the audit viewer's filter form. From and To are a date
// (YYYY-MM-DD, in this computer's time zone) or a date and time (RFC
// 3339); both are inclusive: To as a date takes in that whole day, as a
// time that whole second. Empty members select everything. Action ending
// in "*" matches a prefix ("patient.*"). Sort is one of seq, at,
// username, action, outcome, patient, workstation ("" is seq); Limit 0
// is a page of 100, at most 1000.
type AuditFilter struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Username  string `json:"username"`
	PatientID string `json:"patientId"`
	Action    string `json:"action"`
	Outcome   string `json:"outcome"`
	Sort      string `json:"sort"`
	Desc      bool   `json:"desc"`
	Limit     int    `json:"limit"`
	Offset    int    `json:"offset"`
}

// AuditEntry is one audit event as the viewer shows it: every member,
// times in RFC 3339 UTC.
type AuditEntry struct {
	Seq         int64    `json:"seq"`
	At          string   `json:"at"`
	Username    string   `json:"username"`
	Roles       []string `json:"roles"`
	Action      string   `json:"action"`
	Outcome     string   `json:"outcome"`
	PatientID   string   `json:"patientId"`
	RecordID    string   `json:"recordId"`
	Device      string   `json:"device"`
	Workstation string   `json:"workstation"`
	OSUser      string   `json:"osUser"`
	Addresses   []string `json:"addresses"`
	Session     string   `json:"session"`
	Reason      string   `json:"reason"`
	OnBehalfOf  string   `json:"onBehalfOf"`
	Detail      string   `json:"detail"`
	PrevHash    string   `json:"prevHash"`
	Hash        string   `json:"hash"`
}

// AuditPage is one page of the events a filter selects, and how many it
// selects in all.
type AuditPage struct {
	Events []AuditEntry `json:"events"`
	Total  int          `json:"total"`
	Offset int          `json:"offset"`
	Limit  int          `json:"limit"`
}

// AuditExportRequest asks for the events a filter selects (all of them:
// its limit and offset are ignored) as "csv" or "fhir" (FHIR R4
// AuditEvent NDJSON).
type AuditExportRequest struct {
	Format string      `json:"format"`
	Filter AuditFilter `json:"filter"`
}

// MaxAuditExport is the most events one export holds: the file is made in
// memory before the save dialog writes it. More asks for a narrower filter.
const MaxAuditExport = 100_000

// auditFilter reads the form into an audit.Filter; bad dates are field
// errors. Usernames are matched as stored (lower case, trimmed).
func (a *App) auditFilter(in AuditFilter) (audit.Filter, error) {
	bad := ehr.Invalid{}
	loc := a.cfg.Now().Location()
	from, ok := auditTime(in.From, loc, false)
	if !ok {
		bad.Add("from", "Enter a date (YYYY-MM-DD) or a date and time (RFC 3339).")
	}
	to, ok := auditTime(in.To, loc, true)
	if !ok {
		bad.Add("to", "Enter a date (YYYY-MM-DD) or a date and time (RFC 3339).")
	}
	f := audit.Filter{From: from, To: to, Username: auth.NormalizeUsername(in.Username), PatientID: strings.TrimSpace(in.PatientID),
		Action: strings.TrimSpace(in.Action), Outcome: strings.TrimSpace(in.Outcome), Sort: in.Sort, Desc: in.Desc, Limit: in.Limit, Offset: in.Offset}
	if err := bad.Err(); err != nil {
		return f, err
	}
	return f, nil
}

// auditTime parses a bound of the filter. A start is the beginning of its
// day or second; an end (exclusive in audit.Filter) the beginning of the
// next one, so the day or second it names is included.
func auditTime(s string, loc *time.Location, end bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, true
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, false
	}
	t = t.Truncate(time.Second)
	if end {
		t = t.Add(time.Second)
	}
	return t, true
}

// describe says what a filter asked for, for the audit event of its use
// (ids and usernames only, as every event).
func describe(f audit.Filter) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	if !f.From.IsZero() {
		add("from", f.From.UTC().Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		add("to", f.To.UTC().Format(time.RFC3339))
	}
	add("user", f.Username)
	add("patient", f.PatientID)
	add("action", f.Action)
	add("outcome", f.Outcome)
	sort := f.Sort
	if sort == "" {
		sort = audit.SortSeq
	}
	if f.Desc {
		sort += " desc"
	}
	add("sort", sort)
	return strings.Join(parts, " ")
}

func auditEntry(e *audit.Event) AuditEntry {
	at := ""
	if !e.At.IsZero() {
		at = e.At.UTC().Format(time.RFC3339Nano)
	}
	addrs := e.Addresses
	if addrs == nil {
		addrs = []string{}
	}
	roles := e.Roles
	if roles == nil {
		roles = []string{}
	}
	return AuditEntry{Seq: e.Seq, At: at, Username: e.Username, Roles: roles, Action: e.Action, Outcome: e.Outcome,
		PatientID: e.PatientID, RecordID: e.RecordID, Device: e.Device, Workstation: e.Workstation, OSUser: e.OSUser,
		Addresses: addrs, Session: e.Session, Reason: e.Reason, OnBehalfOf: e.OnBehalfOf, Detail: e.Detail,
		PrevHash: e.PrevHash, Hash: e.Hash}
}

// ListAudit returns a page of the audit trail for the security officer
// and the auditor, up to the events written before the call. Looking is
// itself audited ("audit.read", with the filter); if that cannot be
// written, nothing is shown.
func (a *App) ListAudit(in AuditFilter) (AuditPage, error) {
	c, err := a.begin("ListAudit")
	if err != nil {
		return AuditPage{}, err
	}
	f, err := a.auditFilter(in)
	if err != nil {
		return AuditPage{}, problem(a.cfg.Log, "ListAudit", err)
	}
	if err := audit.RefreshView(c.ctx, c.svc.Vault.W); err != nil {
		return AuditPage{}, problem(a.cfg.Log, "ListAudit", err)
	}
	// sqlcheck: audit.Query takes a Filter, not SQL (the name trips the check); its statements are constant fragments.
	events, total, err := audit.Query(c.ctx, c.svc.Vault.R, f)
	if err != nil {
		return AuditPage{}, problem(a.cfg.Log, "ListAudit", err)
	}
	limit := f.Limit
	if limit == 0 {
		limit = audit.DefaultLimit
	}
	detail := fmt.Sprintf("%s; %d of %d from %d", describe(f), len(events), total, f.Offset)
	if err := c.svc.Audit.Record(c.ctx, c.svc.Vault.W, audit.Event{Username: c.actor.Username, Roles: c.actor.Roles, Session: c.actor.Session,
		Action: "audit.read", Outcome: audit.Success, PatientID: f.PatientID, Detail: detail}); err != nil {
		return AuditPage{}, problem(a.cfg.Log, "ListAudit", err)
	}
	page := AuditPage{Events: make([]AuditEntry, 0, len(events)), Total: total, Offset: f.Offset, Limit: limit}
	for i := range events {
		page.Events = append(page.Events, auditEntry(&events[i]))
	}
	return page, nil
}

// SaveAuditExport writes the events a filter selects as CSV or FHIR R4
// AuditEvent NDJSON where the user chooses; the copy is audited
// ("audit.export") once written.
func (a *App) SaveAuditExport(req AuditExportRequest) (SavedFile, error) {
	c, err := a.begin("SaveAuditExport")
	if err != nil {
		return SavedFile{}, err
	}
	const method = "SaveAuditExport"
	bad := ehr.Invalid{}
	ext := map[string]string{"csv": "csv", "fhir": "ndjson"}[req.Format]
	if ext == "" {
		bad.Add("format", "Choose CSV or FHIR AuditEvent.")
	}
	f, err := a.auditFilter(req.Filter)
	if e := (*ehr.Error)(nil); errors.As(err, &e) {
		for k, m := range e.Fields {
			bad.Add(k, m)
		}
	}
	f.Limit, f.Offset = 0, 0
	if err := bad.Err(); err != nil {
		return SavedFile{}, problem(a.cfg.Log, method, err)
	}
	if err := audit.RefreshView(c.ctx, c.svc.Vault.W); err != nil {
		return SavedFile{}, problem(a.cfg.Log, method, err)
	}
	// sqlcheck: audit.Query takes a Filter, not SQL (the name trips the check); its statements are constant fragments.
	_, total, err := audit.Query(c.ctx, c.svc.Vault.R, audit.Filter{From: f.From, To: f.To, Username: f.Username,
		PatientID: f.PatientID, Action: f.Action, Outcome: f.Outcome, Limit: 1})
	if err != nil {
		return SavedFile{}, problem(a.cfg.Log, method, err)
	}
	if total > MaxAuditExport {
		return SavedFile{}, problem(a.cfg.Log, method, &ehr.Error{Code: ehr.EInvalid,
			Message: fmt.Sprintf("%d events match; at most %d can be exported at once. Choose a shorter time range.", total, MaxAuditExport),
			Fields:  map[string]string{"from": "Choose a shorter time range."}})
	}
	var buf bytes.Buffer
	if req.Format == "csv" {
		_, err = audit.WriteCSV(c.ctx, c.svc.Vault.R, f, &buf)
	} else {
		_, err = audit.WriteAuditEvents(c.ctx, c.svc.Vault.R, f, &buf)
	}
	if err != nil {
		return SavedFile{}, problem(a.cfg.Log, method, err)
	}
	name := fmt.Sprintf("outpost-audit-%s.%s", a.cfg.Now().Format("2006-01-02"), ext)
	return a.save(c, "audit.export", f.PatientID, "", name, buf.Bytes())
}
