package syncserver_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

func (h *harness) putBlob(d *device, id string, sealed []byte) (syncproto.BlobPutResponse, error) {
	h.t.Helper()
	var resp syncproto.BlobPutResponse
	err := h.call(d, http.MethodPost, syncproto.PathBlobs, syncproto.BlobPut{ID: id, Sealed: sealed}, &resp)
	return resp, err
}

func (h *harness) getBlob(d *device, id string) (syncproto.BlobResponse, error) {
	h.t.Helper()
	var resp syncproto.BlobResponse
	err := h.call(d, http.MethodGet, syncproto.PathBlobs+"?id="+id, nil, &resp)
	return resp, err
}

func (h *harness) missingBlobs(d *device, ids ...string) (syncproto.BlobsMissingResponse, error) {
	h.t.Helper()
	var resp syncproto.BlobsMissingResponse
	err := h.call(d, http.MethodPost, syncproto.PathBlobsMissing, syncproto.BlobsMissingRequest{IDs: ids}, &resp)
	return resp, err
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// A blob uploaded by one device is served to another of its clinic,
// byte for byte; uploading it again is a duplicate, other bytes under its
// id a mismatch that changes nothing; the missing-blobs question lists
// what the clinic lacks; another clinic's device finds nothing.
func TestBlobsRoundTrip(t *testing.T) {
	h := newHarness(t, nil)
	a, b, v := h.newDevice(), h.newDevice(), h.newDevice()
	h.enroll(a, "hill")
	h.enroll(b, "hill")
	h.enroll(v, "vale")
	id, other := blobKey(1), blobKey(2)
	sealed := randomBytes(t, 1<<20)

	if got, err := h.getBlob(b, id); err != nil || got.Found || got.ID != id || len(got.Sealed) != 0 {
		t.Fatalf("before upload: %+v %v", got.Found, err)
	}
	if m, err := h.missingBlobs(a, id, other); err != nil || len(m.Missing) != 2 {
		t.Fatalf("missing before: %v %v", m.Missing, err)
	}
	if r, err := h.putBlob(a, id, sealed); err != nil || r.Status != syncproto.BlobStored || r.ID != id {
		t.Fatalf("upload: %+v %v", r, err)
	}
	if r, err := h.putBlob(b, id, sealed); err != nil || r.Status != syncproto.BlobDuplicate {
		t.Fatalf("upload again: %+v %v", r, err)
	}
	changed := bytes.Clone(sealed)
	changed[0] ^= 1
	if r, err := h.putBlob(b, id, changed); err != nil || r.Status != syncproto.BlobMismatch {
		t.Fatalf("other bytes: %+v %v", r, err)
	}
	if !strings.Contains(h.logs.String(), "blob upload mismatched") {
		t.Error("a mismatch is not logged")
	}
	got, err := h.getBlob(b, id)
	if err != nil || !got.Found || !bytes.Equal(got.Sealed, sealed) {
		t.Fatalf("fetch: found %v, %d bytes (equal %v): %v", got.Found, len(got.Sealed), bytes.Equal(got.Sealed, sealed), err)
	}
	if m, err := h.missingBlobs(b, other, id); err != nil || len(m.Missing) != 1 || m.Missing[0] != other {
		t.Fatalf("missing after: %v %v", m.Missing, err)
	}
	if got, err := h.getBlob(v, id); err != nil || got.Found {
		t.Fatalf("another clinic's device: %v %v", got.Found, err)
	}
}

func blobKey(n byte) string { return strings.Repeat(string("0123456789abcdef"[n%16]), 64) }

// Blob requests are refused unsigned, from a revoked device, with a
// malformed id or query, over the size limit; nothing is stored.
func TestBlobsRefused(t *testing.T) {
	h := newHarness(t, func(c *syncserver.Config) { c.MaxBlobBody = 64 << 10 })
	a, r := h.newDevice(), h.newDevice()
	h.enroll(a, "hill")
	h.enroll(r, "hill")
	// Unsigned: unauthenticated, like every route, each method.
	for _, req := range []struct {
		method, uri string
		payload     any
	}{
		{http.MethodPost, syncproto.PathBlobs, syncproto.BlobPut{ID: blobKey(1), Sealed: []byte("x")}},
		{http.MethodGet, syncproto.PathBlobs + "?id=" + blobKey(1), nil},
		{http.MethodPost, syncproto.PathBlobsMissing, syncproto.BlobsMissingRequest{IDs: []string{blobKey(1)}}},
	} {
		if got := refusal(t, h.request(nil, req.method, req.uri, req.payload)); got.Code != syncproto.CodeUnauthenticated {
			t.Errorf("unsigned %s %s: %s", req.method, req.uri, got.Code)
		}
	}
	for name, put := range map[string]syncproto.BlobPut{
		"short id":      {ID: "abc", Sealed: []byte("x")},
		"upper-case id": {ID: strings.ToUpper(blobKey(10)), Sealed: []byte("x")},
		"no bytes":      {ID: blobKey(1)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.putBlob(a, put.ID, put.Sealed)
			wantCode(t, err, syncproto.CodeBadRequest)
		})
	}
	for name, uri := range map[string]string{
		"no id":       syncproto.PathBlobs,
		"bad id":      syncproto.PathBlobs + "?id=../../etc",
		"two ids":     syncproto.PathBlobs + "?id=" + blobKey(1) + "&id=" + blobKey(2),
		"other query": syncproto.PathBlobs + "?id=" + blobKey(1) + "&name=x",
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, h.call(a, http.MethodGet, uri, nil, nil), syncproto.CodeBadRequest)
		})
	}
	t.Run("missing: too many ids", func(t *testing.T) {
		ids := make([]string, syncproto.MaxBlobQuery+1)
		for i := range ids {
			ids[i] = hex.EncodeToString(randomBytes(t, 32))
		}
		_, err := h.missingBlobs(a, ids...)
		wantCode(t, err, syncproto.CodeBadRequest)
	})
	t.Run("missing: repeated id", func(t *testing.T) {
		_, err := h.missingBlobs(a, blobKey(1), blobKey(1))
		wantCode(t, err, syncproto.CodeBadRequest)
	})
	t.Run("over the size limit", func(t *testing.T) {
		_, err := h.putBlob(a, blobKey(3), randomBytes(t, 80<<10))
		wantCode(t, err, syncproto.CodeTooLarge)
	})
	// Revoked.
	if err := h.store.Revoke(ctx, r.id, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := h.putBlob(r, blobKey(4), []byte("x"))
	wantCode(t, err, syncproto.CodeRevoked)
	_, err = h.getBlob(r, blobKey(4))
	wantCode(t, err, syncproto.CodeRevoked)
	for _, id := range []string{blobKey(1), blobKey(3), blobKey(4)} {
		if got, err := h.getBlob(a, id); err != nil || got.Found {
			t.Errorf("blob %s stored: %v %v", id[:4], got.Found, err)
		}
	}
}

// A blob of the largest size fits the default limits.
func TestBlobsLargest(t *testing.T) {
	h := newHarness(t, nil)
	a := h.newDevice()
	h.enroll(a, "hill")
	sealed := randomBytes(t, syncproto.MaxBlobSealed)
	if r, err := h.putBlob(a, blobKey(5), sealed); err != nil || r.Status != syncproto.BlobStored {
		t.Fatalf("upload: %+v %v", r, err)
	}
	if got, err := h.getBlob(a, blobKey(5)); err != nil || !bytes.Equal(got.Sealed, sealed) {
		t.Fatalf("fetch: %d bytes: %v", len(got.Sealed), err)
	}
	_, err := h.putBlob(a, blobKey(6), randomBytes(t, syncproto.MaxBlobSealed+1))
	wantCode(t, err, syncproto.CodeBadRequest)
}

// Zero knowledge for document contents: after a laptop uploads a sealed
// document (and a mismatching one under its id) and another fetches it,
// nothing the server holds, in its database or its log, contains the
// document, its checksum or anything of the patient's; the other laptop
// opens what it fetched.
func TestServerHoldsNoDocumentPlaintext(t *testing.T) {
	h := newHarness(t, nil)
	sealer := newSealer(t)
	a, b := h.newDevice(), h.newDevice()
	h.enroll(a, "hill")
	h.enroll(b, "hill")
	doc := append([]byte("%PDF-1.7\n"), patientBody(7)...)
	sum := sha256.Sum256(doc)
	checksum := hex.EncodeToString(sum[:])
	// The opaque id stands for HMAC(clinic key, checksum): random here.
	id := hex.EncodeToString(randomBytes(t, 32))
	sealed := sealer.sealBytes(t, "outpost-blob/1", id, doc)
	if r, err := h.putBlob(a, id, sealed); err != nil || r.Status != syncproto.BlobStored {
		t.Fatalf("upload: %+v %v", r, err)
	}
	if r, err := h.putBlob(a, id, sealer.sealBytes(t, "outpost-blob/1", id, doc)); err != nil || r.Status != syncproto.BlobMismatch {
		t.Fatalf("mismatch: %+v %v", r, err)
	}
	got, err := h.getBlob(b, id)
	if err != nil || !got.Found {
		t.Fatalf("fetch: %v", err)
	}
	aead, _ := chacha20poly1305.NewX(sealer.key)
	n := aead.NonceSize()
	if plain, err := aead.Open(nil, got.Sealed[:n], got.Sealed[n:], []byte("outpost-blob/1\n"+id)); err != nil || !bytes.Equal(plain, doc) {
		t.Fatalf("the fetched blob does not open to the document: %v", err)
	}
	before := dump(t, h.dbPath)
	if err := h.store.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	after := dump(t, h.dbPath)
	for name, b := range map[string][]byte{"database (WAL)": before, "database (checkpointed)": after, "log": []byte(h.logs.String())} {
		if found := leaks(b); len(found) > 0 {
			t.Errorf("the server's %s holds %v", name, found)
		}
		if bytes.Contains(bytes.ToLower(b), []byte(checksum)) || bytes.Contains(b, sum[:]) || bytes.Contains(b, []byte("%PDF")) {
			t.Errorf("the server's %s holds the document's checksum or header", name)
		}
	}
	if !bytes.Contains(after, sealed) {
		t.Fatal("the dump does not hold the ciphertext: it is not looking at the data")
	}
}
