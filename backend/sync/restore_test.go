package sync_test

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"outpost/backend/seal"
	"outpost/backend/sync"
)

// copyDir copies the files of a data folder (no subfolders) with their
// modes. The server is stopped meanwhile: its store is one SQLite file
// (server.db) with its WAL, which together are consistent even after a
// kill -9.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			t.Fatalf("unexpected folder %s in the server's data folder", e.Name())
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.Open(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.OpenFile(filepath.Join(to, e.Name()), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A clinic server restored from an older backup holds fewer versions than
// the laptops already received. Each laptop notices (the server's head is
// below its cursor), alerts, sends back everything it holds and pulls
// again: afterwards both laptops and the server hold every version once,
// nothing lost, nothing doubled.
func TestServerRestoredFromOlderBackup(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newLaptop(t, srv, key, "ada"), newLaptop(t, srv, key, "ben")
	written := map[string]bool{}
	registerMany(t, a, 5, written)
	registerMany(t, b, 5, written)
	a.sync(t)
	b.sync(t)
	a.sync(t)

	// The administrator's backup, taken with the server stopped.
	srv.Kill()
	backup := filepath.Join(t.TempDir(), "backup")
	copyDir(t, srv.Dir, backup)
	srv.Serve(t)

	// After the backup both laptops write more, edits of older records
	// too, and sync: a holds what it wrote and pulled, b everything.
	registerMany(t, a, 4, written)
	rec, err := b.s.RegisterPatient(ctx, b.actor, patient("Quorvath", "Hill"))
	if err != nil {
		t.Fatal(err)
	}
	written[rec.VersionID] = true
	up, err := b.s.UpdatePatient(ctx, b.actor, rec.ID, rec.VersionID, patient("Quorvath", "Upland"), "moved")
	if err != nil {
		t.Fatal(err)
	}
	written[up.VersionID] = true
	a.sync(t)
	b.sync(t)
	if got := len(b.versions(t)); got != len(written) {
		t.Fatalf("b holds %d of %d versions before the restore", got, len(written))
	}

	// The server's disk fails; the administrator restores the backup.
	srv.Kill()
	if err := os.RemoveAll(srv.Dir); err != nil {
		t.Fatal(err)
	}
	copyDir(t, backup, srv.Dir)
	srv.Serve(t)

	for _, l := range []*laptop{a, b} {
		res := l.sync(t)
		if !res.ServerRestored || !slices.Equal(l.alerts, []string{sync.AlertServerRestored}) {
			t.Errorf("%s: restored %v, alerts %v", l.actor.Username, res.ServerRestored, l.alerts)
		}
		if res.Pushed != len(l.versions(t)) {
			t.Errorf("%s sent back %d of the %d versions it holds", l.actor.Username, res.Pushed, len(l.versions(t)))
		}
		l.alerts = nil
	}
	settle(t, a, b)
	assertConverged(t, written, a, b)
	// Syncing again finds nothing wrong.
	for _, l := range []*laptop{a, b} {
		if res := l.sync(t); res.ServerRestored || res.Pushed != 0 || res.Pulled != 0 || len(l.alerts) != 0 {
			t.Errorf("%s: another sync did %+v, alerts %v", l.actor.Username, res, l.alerts)
		}
	}

	// The server holds every version once: a new laptop pulls exactly
	// them, numbered 1..n without gaps.
	c := newLaptop(t, srv, key, "cyd")
	res := c.sync(t)
	if res.Pulled != len(written) || res.Cursor != int64(len(written)) || res.ServerRestored {
		t.Errorf("a new laptop pulled %d versions up to cursor %d, want %d", res.Pulled, res.Cursor, len(written))
	}
	assertConverged(t, written, a, b, c)
}

// The harder case: after the restore, a laptop pushes enough new versions
// that the server's head is back above the other laptops' cursors before
// they sync. The head alone no longer tells; the version at each laptop's
// cursor does (records.Anchor): the restored server numbers other
// versions there. Nothing is lost: b's versions that the backup lacked
// come back from b (and a), and b receives what a wrote meanwhile.
func TestServerRestoredThenWrittenTo(t *testing.T) {
	srv := startServer(t)
	key, _ := seal.NewKey(nil)
	a, b := newLaptop(t, srv, key, "ada"), newLaptop(t, srv, key, "ben")
	written := map[string]bool{}
	registerMany(t, a, 5, written)
	registerMany(t, b, 5, written)
	a.sync(t)
	b.sync(t)
	a.sync(t)
	srv.Kill()
	backup := filepath.Join(t.TempDir(), "backup")
	copyDir(t, srv.Dir, backup)
	srv.Serve(t)
	registerMany(t, b, 3, written)
	b.sync(t)
	a.sync(t)
	srv.Kill()
	if err := os.RemoveAll(srv.Dir); err != nil {
		t.Fatal(err)
	}
	copyDir(t, backup, srv.Dir)
	srv.Serve(t)

	// a writes more than the server lost before anyone else syncs: the
	// server's head is above both cursors again.
	registerMany(t, a, 5, written)
	for _, l := range []*laptop{a, b} {
		res := l.sync(t)
		if !res.ServerRestored || !slices.Equal(l.alerts, []string{sync.AlertServerRestored}) {
			t.Errorf("%s: restored %v, alerts %v", l.actor.Username, res.ServerRestored, l.alerts)
		}
		l.alerts = nil
	}
	settle(t, a, b)
	c := newLaptop(t, srv, key, "cyd")
	if res := c.sync(t); res.Pulled != len(written) || res.Cursor != int64(len(written)) {
		t.Errorf("a new laptop pulled %d versions up to cursor %d, want %d", res.Pulled, res.Cursor, len(written))
	}
	assertConverged(t, written, a, b, c)
}
