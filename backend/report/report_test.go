package report

import (
	"bytes"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

func sample() (ehr.Patient, records.Summary) {
	p := ehr.Patient{ClinicNo: "K7Q-00042", Family: "Müller", Given: "José (Pepe)", Sex: "male", BirthDate: "1970-03-04",
		NationalID: "NI-123456", Village: "Lowland", Address: "Plot 4\nNear the market", KinName: "Ana Müller", KinRelation: "wife"}
	s := records.Summary{
		Allergies: []records.Item[ehr.Allergy]{{Value: ehr.Allergy{Substance: ehr.Concept{Text: "Penicillin"}, Reaction: "rash", Severity: "severe", Status: "active"}}},
		Problems:  []records.Item[ehr.Condition]{{Value: ehr.Condition{Code: ehr.Concept{Text: "Type 2 diabetes"}, Status: "active", Onset: "2019-01-01"}}},
		Vitals:    []records.Item[ehr.Observation]{{Value: ehr.Observation{Vital: "weight", Value: 72.5, Unit: "kg", Effective: "2026-01-02T10:00:00Z"}}},
	}
	for i := range 80 { // enough visits for a second page
		s.Visits = append(s.Visits, records.Item[ehr.Encounter]{Value: ehr.Encounter{Status: "signed", Start: "2026-01-02T10:00:00Z",
			Complaint: "visit " + strconv.Itoa(i), Assessment: "stable", Plan: "continue \\ (unchanged)"}})
	}
	return p, s
}

func TestSummaryIsAWellFormedPDF(t *testing.T) {
	p, s := sample()
	pdf := Summary("Hill Clinic", p, s, "dr.ama", time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatal("not a PDF")
	}
	// Every cross-reference entry points at its object.
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n")) {
		t.Fatal("startxref does not point at the xref table")
	}
	entries := regexp.MustCompile(`(\d{10}) 00000 n `).FindAllSubmatch(pdf[xref:], -1)
	if len(entries) < 7 {
		t.Fatalf("only %d objects", len(entries))
	}
	for i, e := range entries {
		off, _ := strconv.Atoi(string(e[1]))
		if want := strconv.Itoa(i+1) + " 0 obj"; !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Fatalf("xref entry %d points at %q", i+1, pdf[off:off+10])
		}
	}
	if n := bytes.Count(pdf, []byte("/Type /Page ")); n < 2 {
		t.Errorf("%d pages, want the visits to spill onto a second", n)
	}
	for _, want := range []string{"(M\\334LLER, Jos\\351 \\(Pepe\\))", "Penicillin - rash \\(severe\\)", "Type 2 diabetes", "continue \\\\ \\(unchanged\\)"} {
		if !bytes.Contains(pdf, []byte(want)) {
			t.Errorf("PDF lacks %s", want)
		}
	}
	// Where poppler's pdftotext is installed, it reads the text back.
	if path, err := exec.LookPath("pdftotext"); err == nil {
		cmd := exec.Command(path, "-", "-")
		cmd.Stdin = bytes.NewReader(pdf)
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "MÜLLER, José (Pepe)") {
			t.Errorf("pdftotext: %v\n%s", err, out)
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"(a) \\ b", "\\(a\\) \\\\ b"},
		{"é", "\\351"},
		{"–", "\\226"},
		{"Алла", "????"},
		{"\x00\n", "??"},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSummaryShowsDeath(t *testing.T) {
	p, s := sample()
	p.Deceased, p.DeceasedDate = true, "2026-05-30"
	pdf := Summary("Hill Clinic", p, s, "dr.ama", time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	if !bytes.Contains(pdf, []byte("\\(deceased 2026-05-30\\)")) {
		t.Error("the summary does not say the patient died")
	}
	p.DeceasedDate = ""
	if pdf = Summary("Hill Clinic", p, s, "dr.ama", time.Now()); !bytes.Contains(pdf, []byte("\\(deceased\\)")) {
		t.Error("the summary does not say the patient died (date unknown)")
	}
}
