package records_test

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// P5 and S9: documents are recognised by content, limited in size, kept
// in the vault and addressed by id; the name given is only a title.
func TestDocuments(t *testing.T) {
	e := newEnv(t)
	pid := registered(t, e)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)
	tests := []struct {
		name  string
		title string
		data  []byte
		ok    bool
	}{
		{"png", "wound photo", png, true},
		{"pdf", "referral letter", []byte("%PDF-1.7\n..."), true},
		{"jpeg", "x-ray photo", []byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}, true},
		{"html named pdf", "letter.pdf", []byte("<html><script>alert(1)</script>"), false},
		{"executable", "scan.png", []byte("MZ\x90\x00"), false},
		{"svg", "chart.svg", []byte("<svg onload=alert(1)>"), false},
		{"empty", "nothing", nil, false},
		{"too large", "big", append([]byte("%PDF-"), make([]byte, ehr.MaxDocument)...), false},
		{"path as title", "../../etc/passwd", []byte("%PDF-1.4"), true}, // only a title: nothing is written to a path
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, err := e.s.AddDocument(ctx, e.actor, pid, tt.title, tt.data)
			if !tt.ok {
				if ehr.ErrorFields(err)["file"] == "" {
					t.Fatalf("accepted or wrong error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d, data, err := e.s.DocumentData(ctx, e.actor, it.ID)
			if err != nil || !bytes.Equal(data, tt.data) || d.Title != tt.title {
				t.Fatalf("read back: %+v %v", d, err)
			}
		})
	}
	// The bytes are inside the vault, not in the data folder.
	entries, _ := e.v.R.Query("SELECT count(*) FROM blobs")
	entries.Close()
	files, _ := filesIn(e.v.Dir())
	for _, f := range files {
		if strings.Contains(f, "passwd") || strings.HasSuffix(f, ".pdf") || strings.HasSuffix(f, ".png") {
			t.Errorf("a document was written as a file: %s", f)
		}
	}
	list, err := records.List(ctx, e.s, e.actor, records.Documents, pid, 10)
	if err != nil || len(list) != 4 {
		t.Fatalf("documents listed: %d, %v", len(list), err)
	}
}

func filesIn(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	return out, err
}
