package seal_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"outpost/backend/seal"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A blob opens under its own checksum only, with its own key only; the
// same contents seal to the same bytes under the same id; the id tells
// nothing of the checksum without the key.
func TestBlob(t *testing.T) {
	k, _ := seal.NewKey(nil)
	other, _ := seal.NewKey(nil)
	data, second := []byte("%PDF-1.7 a referral letter"), []byte("%PDF-1.7 a lab report")
	sha, sha2 := sum(data), sum(second)

	id, sealed, err := seal.SealBlob(k, sha, data)
	if err != nil {
		t.Fatal(err)
	}
	if id != seal.BlobID(k, sha) || len(id) != 64 || id == sha || id == seal.BlobID(other, sha) || id == seal.BlobID(k, sha2) {
		t.Fatalf("id %s", id)
	}
	if bytes.Contains(sealed, data) || bytes.Contains(sealed, []byte("referral")) {
		t.Fatal("the sealed blob holds the contents")
	}
	id2, again, err := seal.SealBlob(k, sha, data)
	if err != nil || id2 != id || !bytes.Equal(again, sealed) {
		t.Fatalf("sealing again differs: %v", err)
	}
	got, err := seal.OpenBlob(k, sha, sealed)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("open: %q %v", got, err)
	}
	_, sealed2, _ := seal.SealBlob(k, sha2, second)
	changed := bytes.Clone(sealed)
	changed[len(changed)-20] ^= 1
	for name, tc := range map[string]struct {
		k      seal.Key
		sha    string
		sealed []byte
	}{
		"another key":        {other, sha, sealed},
		"a changed byte":     {k, sha, changed},
		"another blob":       {k, sha, sealed2},
		"under another name": {k, sha2, sealed},
		"cut short":          {k, sha, sealed[:30]},
		"empty":              {k, sha, nil},
	} {
		if _, err := seal.OpenBlob(tc.k, tc.sha, tc.sealed); !errors.Is(err, seal.ErrBlob) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := seal.SealBlob(k, sha2, data); !errors.Is(err, seal.ErrBlob) {
		t.Errorf("sealing under another checksum: %v", err)
	}
}
