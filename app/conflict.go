package app

import (
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
}

// ConflictItem is a conflicted record with its heads.
type ConflictItem struct {
	RecordID    string            `json:"recordId"`
	Kind        string            `json:"kind"`
	PatientID   string            `json:"patientId"`
	PatientName string            `json:"patientName"`
	Heads       []ConflictVersion `json:"heads"`
}

// ResolveRequest is the clinician's decision.
type ResolveRequest struct {
	RecordID string   `json:"recordId"`
	Heads    []string `json:"heads"` // the head version ids the clinician saw
	Keep     string   `json:"keep"`  // a head kept as it is, or "" with Body
	Body     string   `json:"body"`  // the merged canonical JSON when Keep is ""
	Reason   string   `json:"reason"`
}

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
		it := ConflictItem{RecordID: d.RecordID, Kind: d.Kind, PatientID: d.PatientID, PatientName: d.PatientName, Heads: make([]ConflictVersion, 0, len(d.Heads))}
		for _, h := range d.Heads {
			val, err := records.Decode(h.Kind, h.Body)
			if err != nil {
				return nil, problem(a.cfg.Log, "ListConflicts", err)
			}
			it.Heads = append(it.Heads, ConflictVersion{VersionID: h.VersionID, Author: h.Author, Device: h.Device,
				At: h.HLC.Time().UTC().Format(time.RFC3339), Deleted: h.Deleted, Reason: h.Reason, Body: string(h.Body), Fields: flatten(val)})
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
	switch {
	case req.Keep != "" && req.Body != "":
		v.Add("keep", "Keep one version, or merge them; not both.")
	case req.Keep == "" && req.Body == "":
		v.Add("keep", "Keep one of the versions, or merge them.")
	case len(req.Body) > maxMergedBody:
		v.Add("body", "The merged record is too large.")
	}
	if len([]rune(strings.Join(strings.Fields(req.Reason), " "))) < 5 {
		v.Add("reason", "Say why this version is kept (at least 5 characters).")
	}
	if err := v.Err(); err != nil {
		return problem(a.cfg.Log, "ResolveConflict", err)
	}
	if _, err := c.svc.Records.Resolve(c.ctx, c.actor, records.Resolution{RecordID: req.RecordID, Heads: req.Heads, Keep: req.Keep,
		Body: []byte(req.Body), Reason: req.Reason}); err != nil {
		return problem(a.cfg.Log, "ResolveConflict", err)
	}
	return nil
}
