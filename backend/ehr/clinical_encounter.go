package ehr

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Encounter statuses.
const (
	EncounterOpen   = "open"   // being written; FHIR in-progress
	EncounterSigned = "signed" // signed by a clinician; FHIR finished
)

// Encounter is one ambulatory visit and its clinical note. An open
// encounter is still being written; a signed one names who signed it and
// when. A later version of a signed encounter says why in AmendReason.
type Encounter struct {
	PatientID   string `json:"patientId"`
	Status      string `json:"status"`
	Start       string `json:"start"` // RFC 3339
	End         string `json:"end"`   // RFC 3339; required when signed
	Complaint   string `json:"complaint"`
	Findings    string `json:"findings"`
	Assessment  string `json:"assessment"`
	Plan        string `json:"plan"`
	SignedBy    string `json:"signedBy"` // username
	SignedAt    string `json:"signedAt"` // RFC 3339
	AmendReason string `json:"amendReason"`
}

// Validate normalises e and checks it at now, the moment of entry.
func (e *Encounter) Validate(now time.Time) error {
	v := Invalid{}
	x := Encounter{
		PatientID:   idField(v, "patientId", e.PatientID, true, "patient"),
		Status:      enumField(v, "status", e.Status, EncounterOpen, EncounterSigned),
		Complaint:   textField(v, "complaint", e.Complaint, maxClinicalLongText, true),
		Findings:    textField(v, "findings", e.Findings, maxClinicalLongText, true),
		Assessment:  textField(v, "assessment", e.Assessment, maxClinicalLongText, true),
		Plan:        textField(v, "plan", e.Plan, maxClinicalLongText, true),
		AmendReason: textField(v, "amendReason", e.AmendReason, maxClinicalAmendReason, false),
	}
	var start, end, signed time.Time
	x.Start, start = timeField(v, "start", e.Start, now, true)
	x.End, end = timeField(v, "end", e.End, now, false)
	if x.End != "" && x.Start != "" && end.Before(start) {
		v.Add("end", "The end is before the start.")
	}
	switch x.Status {
	case EncounterSigned:
		if x.End == "" {
			v.Add("end", "Enter when the encounter ended before signing it.")
		}
		x.SignedBy = usernameField(v, "signedBy", e.SignedBy)
		x.SignedAt, signed = timeField(v, "signedAt", e.SignedAt, now, true)
		if x.SignedAt != "" && x.Start != "" && signed.Before(start) {
			v.Add("signedAt", "The encounter is signed before it started.")
		}
	case EncounterOpen:
		if strings.TrimSpace(e.SignedBy) != "" {
			v.Add("signedBy", "Only a signed encounter names who signed it.")
		}
		if strings.TrimSpace(e.SignedAt) != "" {
			v.Add("signedAt", "Only a signed encounter has a signing time.")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	*e = x
	return nil
}

type chartEncounter struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id,omitempty"`
	Extension    []chartExt   `json:"extension,omitempty"`
	Status       string       `json:"status"`
	Class        Coding       `json:"class"`
	Subject      *chartRef    `json:"subject,omitempty"`
	Period       *chartPeriod `json:"period,omitempty"`
	ReasonCode   []Concept    `json:"reasonCode,omitempty"`
}

var encounterStatus = map[string]string{EncounterOpen: "in-progress", EncounterSigned: "finished"}

// EncounterBody returns the canonical FHIR R4 Encounter JSON for e.
func EncounterBody(id string, e Encounter) ([]byte, error) {
	status, ok := encounterStatus[e.Status]
	if !ok {
		return nil, fmt.Errorf("encounter body: status %q", e.Status)
	}
	r := chartEncounter{
		ResourceType: "Encounter",
		ID:           id,
		Status:       status,
		Class:        Coding{System: SystemActCode, Code: "AMB", Display: "ambulatory"},
		Subject:      chartReference("Patient", e.PatientID),
	}
	if e.Start != "" || e.End != "" {
		r.Period = &chartPeriod{Start: e.Start, End: e.End}
	}
	if e.Complaint != "" {
		r.ReasonCode = []Concept{{Text: e.Complaint}}
	}
	r.Extension = extString(r.Extension, ExtEncounterFindings, e.Findings)
	r.Extension = extString(r.Extension, ExtEncounterAssessment, e.Assessment)
	r.Extension = extString(r.Extension, ExtEncounterPlan, e.Plan)
	r.Extension = extString(r.Extension, ExtSignedBy, e.SignedBy)
	if e.SignedAt != "" {
		r.Extension = append(r.Extension, chartExt{URL: ExtSignedAt, ValueDateTime: e.SignedAt})
	}
	r.Extension = extString(r.Extension, ExtAmendReason, e.AmendReason)
	return Canonical(r)
}

// ParseEncounterBody reads a body written by EncounterBody.
func ParseEncounterBody(body []byte) (Encounter, error) {
	var r chartEncounter
	if err := json.Unmarshal(body, &r); err != nil {
		return Encounter{}, fmt.Errorf("parse encounter body: %w", err)
	}
	if err := checkResourceType("encounter", r.ResourceType, "Encounter"); err != nil {
		return Encounter{}, err
	}
	e := Encounter{
		Findings:    extValue(r.Extension, ExtEncounterFindings),
		Assessment:  extValue(r.Extension, ExtEncounterAssessment),
		Plan:        extValue(r.Extension, ExtEncounterPlan),
		SignedBy:    extValue(r.Extension, ExtSignedBy),
		SignedAt:    extValue(r.Extension, ExtSignedAt),
		AmendReason: extValue(r.Extension, ExtAmendReason),
	}
	for status, fhir := range encounterStatus {
		if r.Status == fhir {
			e.Status = status
		}
	}
	if e.Status == "" {
		return Encounter{}, fmt.Errorf("parse encounter body: status %q", clipText(r.Status, 40))
	}
	var err error
	if e.PatientID, err = refID(r.Subject, "Patient"); err != nil {
		return Encounter{}, fmt.Errorf("parse encounter body: subject: %w", err)
	}
	if r.Period != nil {
		e.Start, e.End = r.Period.Start, r.Period.End
	}
	if len(r.ReasonCode) > 0 {
		e.Complaint = r.ReasonCode[0].Text
	}
	return e, nil
}

// Note is a free-text clinical document: a letter, a referral, a
// procedure note, optionally written during an encounter.
type Note struct {
	PatientID   string `json:"patientId"`
	EncounterID string `json:"encounterId"`
	Title       string `json:"title"`
	Text        string `json:"text"`
}

const noteContentType = "text/plain; charset=utf-8"

// Validate normalises n and checks it.
func (n *Note) Validate(now time.Time) error {
	v := Invalid{}
	x := Note{
		PatientID:   idField(v, "patientId", n.PatientID, true, "patient"),
		EncounterID: idField(v, "encounterId", n.EncounterID, false, "encounter"),
		Title:       requiredText(v, "title", n.Title, maxClinicalTitle, false, "Give the note a title."),
		Text:        requiredText(v, "text", n.Text, maxClinicalNoteText, true, "Write the note."),
	}
	if err := v.Err(); err != nil {
		return err
	}
	*n = x
	return nil
}

type chartDocument struct {
	ResourceType string             `json:"resourceType"`
	ID           string             `json:"id,omitempty"`
	Status       string             `json:"status"`
	Subject      *chartRef          `json:"subject,omitempty"`
	Content      []chartContent     `json:"content"`
	Context      *chartDocumentCtxt `json:"context,omitempty"`
}

type chartContent struct {
	Attachment chartAttachment `json:"attachment"`
}

type chartAttachment struct {
	ContentType string `json:"contentType,omitempty"`
	Data        string `json:"data,omitempty"`
	Title       string `json:"title,omitempty"`
}

type chartDocumentCtxt struct {
	Encounter []chartRef `json:"encounter,omitempty"`
}

// NoteBody returns the canonical FHIR R4 DocumentReference JSON for n.
func NoteBody(id string, n Note) ([]byte, error) {
	r := chartDocument{
		ResourceType: "DocumentReference",
		ID:           id,
		Status:       "current",
		Subject:      chartReference("Patient", n.PatientID),
		Content: []chartContent{{Attachment: chartAttachment{
			ContentType: noteContentType,
			Data:        base64.StdEncoding.EncodeToString([]byte(n.Text)),
			Title:       n.Title,
		}}},
	}
	if n.EncounterID != "" {
		r.Context = &chartDocumentCtxt{Encounter: []chartRef{*chartReference("Encounter", n.EncounterID)}}
	}
	return Canonical(r)
}

// ParseNoteBody reads a body written by NoteBody: a DocumentReference whose
// first content is plain text, inline.
func ParseNoteBody(body []byte) (Note, error) {
	var r chartDocument
	if err := json.Unmarshal(body, &r); err != nil {
		return Note{}, fmt.Errorf("parse note body: %w", err)
	}
	if err := checkResourceType("note", r.ResourceType, "DocumentReference"); err != nil {
		return Note{}, err
	}
	if len(r.Content) == 0 {
		return Note{}, fmt.Errorf("parse note body: no content")
	}
	a := r.Content[0].Attachment
	if mt, _, _ := strings.Cut(a.ContentType, ";"); strings.TrimSpace(mt) != "text/plain" {
		return Note{}, fmt.Errorf("parse note body: content type %q", clipText(a.ContentType, 40))
	}
	text, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields([]byte(a.Data)), nil)))
	if err != nil {
		return Note{}, fmt.Errorf("parse note body: data: %w", err)
	}
	if !utf8.Valid(text) {
		return Note{}, fmt.Errorf("parse note body: the text is not UTF-8")
	}
	n := Note{Title: a.Title, Text: string(text)}
	if n.PatientID, err = refID(r.Subject, "Patient"); err != nil {
		return Note{}, fmt.Errorf("parse note body: subject: %w", err)
	}
	if r.Context != nil && len(r.Context.Encounter) > 0 {
		if n.EncounterID, err = refID(&r.Context.Encounter[0], "Encounter"); err != nil {
			return Note{}, fmt.Errorf("parse note body: encounter: %w", err)
		}
	}
	return n, nil
}
