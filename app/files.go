package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wailsapp/wails/v2/pkg/runtime"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/fhir"
	"outpost/backend/records"
	"outpost/backend/report"
)

// Saver asks the user where to put a file and writes it there, mode 0600.
// It returns the name of the file written, or "" when the user cancelled.
// The window uses the desktop's save dialog (wailsSaver); the test harness
// writes into a folder of its own. The path always comes from the user's
// choice in the dialog, never from a record or an uploaded file's name.
type Saver func(ctx context.Context, suggested string, data []byte) (string, error)

// SavedFile says where a copy was saved; Name is "" when the user cancelled.
type SavedFile struct {
	Name string `json:"name"`
}

// wailsSaver shows the native save dialog of the window whose context is
// wctx.
func wailsSaver(wctx func() context.Context) Saver {
	return func(_ context.Context, suggested string, data []byte) (string, error) {
		w := wctx()
		if w == nil || w.Value("frontend") == nil {
			return "", errNoSaver
		}
		path, err := runtime.SaveFileDialog(w, runtime.SaveDialogOptions{DefaultFilename: suggested, Title: "Save a copy",
			CanCreateDirectories: true})
		if err != nil || path == "" {
			return "", err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return "", ehr.Wrap(ehr.EInvalid, "The file could not be written there. Choose another folder.", err)
		}
		return filepath.Base(path), nil
	}
}

// FolderSaver writes each file into dir under its suggested name (made
// safe): the test harness's stand-in for the save dialog.
func FolderSaver(dir string) Saver {
	return func(_ context.Context, suggested string, data []byte) (string, error) {
		name := safeName(suggested)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return "", fmt.Errorf("save: %w", err)
		}
		return name, nil
	}
}

// safeName keeps letters, digits, dot, dash and underscore of a name we
// made ourselves, so it can never climb out of a folder.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, filepath.Base(s))
	if s == "" || s == "." || s == ".." || strings.HasPrefix(s, ".") {
		s = "outpost-file" + s
	}
	return s
}

// save hands data to the Saver and audits the copy leaving the vault.
func (a *App) save(c call, method, patientID, recordID, suggested string, data []byte) (SavedFile, error) {
	name, err := a.cfg.Save(c.ctx, suggested, data)
	if err != nil {
		return SavedFile{}, problem(a.cfg.Log, method, err)
	}
	if name == "" {
		return SavedFile{}, nil
	}
	if err := c.svc.Audit.Record(c.ctx, c.svc.Vault.W, audit.Event{Username: c.actor.Username, Roles: c.actor.Roles, Session: c.actor.Session,
		Action: method, Outcome: audit.Success, PatientID: patientID, RecordID: recordID, Detail: fmt.Sprintf("%d bytes saved outside the vault", len(data))}); err != nil {
		return SavedFile{}, problem(a.cfg.Log, method, err)
	}
	return SavedFile{Name: name}, nil
}

// SaveSummaryPDF writes the printable chart summary of a patient (for a
// referral) where the user chooses.
func (a *App) SaveSummaryPDF(patientID string) (SavedFile, error) {
	c, err := a.begin("SaveSummaryPDF")
	if err != nil {
		return SavedFile{}, err
	}
	p, err := c.svc.Records.Patient(c.ctx, c.actor, patientID)
	if err != nil {
		return SavedFile{}, problem(a.cfg.Log, "SaveSummaryPDF", err)
	}
	sum, err := records.ChartSummary(c.ctx, c.svc.Records, c.actor, patientID)
	if err != nil {
		return SavedFile{}, problem(a.cfg.Log, "SaveSummaryPDF", err)
	}
	pdf := report.Summary(c.svc.Info.Name, p.Patient, sum, c.sess.User.Name, a.cfg.Now())
	name := fmt.Sprintf("summary-%s-%s.pdf", p.Patient.ClinicNo, a.cfg.Now().Format("2006-01-02"))
	return a.save(c, "SaveSummaryPDF", patientID, patientID, name, pdf)
}

// SaveDocument writes a copy of a stored document where the user chooses:
// the explicit action that opens a PDF outside Outpost.
func (a *App) SaveDocument(id string) (SavedFile, error) {
	c, err := a.begin("SaveDocument")
	if err != nil {
		return SavedFile{}, err
	}
	d, data, err := c.svc.Records.DocumentData(c.ctx, c.actor, id)
	if err != nil {
		return SavedFile{}, problem(a.cfg.Log, "SaveDocument", err)
	}
	ext := map[string]string{"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}[d.ContentType]
	short := strings.ReplaceAll(id, "-", "")
	return a.save(c, "SaveDocument", d.PatientID, id, "document-"+short[len(short)-8:]+ext, data)
}

// ExportFHIR writes one patient's chart (or, with patientID "", every
// chart the user may read) as a FHIR R4 Bundle where the user chooses.
func (a *App) ExportFHIR(patientID string) (SavedFile, error) {
	c, err := a.begin("ExportFHIR")
	if err != nil {
		return SavedFile{}, err
	}
	var ids []string
	if patientID != "" {
		ids = []string{patientID}
	}
	var buf bytes.Buffer
	st, err := fhir.Export(c.ctx, c.svc.Records, c.actor, ids, &buf, nil)
	if err == nil && len(ids) > 0 && st.Patients == 0 {
		err = ehr.Errorf(ehr.ERestricted, "The chart is restricted to another clinician; nothing was exported.")
	}
	if err != nil {
		return SavedFile{}, problem(a.cfg.Log, "ExportFHIR", err)
	}
	name := fmt.Sprintf("outpost-fhir-%s.json", a.cfg.Now().Format("2006-01-02"))
	return a.save(c, "ExportFHIR", patientID, patientID, name, buf.Bytes())
}

// errNoSaver is returned when no save dialog exists (outside a window).
var errNoSaver = errors.New("no save dialog outside the window")

func decodeBase64Field(field, data string, limit int) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(data)) > limit+3 {
		return nil, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{field: fmt.Sprintf("The file is larger than %d MB.", limit>>20)}}
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.", Fields: map[string]string{field: "The file could not be read."}}
	}
	return b, nil
}
