package app

import (
	"encoding/base64"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// DocumentUpload is a document chosen in the UI: its bytes in base64 and
// a title. The file's name is never used: the type comes from the content.
type DocumentUpload struct {
	PatientID string `json:"patientId"`
	Title     string `json:"title"`
	Data      string `json:"data"` // base64
}

// DocumentContent is a document with its bytes, for display (images
// inline; PDFs only on an explicit action in the UI).
type DocumentContent struct {
	Document ehr.Document `json:"document"`
	Data     string       `json:"data"` // base64
}

// AddDocument stores a PDF, PNG or JPEG (at most 20 MB) in the vault.
func (a *App) AddDocument(req DocumentUpload) (ChartItem[ehr.Document], error) {
	c, err := a.begin("AddDocument")
	if err != nil {
		return ChartItem[ehr.Document]{}, err
	}
	data, err := decodeBase64Field("file", req.Data, ehr.MaxDocument)
	if err != nil {
		return ChartItem[ehr.Document]{}, problem(a.cfg.Log, "AddDocument", err)
	}
	it, err := c.svc.Records.AddDocument(c.ctx, c.actor, req.PatientID, req.Title, data)
	if err != nil {
		return ChartItem[ehr.Document]{}, problem(a.cfg.Log, "AddDocument", err)
	}
	return chartItem(it), nil
}

// ListDocuments lists a patient's documents, newest first.
func (a *App) ListDocuments(patientID string) ([]ChartItem[ehr.Document], error) {
	c, err := a.begin("ListDocuments")
	if err != nil {
		return nil, err
	}
	its, err := records.List(c.ctx, c.svc.Records, c.actor, records.Documents, patientID, 500)
	if err != nil {
		return nil, problem(a.cfg.Log, "ListDocuments", err)
	}
	return chartItems(its), nil
}

// GetDocument returns a document's bytes, checked against their hash.
func (a *App) GetDocument(id string) (DocumentContent, error) {
	c, err := a.begin("GetDocument")
	if err != nil {
		return DocumentContent{}, err
	}
	d, data, err := c.svc.Records.DocumentData(c.ctx, c.actor, id)
	if err != nil {
		return DocumentContent{}, problem(a.cfg.Log, "GetDocument", err)
	}
	return DocumentContent{Document: d, Data: base64.StdEncoding.EncodeToString(data)}, nil
}
