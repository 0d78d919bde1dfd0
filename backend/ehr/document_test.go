package ehr

import (
	"strings"
	"testing"
	"time"
)

func TestDocument(t *testing.T) {
	now := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
	sha := strings.Repeat("ab", 32)
	valid := Document{PatientID: chartPatientID, Title: "Referral letter", ContentType: TypePDF, Size: 1000, SHA256: sha, Created: now.Format(time.RFC3339)}
	tests := []struct {
		name  string
		edit  func(*Document)
		field string
	}{
		{"valid", func(d *Document) {}, ""},
		{"no title", func(d *Document) { d.Title = " " }, "title"},
		{"svg", func(d *Document) { d.ContentType = "image/svg+xml" }, "file"},
		{"html", func(d *Document) { d.ContentType = "text/html" }, "file"},
		{"too big", func(d *Document) { d.Size = MaxDocument + 1 }, "file"},
		{"empty", func(d *Document) { d.Size = 0 }, "file"},
		{"bad hash", func(d *Document) { d.SHA256 = "../x" }, "file"},
		{"future", func(d *Document) { d.Created = now.Add(time.Hour).Format(time.RFC3339) }, "created"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid
			tt.edit(&d)
			err := d.Validate(now)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				body, err := DocumentBody(chartPatientID, d)
				if err != nil {
					t.Fatal(err)
				}
				if err := checkFHIR(t, body); err != nil {
					t.Fatalf("not valid FHIR: %v\n%s", err, body)
				}
				back, err := ParseDocumentBody(body)
				if err != nil || back != d {
					t.Fatalf("round trip: %+v %v", back, err)
				}
				return
			}
			if ErrorFields(err)[tt.field] == "" {
				t.Fatalf("got %v, want a message for %s", err, tt.field)
			}
		})
	}
	for data, want := range map[string]string{"%PDF-1.7": TypePDF, "\x89PNG\r\n\x1a\nxx": TypePNG, "\xff\xd8\xff\xe1": TypeJPEG, "GIF89a": "", "<svg": "", "": ""} {
		if got := SniffDocument([]byte(data)); got != want {
			t.Errorf("SniffDocument(%q) = %q, want %q", data, got, want)
		}
	}
}

func FuzzParseDocumentBody(f *testing.F) {
	body, _ := DocumentBody(chartPatientID, Document{PatientID: chartPatientID, Title: "x", ContentType: TypePNG, Size: 3, SHA256: strings.Repeat("0", 64), Created: "2026-01-01T00:00:00Z"})
	f.Add(body)
	f.Add([]byte(`{"resourceType":"DocumentReference","content":[{"attachment":{"url":"file:///etc/passwd"}}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ParseDocumentBody(raw)
		if err != nil {
			return
		}
		if strings.ContainsAny(d.SHA256, "/\\") && d.Validate(time.Now()) == nil {
			t.Fatalf("a path-like hash validated: %q", d.SHA256)
		}
	})
}
