package app

import (
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// Change is one field that differs between a version and the one before.
type Change struct {
	Field string `json:"field"`
	Label string `json:"label"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Version is one past state of a record with what changed in it.
type Version struct {
	VersionID string   `json:"versionId"`
	At        string   `json:"at"` // RFC 3339
	Author    string   `json:"author"`
	Device    string   `json:"device"`
	Reason    string   `json:"reason"`
	Changes   []Change `json:"changes"`
	Patient   Patient  `json:"patient"`
}

// patientFields lists the fields a diff compares, in display order.
var patientFields = []struct {
	field, label string
	get          func(ehr.Patient) string
}{
	{"clinicNo", "Clinic number", func(p ehr.Patient) string { return p.ClinicNo }},
	{"family", "Family name", func(p ehr.Patient) string { return p.Family }},
	{"given", "Given names", func(p ehr.Patient) string { return p.Given }},
	{"other", "Other names", func(p ehr.Patient) string { return p.Other }},
	{"sex", "Sex", func(p ehr.Patient) string { return p.Sex }},
	{"birthDate", "Birth date", func(p ehr.Patient) string {
		if p.BirthEstimated && p.BirthDate != "" {
			return "about " + p.BirthDate
		}
		return p.BirthDate
	}},
	{"nationalId", "National id", func(p ehr.Patient) string { return p.NationalID }},
	{"phone", "Phone", func(p ehr.Patient) string { return p.Phone }},
	{"village", "Village", func(p ehr.Patient) string { return p.Village }},
	{"address", "Address", func(p ehr.Patient) string { return p.Address }},
	{"kinName", "Next of kin", func(p ehr.Patient) string { return p.KinName }},
	{"kinRelation", "Relationship", func(p ehr.Patient) string { return p.KinRelation }},
	{"kinPhone", "Next of kin's phone", func(p ehr.Patient) string { return p.KinPhone }},
	{"deceased", "Deceased", func(p ehr.Patient) string {
		switch {
		case p.Deceased && p.DeceasedDate != "":
			return "yes, on " + p.DeceasedDate
		case p.Deceased:
			return "yes"
		}
		return ""
	}},
}

func diffPatients(old, cur ehr.Patient) []Change {
	changes := []Change{}
	for _, f := range patientFields {
		o, n := f.get(old), f.get(cur)
		if o != n {
			changes = append(changes, Change{Field: f.field, Label: f.label, Old: o, New: n})
		}
	}
	return changes
}

// PatientHistory returns every version of a patient, newest first, each
// with who wrote it, when, why, and what changed.
func (a *App) PatientHistory(id string) ([]Version, error) {
	c, err := a.begin("PatientHistory")
	if err != nil {
		return nil, err
	}
	versions, err := c.svc.Records.History(c.ctx, c.actor, id)
	if err != nil {
		return nil, problem(a.cfg.Log, "PatientHistory", err)
	}
	out := make([]Version, 0, len(versions))
	var prev ehr.Patient
	for _, v := range versions {
		p, err := ehr.ParsePatientBody(v.Body)
		if err != nil {
			return nil, problem(a.cfg.Log, "PatientHistory", err)
		}
		rec := records.PatientRecord{ID: v.RecordID, VersionID: v.VersionID, Patient: p, HLC: v.HLC, Author: v.Author, Deleted: v.Deleted}
		out = append(out, Version{
			VersionID: v.VersionID, At: v.HLC.Time().Format(time.RFC3339), Author: v.Author, Device: v.Device,
			Reason: v.Reason, Changes: diffPatients(prev, p), Patient: a.patientView(rec),
		})
		prev = p
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
