package app

import (
	"encoding/base64"

	"outpost/backend/records"
	"outpost/backend/report"
)

// PatientSummaryPDF returns the printable chart summary of a patient, for
// a referral, as base64 PDF. Printing is audited like any read.
func (a *App) PatientSummaryPDF(patientID string) (string, error) {
	c, err := a.begin("PatientSummaryPDF")
	if err != nil {
		return "", err
	}
	p, err := c.svc.Records.Patient(c.ctx, c.actor, patientID)
	if err != nil {
		return "", problem(a.cfg.Log, "PatientSummaryPDF", err)
	}
	sum, err := records.ChartSummary(c.ctx, c.svc.Records, c.actor, patientID)
	if err != nil {
		return "", problem(a.cfg.Log, "PatientSummaryPDF", err)
	}
	pdf := report.Summary(c.svc.Info.Name, p.Patient, sum, c.sess.User.Name, a.cfg.Now())
	return base64.StdEncoding.EncodeToString(pdf), nil
}
