package records_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"

	"outpost/backend/records"
)

// What sync needs of document contents: which current documents lack
// their contents here, which hold them, contents stored only under their
// own checksum, and the checksum a document version names.
func TestBlobsForSync(t *testing.T) {
	e := newEnv(t)
	pid := registered(t, e)
	pdf := []byte("%PDF-1.7\nreferral")
	doc, err := e.s.AddDocument(ctx, e.actor, pid, "Referral", pdf)
	if err != nil {
		t.Fatal(err)
	}
	sha := doc.Value.SHA256
	if held, err := e.s.HeldBlobs(ctx); err != nil || !slices.Equal(held, []string{sha}) {
		t.Fatalf("held %v %v", held, err)
	}
	if missing, err := e.s.MissingBlobs(ctx); err != nil || len(missing) != 0 {
		t.Fatalf("missing %v %v", missing, err)
	}
	vs, err := e.s.Outgoing(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var named []string
	for _, v := range vs {
		if s := records.BlobOf(v); s != "" {
			named = append(named, s)
		}
	}
	if !slices.Equal(named, []string{sha}) {
		t.Fatalf("the outbox names %v", named)
	}
	// The contents gone (as on a laptop that pulled the version only).
	if _, err := e.v.W.ExecContext(ctx, "DELETE FROM blobs WHERE sha256 = ?", sha); err != nil {
		t.Fatal(err)
	}
	if missing, err := e.s.MissingBlobs(ctx); err != nil || !slices.Equal(missing, []string{sha}) {
		t.Fatalf("missing %v %v", missing, err)
	}
	if held, _ := e.s.HeldBlobs(ctx); len(held) != 0 {
		t.Fatalf("held %v", held)
	}
	other := []byte("%PDF-1.7\nsomething else")
	sum := sha256.Sum256(other)
	for name, tc := range map[string]struct {
		sha  string
		data []byte
	}{
		"other contents": {sha, other},
		"empty":          {hex.EncodeToString(make([]byte, 32)), nil},
		"right checksum, not named by a document": {hex.EncodeToString(sum[:]), other},
	} {
		err := e.s.PutBlob(ctx, tc.sha, tc.data)
		if name == "right checksum, not named by a document" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, records.ErrBlobContent) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := e.s.PutBlob(ctx, sha, pdf); err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutBlob(ctx, sha, pdf); err != nil {
		t.Fatalf("again: %v", err)
	}
	if _, got, err := e.s.DocumentData(ctx, e.actor, doc.ID); err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("document data: %v", err)
	}
	if missing, _ := e.s.MissingBlobs(ctx); len(missing) != 0 {
		t.Fatalf("still missing %v", missing)
	}
}
