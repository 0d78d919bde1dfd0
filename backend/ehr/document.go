package ehr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// KindDocument is a scanned or photographed document: a referral letter, a
// lab report, a picture of a wound.
const KindDocument = "document"

// MaxDocument is the largest document accepted, in bytes.
const MaxDocument = 20 << 20

// Document types accepted, recognised by content, never by name (P5).
const (
	TypePDF  = "application/pdf"
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
)

// SniffDocument returns the type of a document from its first bytes, or
// "" when it is not a PDF, PNG or JPEG.
func SniffDocument(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return TypePDF
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		return TypeJPEG
	}
	return ""
}

// Document describes a stored document; its bytes are kept apart, in the
// vault, addressed by their SHA-256 and never by a name or a path (S9).
type Document struct {
	PatientID   string `json:"patientId"`
	Title       string `json:"title"`
	ContentType string `json:"contentType"` // from SniffDocument
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"` // lower-case hex
	Created     string `json:"created"`
}

// Validate normalises d and checks it at now.
func (d *Document) Validate(now time.Time) error {
	v := Invalid{}
	x := Document{
		PatientID:   idField(v, "patientId", d.PatientID, true, "patient"),
		Title:       requiredText(v, "title", d.Title, 200, false, "Give the document a title."),
		ContentType: d.ContentType,
		Size:        d.Size,
		SHA256:      strings.ToLower(strings.TrimSpace(d.SHA256)),
	}
	x.Created, _ = timeField(v, "created", d.Created, now, true)
	switch x.ContentType {
	case TypePDF, TypePNG, TypeJPEG:
	default:
		v.Add("file", "Only PDF, PNG and JPEG documents are accepted.")
	}
	if x.Size <= 0 || x.Size > MaxDocument {
		v.Add("file", fmt.Sprintf("A document is at most %d MB.", MaxDocument>>20))
	}
	if len(x.SHA256) != 64 || strings.Trim(x.SHA256, "0123456789abcdef") != "" {
		v.Add("file", "The document's checksum is missing.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	*d = x
	return nil
}

// BlobURL is how a document body points at its bytes.
func BlobURL(sha string) string { return "urn:outpost:blob:sha256:" + sha }

type docAttachment struct {
	ContentType string `json:"contentType"`
	URL         string `json:"url"`
	Size        int64  `json:"size"`
	Title       string `json:"title"`
	Creation    string `json:"creation"`
}

type docResource struct {
	ResourceType string    `json:"resourceType"`
	ID           string    `json:"id,omitempty"`
	Status       string    `json:"status"`
	Subject      *chartRef `json:"subject,omitempty"`
	Content      []struct {
		Attachment docAttachment `json:"attachment"`
	} `json:"content"`
}

// DocumentBody returns the canonical FHIR R4 DocumentReference for d; the
// attachment's url names the blob.
func DocumentBody(id string, d Document) ([]byte, error) {
	r := docResource{ResourceType: "DocumentReference", ID: id, Status: "current", Subject: chartReference("Patient", d.PatientID)}
	r.Content = append(r.Content, struct {
		Attachment docAttachment `json:"attachment"`
	}{docAttachment{ContentType: d.ContentType, URL: BlobURL(d.SHA256), Size: d.Size, Title: d.Title, Creation: d.Created}})
	return Canonical(r)
}

// ParseDocumentBody reads a body written by DocumentBody.
func ParseDocumentBody(body []byte) (Document, error) {
	var r docResource
	if err := json.Unmarshal(body, &r); err != nil {
		return Document{}, fmt.Errorf("parse document: %w", err)
	}
	if r.ResourceType != "DocumentReference" || len(r.Content) != 1 {
		return Document{}, fmt.Errorf("parse document: not a document reference")
	}
	pid, err := refID(r.Subject, "Patient")
	if err != nil {
		return Document{}, fmt.Errorf("parse document: %w", err)
	}
	a := r.Content[0].Attachment
	sha, ok := strings.CutPrefix(a.URL, "urn:outpost:blob:sha256:")
	if !ok {
		return Document{}, fmt.Errorf("parse document: attachment is not a stored blob")
	}
	return Document{PatientID: pid, Title: a.Title, ContentType: a.ContentType, Size: a.Size, SHA256: sha, Created: a.Creation}, nil
}
