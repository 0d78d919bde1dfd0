package app

import (
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// The chart: clinical records of a patient. Reads and writes need a
// clinical role (chart.read, chart.write); clerks register patients but
// see no clinical records.

// ChartItem is one clinical record at its current version.
type ChartItem[T any] struct {
	ID        string `json:"id"`
	VersionID string `json:"versionId"`
	At        string `json:"at"` // when this version was written, RFC 3339
	Author    string `json:"author"`
	Value     T      `json:"value"`
}

func chartItem[T any](it records.Item[T]) ChartItem[T] {
	return ChartItem[T]{ID: it.ID, VersionID: it.VersionID, At: it.HLC.Time().Format(time.RFC3339), Author: it.Author, Value: it.Value}
}

func chartItems[T any](its []records.Item[T]) []ChartItem[T] {
	out := make([]ChartItem[T], 0, len(its))
	for _, it := range its {
		out = append(out, chartItem(it))
	}
	return out
}

// ChartView is the front page of a chart.
type ChartView struct {
	Problems      []ChartItem[ehr.Condition]    `json:"problems"`
	Medications   []ChartItem[ehr.Medication]   `json:"medications"`
	Allergies     []ChartItem[ehr.Allergy]      `json:"allergies"`
	Vitals        []ChartItem[ehr.Observation]  `json:"vitals"`
	Immunizations []ChartItem[ehr.Immunization] `json:"immunizations"`
	Visits        []ChartItem[ehr.Encounter]    `json:"visits"`
	Notes         []ChartItem[ehr.Note]         `json:"notes"`
}

// ChartSummary returns a patient's active problems, current medications,
// allergies, latest vitals, immunizations and recent visits.
func (a *App) ChartSummary(patientID string) (ChartView, error) {
	c, err := a.begin("ChartSummary")
	if err != nil {
		return ChartView{}, err
	}
	s, err := records.ChartSummary(c.ctx, c.svc.Records, c.actor, patientID)
	if err != nil {
		return ChartView{}, problem(a.cfg.Log, "ChartSummary", err)
	}
	return ChartView{Problems: chartItems(s.Problems), Medications: chartItems(s.Medications), Allergies: chartItems(s.Allergies),
		Vitals: chartItems(s.Vitals), Immunizations: chartItems(s.Immunizations), Visits: chartItems(s.Visits), Notes: chartItems(s.Notes)}, nil
}

// SaveRequest saves a clinical record: a new one when ID is "", else a
// new version of ID made from BaseVersionID, with a reason.
type SaveRequest[T any] struct {
	ID            string `json:"id"`
	BaseVersionID string `json:"baseVersionId"`
	Reason        string `json:"reason"`
	Value         T      `json:"value"`
}

func save[T any](a *App, method string, k records.Kind[T], req SaveRequest[T]) (ChartItem[T], error) {
	c, err := a.begin(method)
	if err != nil {
		return ChartItem[T]{}, err
	}
	it, err := records.Save(c.ctx, c.svc.Records, c.actor, k, req.ID, req.BaseVersionID, req.Value, req.Reason)
	if err != nil {
		return ChartItem[T]{}, problem(a.cfg.Log, method, err)
	}
	return chartItem(it), nil
}

// SaveEncounter opens or updates a visit (a signed visit only by amendment).
func (a *App) SaveEncounter(req SaveRequest[ehr.Encounter]) (ChartItem[ehr.Encounter], error) {
	return save(a, "SaveEncounter", records.Encounters, req)
}

// SaveObservation records a vital sign.
func (a *App) SaveObservation(req SaveRequest[ehr.Observation]) (ChartItem[ehr.Observation], error) {
	return save(a, "SaveObservation", records.Observations, req)
}

// SaveCondition records or updates a problem.
func (a *App) SaveCondition(req SaveRequest[ehr.Condition]) (ChartItem[ehr.Condition], error) {
	return save(a, "SaveCondition", records.Conditions, req)
}

// SaveAllergy records or updates an allergy.
func (a *App) SaveAllergy(req SaveRequest[ehr.Allergy]) (ChartItem[ehr.Allergy], error) {
	return save(a, "SaveAllergy", records.Allergies, req)
}

// SaveImmunization records or updates an immunization.
func (a *App) SaveImmunization(req SaveRequest[ehr.Immunization]) (ChartItem[ehr.Immunization], error) {
	return save(a, "SaveImmunization", records.Immunizations, req)
}

// SaveNote records or updates a clinical note.
func (a *App) SaveNote(req SaveRequest[ehr.Note]) (ChartItem[ehr.Note], error) {
	return save(a, "SaveNote", records.Notes, req)
}

// MedicationRequest saves a medication; a prescription that matches an
// active allergy is refused with the matching allergies unless the
// clinician confirms it (Override), which is then audited with the
// version's reason.
type MedicationRequest struct {
	SaveRequest[ehr.Medication]
	Override bool `json:"override"`
}

// MedicationResult is the saved medication, or the allergies that stopped it.
type MedicationResult struct {
	Saved    *ChartItem[ehr.Medication] `json:"saved,omitempty"`
	Warnings []ehr.Allergy              `json:"warnings"`
}

// SaveMedication prescribes or records a medication, warning first when it
// matches a recorded allergy by code or name.
func (a *App) SaveMedication(req MedicationRequest) (MedicationResult, error) {
	c, err := a.begin("SaveMedication")
	if err != nil {
		return MedicationResult{}, err
	}
	warn, err := records.AllergyWarnings(c.ctx, c.svc.Records, c.actor, req.Value.PatientID, req.Value.Drug)
	if err != nil {
		return MedicationResult{}, problem(a.cfg.Log, "SaveMedication", err)
	}
	if warn == nil {
		warn = []ehr.Allergy{}
	}
	if len(warn) > 0 && !req.Override {
		return MedicationResult{Warnings: warn}, nil
	}
	reason := req.Reason
	if len(warn) > 0 && reason == "" {
		reason = "prescribed despite a recorded allergy"
	}
	it, err := records.Save(c.ctx, c.svc.Records, c.actor, records.Medications, req.ID, req.BaseVersionID, req.Value, reason)
	if err != nil {
		return MedicationResult{}, problem(a.cfg.Log, "SaveMedication", err)
	}
	saved := chartItem(it)
	return MedicationResult{Saved: &saved, Warnings: warn}, nil
}

// SignRequest closes a visit.
type SignRequest struct {
	ID            string `json:"id"`
	BaseVersionID string `json:"baseVersionId"`
}

// SignEncounter closes and signs a visit.
func (a *App) SignEncounter(req SignRequest) (ChartItem[ehr.Encounter], error) {
	c, err := a.begin("SignEncounter")
	if err != nil {
		return ChartItem[ehr.Encounter]{}, err
	}
	it, err := records.SignEncounter(c.ctx, c.svc.Records, c.actor, req.ID, req.BaseVersionID)
	if err != nil {
		return ChartItem[ehr.Encounter]{}, problem(a.cfg.Log, "SignEncounter", err)
	}
	return chartItem(it), nil
}

// VitalPoint is one value of a vital sign.
type VitalPoint struct {
	At    string  `json:"at"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// SeriesRequest asks for a vital sign over time.
type SeriesRequest struct {
	PatientID string `json:"patientId"`
	Vital     string `json:"vital"`
}

// VitalSeries returns up to 1000 values of a vital sign, oldest first.
func (a *App) VitalSeries(req SeriesRequest) ([]VitalPoint, error) {
	c, err := a.begin("VitalSeries")
	if err != nil {
		return nil, err
	}
	pts, err := records.VitalSeries(c.ctx, c.svc.Records, c.actor, req.PatientID, req.Vital, 1000)
	if err != nil {
		return nil, problem(a.cfg.Log, "VitalSeries", err)
	}
	out := make([]VitalPoint, 0, len(pts))
	for _, p := range pts {
		out = append(out, VitalPoint{At: p.At, Value: p.Value, Unit: p.Unit})
	}
	return out, nil
}

// VisitView is a visit with everything recorded at it.
type VisitView struct {
	Visit       ChartItem[ehr.Encounter]     `json:"visit"`
	Vitals      []ChartItem[ehr.Observation] `json:"vitals"`
	Medications []ChartItem[ehr.Medication]  `json:"medications"`
	Notes       []ChartItem[ehr.Note]        `json:"notes"`
}

// VisitRecords returns a visit with its vital signs, prescriptions and
// notes, as they are now.
func (a *App) VisitRecords(encounterID string) (VisitView, error) {
	c, err := a.begin("VisitRecords")
	if err != nil {
		return VisitView{}, err
	}
	v, err := records.VisitRecords(c.ctx, c.svc.Records, c.actor, encounterID)
	if err != nil {
		return VisitView{}, problem(a.cfg.Log, "VisitRecords", err)
	}
	return VisitView{Visit: chartItem(v.Encounter), Vitals: chartItems(v.Vitals), Medications: chartItems(v.Medications), Notes: chartItems(v.Notes)}, nil
}
