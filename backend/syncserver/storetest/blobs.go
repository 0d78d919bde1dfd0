package storetest

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"outpost/backend/syncproto"
	"outpost/backend/syncserver"
)

// blobTests are the contract of syncserver.BlobStore.
var blobTests = []struct {
	name string
	fn   func(t *testing.T, s syncserver.Store)
}{
	{"BlobsIdempotent", testBlobsIdempotent},
	{"BlobsClinicsApart", testBlobsClinicsApart},
	{"BlobsDevice", testBlobsDevice},
	{"BlobsMissing", testBlobsMissing},
	{"BlobsConcurrent", testBlobsConcurrent},
}

func mustPutBlob(t testing.TB, s syncserver.Store, b syncserver.Blob, want string) {
	t.Helper()
	got, err := s.PutBlob(ctx, b)
	if err != nil || got != want {
		t.Fatalf("put blob: %q %v, want %q", got, err, want)
	}
}

// A blob is stored once: the same ciphertext again is a duplicate, other
// ciphertext under its id a mismatch that changes nothing; it reads back
// exactly, with its device and time; an unknown id is ErrNotFound.
func testBlobsIdempotent(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	a, b := mustDevice(t, s, "hill"), mustDevice(t, s, "hill")
	id := opaque(t)
	c := sealed(3 << 20)
	mustPutBlob(t, s, syncserver.Blob{Clinic: "hill", ID: id, Device: a.ID, Stored: t0, Sealed: c}, syncproto.BlobStored)
	mustPutBlob(t, s, syncserver.Blob{Clinic: "hill", ID: id, Device: b.ID, Stored: t0.Add(time.Hour), Sealed: bytes.Clone(c)}, syncproto.BlobDuplicate)
	other := bytes.Clone(c)
	other[len(other)-1] ^= 1
	mustPutBlob(t, s, syncserver.Blob{Clinic: "hill", ID: id, Device: b.ID, Stored: t0, Sealed: other}, syncproto.BlobMismatch)
	mustPutBlob(t, s, syncserver.Blob{Clinic: "hill", ID: id, Device: b.ID, Stored: t0, Sealed: c[:len(c)-1]}, syncproto.BlobMismatch)
	got, err := s.Blob(ctx, "hill", id)
	if err != nil || !bytes.Equal(got.Sealed, c) || got.Device != a.ID || !got.Stored.Equal(t0) || got.ID != id || got.Clinic != "hill" || got.Size() != len(c) {
		t.Fatalf("blob: device %s at %v, %d bytes (equal %v): %v", got.Device, got.Stored, got.Size(), bytes.Equal(got.Sealed, c), err)
	}
	if _, err := s.Blob(ctx, "hill", opaque(t)); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("unknown blob: %v", err)
	}
}

// Clinics are apart: the same id in two clinics is two blobs, and one
// clinic's blob is not found in another.
func testBlobsClinicsApart(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	mustClinic(t, s, "vale")
	h, v := mustDevice(t, s, "hill"), mustDevice(t, s, "vale")
	id := opaque(t)
	ch, cv := sealed(100), sealed(200)
	mustPutBlob(t, s, syncserver.Blob{Clinic: "hill", ID: id, Device: h.ID, Stored: t0, Sealed: ch}, syncproto.BlobStored)
	if _, err := s.Blob(ctx, "vale", id); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("hill's blob in vale: %v", err)
	}
	mustPutBlob(t, s, syncserver.Blob{Clinic: "vale", ID: id, Device: v.ID, Stored: t0, Sealed: cv}, syncproto.BlobStored)
	for clinic, want := range map[string][]byte{"hill": ch, "vale": cv} {
		if got, err := s.Blob(ctx, clinic, id); err != nil || !bytes.Equal(got.Sealed, want) {
			t.Errorf("%s: %d bytes, %v", clinic, got.Size(), err)
		}
	}
	// A device puts into its own clinic only.
	if _, err := s.PutBlob(ctx, syncserver.Blob{Clinic: "vale", ID: opaque(t), Device: h.ID, Stored: t0, Sealed: ch}); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("hill's device into vale: %v", err)
	}
}

// Only an active device of the clinic stores a blob.
func testBlobsDevice(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	d := mustDevice(t, s, "hill")
	if _, err := s.PutBlob(ctx, syncserver.Blob{Clinic: "hill", ID: opaque(t), Device: syncproto.DeviceID(newKey(t)), Stored: t0, Sealed: sealed(10)}); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	if err := s.Revoke(ctx, d.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	id := opaque(t)
	if _, err := s.PutBlob(ctx, syncserver.Blob{Clinic: "hill", ID: id, Device: d.ID, Stored: t0, Sealed: sealed(10)}); !errors.Is(err, syncserver.ErrRevoked) {
		t.Fatalf("revoked device: %v", err)
	}
	if _, err := s.Blob(ctx, "hill", id); !errors.Is(err, syncserver.ErrNotFound) {
		t.Fatalf("a refused blob was stored: %v", err)
	}
}

// MissingBlobs lists the ids the clinic lacks, in the order asked.
func testBlobsMissing(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	mustClinic(t, s, "vale")
	d, v := mustDevice(t, s, "hill"), mustDevice(t, s, "vale")
	ids := []string{opaque(t), opaque(t), opaque(t), opaque(t)}
	mustPutBlob(t, s, syncserver.Blob{Clinic: "hill", ID: ids[1], Device: d.ID, Stored: t0, Sealed: sealed(10)}, syncproto.BlobStored)
	mustPutBlob(t, s, syncserver.Blob{Clinic: "vale", ID: ids[2], Device: v.ID, Stored: t0, Sealed: sealed(10)}, syncproto.BlobStored)
	got, err := s.MissingBlobs(ctx, "hill", ids)
	if want := []string{ids[0], ids[2], ids[3]}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("missing %v %v, want %v", got, err, want)
	}
	got, err = s.MissingBlobs(ctx, "hill", ids[1:2])
	if err != nil || len(got) != 0 {
		t.Fatalf("none missing: %v %v", got, err)
	}
}

// Devices putting the same blob at once: one stores it, the others see
// a duplicate.
func testBlobsConcurrent(t *testing.T, s syncserver.Store) {
	mustClinic(t, s, "hill")
	id, c := opaque(t), sealed(1<<20)
	const n = 6
	devs := make([]syncserver.Device, n)
	for i := range devs {
		devs[i] = mustDevice(t, s, "hill")
	}
	statuses := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], errs[i] = s.PutBlob(ctx, syncserver.Blob{Clinic: "hill", ID: id, Device: devs[i].ID, Stored: t0, Sealed: c})
		}()
	}
	wg.Wait()
	stored := 0
	for i := range n {
		switch {
		case errs[i] != nil:
			t.Errorf("put %d: %v", i, errs[i])
		case statuses[i] == syncproto.BlobStored:
			stored++
		case statuses[i] != syncproto.BlobDuplicate:
			t.Errorf("put %d: %s", i, statuses[i])
		}
	}
	if stored != 1 {
		t.Errorf("stored %d times", stored)
	}
}
