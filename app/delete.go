package app

import "outpost/backend/records"

// RecordAction names a record and the reason for acting on it.
type RecordAction struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// RecordDeletion is a pending request to delete a patient or a clinical
// record.
type RecordDeletion struct {
	ID          string `json:"id"`
	RecordID    string `json:"recordId"`
	Kind        string `json:"kind"`
	PatientID   string `json:"patientId"`
	RequestedBy string `json:"requestedBy"`
	Reason      string `json:"reason"`
	At          string `json:"at"`
}

func deletionView(d records.DeletionRequest) RecordDeletion {
	return RecordDeletion{ID: d.ID, RecordID: d.RecordID, Kind: d.Kind, PatientID: d.PatientID, RequestedBy: d.RequestedBy,
		Reason: d.Reason, At: rfc3339(d.At)}
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
	return deletionView(d), nil
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
		out = append(out, deletionView(d))
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
