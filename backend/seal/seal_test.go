package seal_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"outpost/backend/ehr"
	"outpost/backend/seal"
)

func version() ehr.Version {
	return ehr.Version{VersionID: "0190a0b0-0000-7000-8000-000000000002", RecordID: "0190a0b0-0000-7000-8000-000000000001", Kind: ehr.KindPatient,
		Parents: []string{"0190a0b0-0000-7000-8000-000000000000"}, HLC: 12345, Author: "dr.ama", Device: "dev-1", Reason: "moved",
		Body: []byte(`{"resourceType":"Patient","name":[{"family":"Marker-Osei"}]}`)}
}

func TestSealOpens(t *testing.T) {
	k, err := seal.NewKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	v := version()
	sealed, err := seal.Seal(k, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("Marker-Osei")) || bytes.Contains(sealed, []byte("dr.ama")) {
		t.Fatal("the sealed version shows its contents")
	}
	got, err := seal.Open(k, v.RecordID, v.VersionID, v.Parents, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Author != v.Author || got.HLC != v.HLC || !bytes.Equal(got.Body, v.Body) || got.Reason != v.Reason || got.Kind != v.Kind {
		t.Errorf("opened %+v, want %+v", got, v)
	}
	again, _ := seal.Seal(k, v, nil)
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one version are equal: the nonce is not random")
	}
	back, err := seal.ParseKey(k.String())
	if err != nil || back != k {
		t.Errorf("key round trip: %v", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	k, _ := seal.NewKey(nil)
	other, _ := seal.NewKey(nil)
	v := version()
	sealed, _ := seal.Seal(k, v, nil)
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)/2] ^= 0x40
	tests := []struct {
		name    string
		key     seal.Key
		record  string
		id      string
		parents []string
		sealed  []byte
	}{
		{"another clinic's key", other, v.RecordID, v.VersionID, v.Parents, sealed},
		{"a changed byte", k, v.RecordID, v.VersionID, v.Parents, flipped},
		{"moved to another record", k, "0190a0b0-0000-7000-8000-0000000000ff", v.VersionID, v.Parents, sealed},
		{"claimed as another version", k, v.RecordID, "0190a0b0-0000-7000-8000-0000000000fe", v.Parents, sealed},
		{"other parents", k, v.RecordID, v.VersionID, nil, sealed},
		{"truncated", k, v.RecordID, v.VersionID, v.Parents, sealed[:len(sealed)-1]},
		{"too short", k, v.RecordID, v.VersionID, v.Parents, sealed[:10]},
		{"empty", k, v.RecordID, v.VersionID, v.Parents, nil},
	}
	for _, tt := range tests {
		if _, err := seal.Open(tt.key, tt.record, tt.id, tt.parents, tt.sealed); !errors.Is(err, seal.ErrOpen) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if _, err := seal.ParseKey("00ff"); err == nil {
		t.Error("a short key parsed")
	}
}

// A sealed version that expands beyond MaxVersion is refused, not read
// into memory.
func TestOpenRefusesABomb(t *testing.T) {
	k, _ := seal.NewKey(nil)
	v := version()
	v.Body = make([]byte, seal.MaxVersion)
	sealed, err := seal.Seal(k, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) > 1<<20 {
		t.Fatalf("%d bytes: not a bomb", len(sealed))
	}
	if _, err := seal.Open(k, v.RecordID, v.VersionID, v.Parents, sealed); !errors.Is(err, seal.ErrOpen) {
		t.Errorf("bomb: %v", err)
	}
}

// Stable seals one version to the same bytes every time (a retried push
// is a duplicate), different versions differently, and opens like Seal.
func TestStable(t *testing.T) {
	k, _ := seal.NewKey(nil)
	v := version()
	a, err := seal.Stable(k, v)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := seal.Stable(k, v)
	if !bytes.Equal(a, b) {
		t.Fatal("the same version sealed to different bytes")
	}
	w := v
	w.Reason = "other"
	if c, _ := seal.Stable(k, w); bytes.Equal(a, c) {
		t.Fatal("two versions sealed alike")
	}
	if got, err := seal.Open(k, v.RecordID, v.VersionID, v.Parents, a); err != nil || got.Reason != v.Reason {
		t.Fatalf("open: %v", err)
	}
}

// A file sealed as one format does not open as another, even with the
// right passphrase.
func TestPassphraseFormats(t *testing.T) {
	var buf bytes.Buffer
	costs := seal.Costs{Memory: 64, Time: 1, Threads: 1}
	if err := seal.WithPassphrase("outpost-test-a/1", []byte("secret"), "pass phrase", costs, rand.Reader, &buf); err != nil {
		t.Fatal(err)
	}
	if got, err := seal.OpenPassphrase("outpost-test-a/1", bytes.NewReader(buf.Bytes()), "pass phrase", 1<<10); err != nil || string(got) != "secret" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := seal.OpenPassphrase("outpost-test-b/1", bytes.NewReader(buf.Bytes()), "pass phrase", 1<<10); !errors.Is(err, seal.ErrFile) {
		t.Fatalf("another format: %v", err)
	}
}
