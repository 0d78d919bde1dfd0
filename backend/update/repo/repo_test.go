package repo

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
)

func newTestRepo(t *testing.T, now func() time.Time) (*Repo, Options) {
	t.Helper()
	base := t.TempDir()
	o := Options{Dir: filepath.Join(base, "repo"), KeysDir: filepath.Join(base, "keys"), Now: now, Rand: rand.Reader}
	r, err := Init(o, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r, o
}

// verify runs go-tuf's trusted-metadata checks over the repository as
// published, from its first root, at time at.
func verify(t *testing.T, dir string, at time.Time) error {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	root1 := read("1.root.json")
	tm, err := trustedmetadata.New(root1)
	if err != nil {
		return err
	}
	tm.RefTime = at
	for v := 2; ; v++ {
		b, err := os.ReadFile(filepath.Join(dir, itoa(v)+".root.json"))
		if err != nil {
			break
		}
		if _, err := tm.UpdateRoot(b); err != nil {
			return err
		}
	}
	if _, err := tm.UpdateTimestamp(read("timestamp.json")); err != nil {
		return err
	}
	sv := tm.Timestamp.Signed.Meta["snapshot.json"].Version
	if _, err := tm.UpdateSnapshot(read(itoa(int(sv))+".snapshot.json"), false); err != nil {
		return err
	}
	tv := tm.Snapshot.Signed.Meta["targets.json"].Version
	_, err = tm.UpdateTargets(read(itoa(int(tv)) + ".targets.json"))
	return err
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestInitThresholds(t *testing.T) {
	cases := []struct {
		keys, threshold int
		ok              bool
	}{
		{0, 0, true}, {3, 2, true}, {1, 1, true}, {5, 3, true}, {3, 4, false}, {3, -1, false}, {10, 2, false},
	}
	for _, c := range cases {
		base := t.TempDir()
		_, err := Init(Options{Dir: filepath.Join(base, "r"), KeysDir: filepath.Join(base, "k")}, InitOptions{RootKeys: c.keys, RootThreshold: c.threshold})
		if got := err == nil; got != c.ok {
			t.Errorf("%d of %d: got err %v, want ok=%v", c.threshold, c.keys, err, c.ok)
		}
	}
}

func TestTimestampExpiry(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r, _ := newTestRepo(t, func() time.Time { return now })
	cases := []struct {
		d    time.Duration
		want error
	}{
		{30 * time.Minute, ErrBadExpiry}, {time.Hour, nil}, {7 * 24 * time.Hour, nil}, {7*24*time.Hour + time.Second, ErrBadExpiry},
	}
	for _, c := range cases {
		err := r.RefreshTimestamp(c.d)
		if !errors.Is(err, c.want) {
			t.Errorf("%v: got %v, want %v", c.d, err, c.want)
		}
		if err == nil {
			if got, want := r.Timestamp.Signed.Expires, now.Add(c.d); !got.Equal(want) {
				t.Errorf("%v: expires %v, want %v", c.d, got, want)
			}
		}
	}
	if err := verify(t, r.dir, now); err != nil {
		t.Errorf("repository after refreshes: %v", err)
	}
	if err := verify(t, r.dir, now.Add(7*24*time.Hour+time.Minute)); err == nil {
		t.Error("a week later the timestamp verified")
	}
}

// Every rotation leaves a repository that verifies from the first root,
// with the rotated role signed by new keys only.
func TestRotate(t *testing.T) {
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		t.Run(role, func(t *testing.T) {
			r, o := newTestRepo(t, nil)
			before := append([]string(nil), r.Root.Signed.Roles[role].KeyIDs...)
			if err := r.Rotate(role, rand.Reader); err != nil {
				t.Fatal(err)
			}
			if got, want := r.Root.Signed.Version, int64(2); got != want {
				t.Errorf("root version: got %d, want %d", got, want)
			}
			after := r.Root.Signed.Roles[role].KeyIDs
			if len(after) != len(before) {
				t.Errorf("keys: got %d, want %d", len(after), len(before))
			}
			for _, id := range before {
				for _, n := range after {
					if id == n {
						t.Errorf("key %s still in use", id[:8])
					}
				}
			}
			retired, _ := filepath.Glob(filepath.Join(o.KeysDir, retiredDir, role+"-*.key"))
			if len(retired) != len(before) {
				t.Errorf("retired: got %d files, want %d", len(retired), len(before))
			}
			if err := verify(t, o.Dir, time.Now()); err != nil {
				t.Errorf("after rotating %s: %v", role, err)
			}
			// The repository reopens with its keys and can still publish.
			r2, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			if err := r2.Sign(false, TimestampExpiry); err != nil {
				t.Fatal(err)
			}
			if err := verify(t, o.Dir, time.Now()); err != nil {
				t.Errorf("after re-signing: %v", err)
			}
		})
	}
}
