package sync_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/seal"
	"outpost/backend/sync"
	"outpost/backend/syncproto"
)

// tinyPNG is a valid 8×8 PNG of random pixels: its bytes are found
// nowhere else.
func tinyPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	px := make([]byte, 8*8*3)
	if _, err := rand.Read(px); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 64; i++ {
		img.Set(i%8, i/8, color.NRGBA{px[3*i], px[3*i+1], px[3*i+2], 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if ehr.SniffDocument(buf.Bytes()) != ehr.TypePNG {
		t.Fatal("not a PNG")
	}
	return buf.Bytes()
}

// addDocument registers a patient on l and attaches data to it.
func addDocument(t *testing.T, l *laptop, title string, data []byte) string {
	t.Helper()
	p, err := l.s.RegisterPatient(ctx, l.actor, patient("Zembalowski", "Lowland"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := l.s.AddDocument(ctx, l.actor, p.ID, title, data)
	if err != nil {
		t.Fatal(err)
	}
	return doc.ID
}

// serverFilesHold says which of the server's files hold b.
func serverFilesHold(t *testing.T, srv *server, b []byte) []string {
	t.Helper()
	var out []string
	entries, _ := os.ReadDir(srv.Dir)
	for _, e := range entries {
		raw, _ := os.ReadFile(filepath.Join(srv.Dir, e.Name()))
		if bytes.Contains(raw, b) {
			out = append(out, e.Name())
		}
	}
	return out
}

// A document added on one laptop opens on another after both sync, with
// the same bytes; the server's files hold neither the bytes, the title
// nor the checksum; syncing again moves nothing.
func TestDocumentContentsSync(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newLaptop(t, srv, key, "ada"), newLaptop(t, srv, key, "ben")
	data := tinyPNG(t)
	id := addDocument(t, a, "Quillwort wound photograph", data)

	if res := a.sync(t); res.BlobsSent != 1 || res.Pushed != 2 {
		t.Fatalf("a: %+v", res)
	}
	res := b.sync(t)
	if res.BlobsFetched != 1 || res.BlobsWaiting != 0 {
		t.Fatalf("b: %+v", res)
	}
	d, got, err := b.s.DocumentData(ctx, b.actor, id)
	if err != nil || !bytes.Equal(got, data) || d.Title != "Quillwort wound photograph" || d.ContentType != ehr.TypePNG {
		t.Fatalf("b reads %+v, %d bytes (equal %v): %v", d, len(got), bytes.Equal(got, data), err)
	}
	if res := a.sync(t); res.BlobsSent != 0 || res.Pushed != 0 || res.BlobsFetched != 0 {
		t.Errorf("a again: %+v", res)
	}
	if res := b.sync(t); res.BlobsFetched != 0 || res.Pulled != 0 {
		t.Errorf("b again: %+v", res)
	}
	// Zero knowledge: no file of the server holds the bytes (nor a run
	// of them from the middle), the title or the checksum.
	mid := data[len(data)/2 : len(data)/2+24]
	for what, b := range map[string][]byte{"bytes": data, "middle": mid, "title": []byte("Quillwort"), "checksum": []byte(d.SHA256)} {
		if files := serverFilesHold(t, srv, b); len(files) > 0 {
			t.Errorf("the server's %v hold the document's %s", files, what)
		}
	}
}

// A blob altered in the server's database is refused by the laptop that
// fetches it, with an alert; the document's content is not stored there,
// and a blob moved under another document's id is refused too.
func TestDocumentContentsTamperedAreRefused(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newLaptop(t, srv, key, "ada"), newLaptop(t, srv, key, "ben")
	first := addDocument(t, a, "Referral", tinyPNG(t))
	second := addDocument(t, a, "Lab report", tinyPNG(t))
	a.sync(t)
	srv.Kill()
	// The server's file is plain SQLite; the driver linked here (the
	// vault's SQLCipher) opens it without a key.
	db, err := sql.Open("sqlite3", filepath.Join(srv.Dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var blobs [][]byte
	rows, err := db.Query("SELECT blob_id, ciphertext FROM blobs ORDER BY blob_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var c []byte
		if err := rows.Scan(&id, &c); err != nil {
			t.Fatal(err)
		}
		ids, blobs = append(ids, id), append(blobs, c)
	}
	rows.Close()
	if len(ids) != 2 {
		t.Fatalf("the server holds %d blobs", len(ids))
	}
	// One byte of the first changed; the second swapped for the first's
	// original ciphertext.
	changed := bytes.Clone(blobs[0])
	changed[len(changed)/2] ^= 1
	for i, c := range [][]byte{changed, blobs[0]} {
		if _, err := db.Exec("UPDATE blobs SET ciphertext = ? WHERE blob_id = ?", c, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	srv.Serve(t)

	res, err := b.c.Sync(ctx)
	if !errors.Is(err, sync.ErrBlobTampered) {
		t.Fatalf("b stored altered contents: %+v %v", res, err)
	}
	if len(b.alerts) != 1 || b.alerts[0] != sync.AlertTampered {
		t.Errorf("alerts %v", b.alerts)
	}
	for _, id := range []string{first, second} {
		if _, _, err := b.s.DocumentData(ctx, b.actor, id); ehr.ErrorCode(err) != ehr.ENotFound {
			t.Errorf("document %s: %v", id, err)
		}
	}
	if n := len(b.versions(t)); n != 4 {
		t.Errorf("b holds %d versions, want the 4 (the versions themselves are sound)", n)
	}
}

// pushWithoutContents pushes l's outbox as a laptop did before document
// contents travelled: the versions only.
func pushWithoutContents(t *testing.T, l *laptop, srv *server) {
	t.Helper()
	vs, err := l.s.Outgoing(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	req := syncproto.PushRequest{}
	var ids []string
	for _, v := range vs {
		sealed, err := seal.Stable(l.c.Key, v)
		if err != nil {
			t.Fatal(err)
		}
		req.Versions = append(req.Versions, syncproto.Version{Record: v.RecordID, ID: v.VersionID, Parents: v.Parents, Sealed: sealed})
		ids = append(ids, v.VersionID)
	}
	r, err := syncproto.NewRequest(ctx, http.MethodPost, srv.Base, syncproto.PathPush, req, l.c.Signer)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := l.c.HTTP.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := syncproto.ReadResponse(resp, 1<<20, &syncproto.PushResponse{}); err != nil {
		t.Fatal(err)
	}
	if err := l.s.Sent(ctx, ids); err != nil {
		t.Fatal(err)
	}
}

// A laptop that syncs before the document's writer sent its contents
// gets the version, says the content is not here yet, and fetches it at
// a later sync once the writer sent it. The writer here pushed its
// versions as a laptop did before contents travelled; its first sync
// with this version offers every document's contents it holds.
func TestDocumentContentsArriveLater(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newLaptop(t, srv, key, "ada"), newLaptop(t, srv, key, "ben")
	data := tinyPNG(t)
	id := addDocument(t, a, "Referral", data)
	pushWithoutContents(t, a, srv)

	if res := b.sync(t); res.Pulled != 2 || res.BlobsWaiting != 1 || res.BlobsFetched != 0 {
		t.Fatalf("b: %+v", res)
	}
	_, _, err := b.s.DocumentData(ctx, b.actor, id)
	if ehr.ErrorCode(err) != ehr.ENotFound || ehr.ErrorMessage(err) != "The document's content is not on this computer yet." {
		t.Fatalf("b reads the document: %v", err)
	}
	if res := b.sync(t); res.BlobsWaiting != 1 {
		t.Fatalf("b again: %+v", res)
	}
	if res := a.sync(t); res.BlobsSent != 1 || res.Pushed != 0 {
		t.Fatalf("a: %+v", res)
	}
	if res := b.sync(t); res.BlobsFetched != 1 || res.BlobsWaiting != 0 {
		t.Fatalf("b later: %+v", res)
	}
	if _, got, err := b.s.DocumentData(ctx, b.actor, id); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("b reads %d bytes: %v", len(got), err)
	}
	// Nothing left to fetch: the chart is not searched again.
	if res := b.sync(t); res.BlobsFetched != 0 || res.BlobsWaiting != 0 {
		t.Errorf("b once more: %+v", res)
	}
}

// A document of the largest size travels: its sealed blob fits the
// protocol's and the server's limits.
func TestDocumentContentsLargest(t *testing.T) {
	if testing.Short() {
		t.Skip("20 MB")
	}
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newLaptop(t, srv, key, "ada"), newLaptop(t, srv, key, "ben")
	data := make([]byte, ehr.MaxDocument)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	copy(data, "%PDF-1.7\n")
	id := addDocument(t, a, "Scanned discharge summary", data)
	if res := a.sync(t); res.BlobsSent != 1 {
		t.Fatalf("a: %+v", res)
	}
	if res := b.sync(t); res.BlobsFetched != 1 {
		t.Fatalf("b: %+v", res)
	}
	if _, got, err := b.s.DocumentData(ctx, b.actor, id); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("b reads %d bytes: %v", len(got), err)
	}
}

// Many documents at once: one request per blob runs into the server's
// per-device rate limit (bursts of 40), which both laptops wait out
// instead of failing the sync.
func TestDocumentContentsManyAtOnce(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newLaptop(t, srv, key, "ada"), newLaptop(t, srv, key, "ben")
	waits := 0
	for _, l := range []*laptop{a, b} {
		l.c.Sleep = func(ctx context.Context, d time.Duration) error {
			waits++
			time.Sleep(d)
			return nil
		}
	}
	p, err := a.s.RegisterPatient(ctx, a.actor, patient("Zembalowski", "Lowland"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	ids := make([]string, n)
	datas := make([][]byte, n)
	for i := range n {
		datas[i] = tinyPNG(t)
		doc, err := a.s.AddDocument(ctx, a.actor, p.ID, "Photo", datas[i])
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = doc.ID
	}
	if res := a.sync(t); res.BlobsSent != n {
		t.Fatalf("a: %+v", res)
	}
	if res := b.sync(t); res.BlobsFetched != n || res.BlobsWaiting != 0 {
		t.Fatalf("b: %+v", res)
	}
	for i, id := range ids {
		if _, got, err := b.s.DocumentData(ctx, b.actor, id); err != nil || !bytes.Equal(got, datas[i]) {
			t.Fatalf("document %d: %v", i, err)
		}
	}
	if waits == 0 {
		t.Error("never rate-limited: the test does not test the wait")
	}
}
