package app

import (
	"fmt"
	"strconv"
	"strings"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// RecordAction names a record and the reason for acting on it.
type RecordAction struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// RecordDeletion is a request to delete a patient or a clinical record,
// waiting for a second person; or, with ApprovedBy set, a deleted record.
// Label and Patient say what it is, so that the second person knows what
// they approve.
type RecordDeletion struct {
	ID          string `json:"id"`
	RecordID    string `json:"recordId"`
	Kind        string `json:"kind"`
	Label       string `json:"label"`
	PatientID   string `json:"patientId"`
	Patient     string `json:"patient"`
	RequestedBy string `json:"requestedBy"`
	Reason      string `json:"reason"`
	At          string `json:"at"`
	ApprovedBy  string `json:"approvedBy,omitempty"`
	ApprovedAt  string `json:"approvedAt,omitempty"`
}

// deletionView describes d. A record the user may not open (a restricted
// chart) is named by its kind only.
func (c call) deletionView(d records.DeletionRequest) RecordDeletion {
	out := RecordDeletion{ID: d.ID, RecordID: d.RecordID, Kind: d.Kind, PatientID: d.PatientID, RequestedBy: d.RequestedBy,
		Reason: d.Reason, At: rfc3339(d.At), Label: kindName(d.Kind), Patient: "restricted chart"}
	if v, _, err := c.svc.Records.Head(c.ctx, c.actor, d.RecordID); err == nil {
		if val, err := records.Decode(v.Kind, v.Body); err == nil {
			out.Label = recordLabel(val)
		}
	}
	if v, _, err := c.svc.Records.Head(c.ctx, c.actor, d.PatientID); err == nil {
		if val, err := records.Decode(v.Kind, v.Body); err == nil {
			if p, ok := val.(ehr.Patient); ok {
				out.Patient = p.DisplayName() + " (" + p.ClinicNo + ")"
			}
		}
	}
	return out
}

func kindName(kind string) string {
	names := map[string]string{ehr.KindPatient: "Patient", ehr.KindEncounter: "Visit", ehr.KindObservation: "Vital sign",
		ehr.KindCondition: "Problem", ehr.KindMedication: "Medication", ehr.KindAllergy: "Allergy", ehr.KindImmunization: "Immunization",
		ehr.KindNote: "Note", ehr.KindDocument: "Document"}
	if n, ok := names[kind]; ok {
		return n
	}
	return "Record"
}

// recordLabel says in a few words what a record is.
func recordLabel(v any) string {
	switch r := v.(type) {
	case ehr.Patient:
		return "Patient: " + r.DisplayName() + " (" + r.ClinicNo + ")"
	case ehr.Encounter:
		return "Visit of " + day(r.Start) + ": " + orNone(r.Complaint)
	case ehr.Observation:
		name, unit := r.Vital, r.Unit
		if vt, ok := ehr.VitalByKey(r.Vital); ok {
			name, unit = vt.Name, vt.Symbol
		}
		return fmt.Sprintf("Vital sign: %s %s %s on %s", name, strconv.FormatFloat(r.Value, 'f', -1, 64), unit, day(r.Effective))
	case ehr.Condition:
		return "Problem: " + r.Code.Label()
	case ehr.Medication:
		return "Medication: " + strings.TrimSpace(r.Drug.Label()+" "+r.Dose)
	case ehr.Allergy:
		return "Allergy: " + r.Substance.Label()
	case ehr.Immunization:
		return "Immunization: " + r.Vaccine.Label() + " on " + r.Date
	case ehr.Note:
		return "Note: " + orNone(r.Title)
	case ehr.Document:
		return "Document: " + orNone(r.Title)
	}
	return "Record"
}

func day(rfc string) string {
	if len(rfc) >= 10 {
		return rfc[:10]
	}
	return rfc
}

func orNone(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "(untitled)"
	}
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}

// RequestRecordDeletion asks for a record (a patient or a clinical record)
// to be deleted; a second person must approve (S1).
func (a *App) RequestRecordDeletion(req RecordAction) (RecordDeletion, error) {
	c, err := a.begin("RequestRecordDeletion")
	if err != nil {
		return RecordDeletion{}, err
	}
	d, err := c.svc.Records.RequestDeletion(c.ctx, c.actor, req.ID, req.Reason)
	if err != nil {
		return RecordDeletion{}, problem(a.cfg.Log, "RequestRecordDeletion", err)
	}
	return c.deletionView(d), nil
}

// ListRecordDeletions lists deletions waiting for a second person.
func (a *App) ListRecordDeletions() ([]RecordDeletion, error) {
	c, err := a.begin("ListRecordDeletions")
	if err != nil {
		return nil, err
	}
	ds, err := c.svc.Records.PendingDeletions(c.ctx)
	if err != nil {
		return nil, problem(a.cfg.Log, "ListRecordDeletions", err)
	}
	out := make([]RecordDeletion, 0, len(ds))
	for _, d := range ds {
		out = append(out, c.deletionView(d))
	}
	return out, nil
}

// ListDeletedRecords lists the records deleted by two people that are
// still deleted (the latest 200), so that one can be restored.
func (a *App) ListDeletedRecords() ([]RecordDeletion, error) {
	c, err := a.begin("ListDeletedRecords")
	if err != nil {
		return nil, err
	}
	ds, err := c.svc.Records.DeletedRecords(c.ctx, 200)
	if err != nil {
		return nil, problem(a.cfg.Log, "ListDeletedRecords", err)
	}
	out := make([]RecordDeletion, 0, len(ds))
	for _, d := range ds {
		v := c.deletionView(d.DeletionRequest)
		v.ApprovedBy, v.ApprovedAt = d.ApprovedBy, rfc3339(d.ApprovedAt)
		out = append(out, v)
	}
	return out, nil
}

// ApproveRecordDeletion approves someone else's request: a tombstone
// version is written.
func (a *App) ApproveRecordDeletion(requestID string) error {
	c, err := a.begin("ApproveRecordDeletion")
	if err != nil {
		return err
	}
	if err := c.svc.Records.ApproveDeletion(c.ctx, c.actor, requestID); err != nil {
		return problem(a.cfg.Log, "ApproveRecordDeletion", err)
	}
	return nil
}

// RestoreRecord brings a deleted record back, with a reason.
func (a *App) RestoreRecord(req RecordAction) error {
	c, err := a.begin("RestoreRecord")
	if err != nil {
		return err
	}
	if err := c.svc.Records.Restore(c.ctx, c.actor, req.ID, req.Reason); err != nil {
		return problem(a.cfg.Log, "RestoreRecord", err)
	}
	return nil
}
