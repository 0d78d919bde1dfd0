package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/backend/auth"
	"outpost/backend/ehr"
)

func TestSaveSummaryPDF(t *testing.T) {
	e := newClinic(t)
	doc, _ := e.user("dr.print", auth.RoleClinician)
	p := e.patient(doc)
	got, err := doc.SaveSummaryPDF(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "summary-" + p.ClinicNo + "-2026-05-04.pdf"; got.Name != want {
		t.Fatalf("saved as %q, want %q", got.Name, want)
	}
	pdf := readSaved(t, e, got.Name)
	if !strings.HasPrefix(string(pdf), "%PDF-") || !strings.Contains(string(pdf), "MOYO, Tendai") {
		t.Fatal("not the patient's summary PDF")
	}
	if !e.audited(t, "SaveSummaryPDF", p.ID) {
		t.Error("the copy leaving the vault was not audited")
	}
}

// audited reports whether an audit event of action exists (for patientID
// when it is not "").
func (e *clinicEnv) audited(t *testing.T, action, patientID string) bool {
	t.Helper()
	var n int
	err := e.admin.svc.Vault.R.QueryRow("SELECT count(*) FROM audit WHERE action = ? AND (? = '' OR patient_id = ?)", action, patientID, patientID).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// readSaved reads a file the stand-in dialog wrote, checking it is private.
func readSaved(t *testing.T, e *clinicEnv, name string) []byte {
	t.Helper()
	path := filepath.Join(e.saves, name)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", name, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSaveDocument(t *testing.T) {
	e := newClinic(t)
	doc, _ := e.user("dr.docs", auth.RoleClinician)
	p := e.patient(doc)
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	it, err := doc.AddDocument(DocumentUpload{PatientID: p.ID, Title: "Referral letter", Data: base64.StdEncoding.EncodeToString(pdf)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := doc.SaveDocument(it.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Name, "document-") || !strings.HasSuffix(got.Name, ".pdf") {
		t.Errorf("saved as %q", got.Name)
	}
	if b := readSaved(t, e, got.Name); string(b) != string(pdf) {
		t.Error("the copy differs from the stored document")
	}
	// A clerk sees no clinical records, documents included.
	clerk, _ := e.user("clerk.docs", auth.RoleClerk)
	if _, err := clerk.SaveDocument(it.ID); code(t, err) != ehr.EForbidden {
		t.Errorf("clerk: %v", err)
	}
}

func TestSaveCancelled(t *testing.T) {
	e := newClinic(t)
	a := New(Config{DataDir: e.dir, Keyring: e.kr, Now: e.clock.Now, Version: "test", Argon2: e.admin.cfg.Argon2, Passwords: fastPasswords,
		Save: func(context.Context, string, []byte) (string, error) { return "", nil }})
	Start(context.Background(), a)
	t.Cleanup(func() { Stop(a) })
	doc, _ := e.user("dr.cancel", auth.RoleClinician)
	p := e.patient(doc)
	a.sid = doc.sid
	got, err := a.SaveSummaryPDF(p.ID)
	if err != nil || got.Name != "" {
		t.Fatalf("cancelled save: %+v %v", got, err)
	}
	if e.audited(t, "SaveSummaryPDF", p.ID) {
		t.Error("a cancelled save was audited as a copy leaving the vault")
	}
}

// Outside a window there is no dialog: a clear refusal, not a crash.
func TestSaveWithoutWindow(t *testing.T) {
	e := newClinic(t)
	a := New(Config{DataDir: e.dir, Keyring: e.kr, Now: e.clock.Now, Version: "test", Argon2: e.admin.cfg.Argon2, Passwords: fastPasswords})
	Start(context.Background(), a)
	t.Cleanup(func() { Stop(a) })
	doc, _ := e.user("dr.nowin", auth.RoleClinician)
	p := e.patient(doc)
	a.sid = doc.sid
	_, err := a.SaveSummaryPDF(p.ID)
	if code(t, err) != ehr.EInternal {
		t.Fatalf("got %v", err)
	}
}

func TestSafeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"summary-000123-2026-05-04.pdf", "summary-000123-2026-05-04.pdf"},
		{"../../etc/passwd", "passwd"},
		{"..", "outpost-file.."},
		{".bashrc", "outpost-file.bashrc"},
		{"a b/c", "c"},
		{"ré sumé.pdf", "r__sum_.pdf"},
	} {
		if got := safeName(tc.in); got != tc.want {
			t.Errorf("safeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExportFHIR(t *testing.T) {
	e := newClinic(t)
	doc, _ := e.user("dr.export", auth.RoleClinician)
	p := e.patient(doc)
	got, err := doc.ExportFHIR(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(readSaved(t, e, got.Name), &b); err != nil {
		t.Fatal(err)
	}
	if b.ResourceType != "Bundle" || len(b.Entry) != 1 || b.Entry[0].Resource.ResourceType != "Patient" {
		t.Errorf("bundle: %+v", b)
	}
	if !e.audited(t, "ExportFHIR", p.ID) {
		t.Error("export not audited")
	}
}

func TestFHIRImportJob(t *testing.T) {
	e := newClinic(t)
	doc, _ := e.user("dr.import", auth.RoleClinician)
	raw, err := os.ReadFile("../testdata/fhir/samples/Norma_Pagan_c5c29bde-5877-42ae-b786-17ce70275691.json")
	if err != nil {
		t.Fatal(err)
	}
	run := func() ImportJob {
		t.Helper()
		j, err := doc.StartFHIRImport(FHIRUpload{Name: "norma.json", Data: base64.StdEncoding.EncodeToString(raw)})
		if err != nil {
			t.Fatal(err)
		}
		return waitImport(t, doc, j.ID)
	}
	first := run()
	if first.Problem != nil || first.Totals.Imported == 0 || first.Done != first.Total || first.Total == 0 {
		t.Fatalf("first import: %+v", first)
	}
	again := run()
	if again.Totals.Imported != 0 || again.Totals.Present != first.Totals.Imported {
		t.Errorf("second import: imported %d, present %d; want 0, %d", again.Totals.Imported, again.Totals.Present, first.Totals.Imported)
	}
	// Another user cannot read someone else's import.
	nurse, _ := e.user("nurse.import", auth.RoleNurse)
	if _, err := nurse.FHIRImportStatus(first.ID); code(t, err) != ehr.ENotFound {
		t.Errorf("other user's import: %v", err)
	}
	// A broken file: a clear message, nothing stored.
	bad, err := doc.StartFHIRImport(FHIRUpload{Name: "bad.json", Data: base64.StdEncoding.EncodeToString([]byte(`{"resourceType": "Bundle", "entry": [`))})
	if err != nil {
		t.Fatal(err)
	}
	j := waitImport(t, doc, bad.ID)
	if j.Problem == nil || j.Problem.Code != ehr.EInvalid || !strings.Contains(j.Problem.Message, "not valid JSON") {
		t.Errorf("broken file: %+v", j.Problem)
	}
	// Not base64: refused at once, on the file field.
	if _, err := doc.StartFHIRImport(FHIRUpload{Name: "x", Data: "%%%"}); code(t, err) != ehr.EInvalid {
		t.Errorf("not base64: %v", err)
	}
	if !e.audited(t, "fhir.import", "") {
		t.Error("import not audited")
	}
}

func waitImport(t *testing.T, a *App, id string) ImportJob {
	t.Helper()
	for range 600 {
		j, err := a.FHIRImportStatus(id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Finished {
			return j
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("import did not finish in 30 s")
	return ImportJob{}
}
