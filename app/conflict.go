package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// Conflicts: a clinical record that two laptops changed offline has two
// (or more) heads after sync. The Conflicts list shows them side by side;
// the clinician keeps one or merges them (records.Resolve), which writes
// one version whose parents are all the heads. No version is removed.

// ConflictVersion is one head of a conflicted record.
type ConflictVersion struct {
	VersionID string            `json:"versionId"`
	Author    string            `json:"author"`
	Device    string            `json:"device"`
	At        string            `json:"at"`
	Deleted   bool              `json:"deleted"`
	Reason    string            `json:"reason"`
	Body      string            `json:"body"`   // canonical JSON of this head
	Fields    map[string]string `json:"fields"` // flattened as record history shows them
	// Values are the head's domain fields (ConflictItem.Fields) as text:
	// the names a merge chooses by (ResolveRequest.Choose).
	Values map[string]string `json:"values"`
}

// ConflictItem is a conflicted record with its heads.
type ConflictItem struct {
	RecordID    string `json:"recordId"`
	Kind        string `json:"kind"`
	PatientID   string `json:"patientId"`
	PatientName string `json:"patientName"`
	// Fields are the record kind's domain fields, in the kind's order:
	// the keys of every head's Values.
	Fields []string          `json:"fields"`
	Heads  []ConflictVersion `json:"heads"`
}

// ResolveRequest is the clinician's decision.
type ResolveRequest struct {
	RecordID string   `json:"recordId"`
	Heads    []string `json:"heads"` // the head version ids the clinician saw
	Keep     string   `json:"keep"`  // a head kept as it is, or ""
	// Choose merges field by field: domain field name → the head whose
	// value is kept; the other fields come from Base ("" for the newest
	// live head).
	Choose map[string]string `json:"choose"`
	Base   string            `json:"base"`
	Body   string            `json:"body"` // a merged canonical JSON body (the older way to merge)
	Reason string            `json:"reason"`
}

// maxChoices bounds a merge's choices (a patient has the most fields).
const maxChoices = 64

// maxMergedBody bounds a merged body (a note is the longest record).
const maxMergedBody = 1 << 20

// ListConflicts lists the clinical conflicts of one patient, or all of
// them for patientID "", leaving out restricted charts the user may not
// open.
func (a *App) ListConflicts(patientID string) ([]ConflictItem, error) {
	c, err := a.begin("ListConflicts")
	if err != nil {
		return nil, err
	}
	ds, err := c.svc.Records.ConflictDetails(c.ctx, c.actor, patientID)
	if err != nil {
		return nil, problem(a.cfg.Log, "ListConflicts", err)
	}
	out := make([]ConflictItem, 0, len(ds))
	for _, d := range ds {
		it := ConflictItem{RecordID: d.RecordID, Kind: d.Kind, PatientID: d.PatientID, PatientName: d.PatientName, Fields: []string{},
			Heads: make([]ConflictVersion, 0, len(d.Heads))}
		for _, h := range d.Heads {
			val, err := records.Decode(h.Kind, h.Body)
			if err != nil {
				return nil, problem(a.cfg.Log, "ListConflicts", err)
			}
			names, values, err := domainValues(val)
			if err != nil {
				return nil, problem(a.cfg.Log, "ListConflicts", err)
			}
			for _, n := range names { // the union: a head may leave out an empty field
				if !slices.Contains(it.Fields, n) {
					it.Fields = append(it.Fields, n)
				}
			}
			it.Heads = append(it.Heads, ConflictVersion{VersionID: h.VersionID, Author: h.Author, Device: h.Device,
				At: h.HLC.Time().UTC().Format(time.RFC3339), Deleted: h.Deleted, Reason: h.Reason, Body: string(h.Body),
				Fields: flatten(val), Values: values})
		}
		out = append(out, it)
	}
	return out, nil
}

// ResolveConflict writes the version that ends a conflict: the kept head
// or the merged body, with a reason. It is refused when the heads changed
// since the clinician looked.
func (a *App) ResolveConflict(req ResolveRequest) error {
	c, err := a.begin("ResolveConflict")
	if err != nil {
		return err
	}
	v := ehr.Invalid{}
	if !ehr.ValidID(req.RecordID) {
		v.Add("recordId", "Choose the record to resolve.")
	}
	if len(req.Heads) < 2 || len(req.Heads) > 16 {
		v.Add("heads", "Give the versions you compared (two or more).")
	}
	ways := 0
	for _, set := range []bool{req.Keep != "", len(req.Choose) > 0, req.Body != ""} {
		if set {
			ways++
		}
	}
	switch {
	case ways > 1:
		v.Add("keep", "Keep one version, or merge them; not both.")
	case ways == 0:
		v.Add("keep", "Keep one of the versions, or merge them.")
	case len(req.Body) > maxMergedBody:
		v.Add("body", "The merged record is too large.")
	case len(req.Choose) > maxChoices:
		v.Add("choose", "Too many fields chosen.")
	case req.Base != "" && len(req.Choose) == 0:
		v.Add("base", "A base version is given only with the fields chosen.")
	}
	if len([]rune(strings.Join(strings.Fields(req.Reason), " "))) < 5 {
		v.Add("reason", "Say why this version is kept (at least 5 characters).")
	}
	if err := v.Err(); err != nil {
		return problem(a.cfg.Log, "ResolveConflict", err)
	}
	if _, err := c.svc.Records.Resolve(c.ctx, c.actor, records.Resolution{RecordID: req.RecordID, Heads: req.Heads, Keep: req.Keep,
		Choose: req.Choose, Base: req.Base, Body: []byte(req.Body), Reason: req.Reason}); err != nil {
		return problem(a.cfg.Log, "ResolveConflict", err)
	}
	return nil
}

// domainValues returns a decoded record's top-level domain fields (their
// JSON names, in the type's order) and each as text a person reads: text
// as it is, yes/no, numbers, a coded concept as its text and codes,
// anything else nested as "name: value" parts.
func domainValues(val any) ([]string, map[string]string, error) {
	raw, err := json.Marshal(val)
	if err != nil {
		return nil, nil, fmt.Errorf("conflict values: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, nil, fmt.Errorf("conflict values: %w", err)
	}
	names, values := []string{}, map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("conflict values: %w", err)
		}
		name, _ := tok.(string)
		var x any
		if err := dec.Decode(&x); err != nil {
			return nil, nil, fmt.Errorf("conflict values: %w", err)
		}
		names = append(names, name)
		values[name] = valueText(x)
	}
	return names, values, nil
}

func valueText(x any) string {
	switch t := x.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		if t {
			return "yes"
		}
		return "no"
	case json.Number:
		if t.String() == "0" {
			return ""
		}
		return t.String()
	case []any:
		parts := make([]string, 0, len(t))
		for _, e := range t {
			if s := valueText(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "; ")
	case map[string]any:
		// A coded concept: its text, then its codes.
		if coding, ok := t["coding"].([]any); ok || t["text"] != nil {
			text, _ := t["text"].(string)
			var codes []string
			for _, c := range coding {
				m, _ := c.(map[string]any)
				code, _ := m["code"].(string)
				if display, _ := m["display"].(string); display != "" && text == "" {
					text = display
				}
				if code != "" {
					codes = append(codes, code)
				}
			}
			if len(codes) > 0 {
				return strings.TrimSpace(text + " (" + strings.Join(codes, ", ") + ")")
			}
			return text
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := []string{}
		for _, k := range keys {
			if s := valueText(t[k]); s != "" {
				parts = append(parts, label(k)+": "+s)
			}
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprint(x)
}
