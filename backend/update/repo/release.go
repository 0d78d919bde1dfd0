package repo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"outpost/backend/update"
)

// Release is one version of a product, with a binary per platform.
type Release struct {
	Product   string            // "outpost" or "outpost-admin"
	Version   update.Version    // MAJOR.MINOR.PATCH
	Security  bool              // a security release, announced prominently
	Notes     string            // plain-text release notes
	Platforms map[string]string // platform (linux-amd64) -> path of the binary
}

var (
	productRE  = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	platformRE = regexp.MustCompile(`^[a-z0-9]+-[a-z0-9]+$`)
)

// MaxNotes bounds release notes (they travel in the targets metadata).
const MaxNotes = 16 << 10

// Add copies the release's binaries into targets/ (named by their hash,
// as consistent snapshots want) and publishes new targets, snapshot and
// timestamp metadata.
func (r *Repo) Add(rel Release) error {
	if !productRE.MatchString(rel.Product) {
		return fmt.Errorf("product %q: want lower-case letters, digits and dashes", rel.Product)
	}
	if rel.Version.IsZero() {
		return errors.New("a release needs a version other than 0.0.0")
	}
	if len(rel.Platforms) == 0 {
		return errors.New("a release needs at least one --platform name=binary")
	}
	if len(rel.Notes) > MaxNotes {
		return fmt.Errorf("release notes are longer than %d bytes", MaxNotes)
	}
	if !utf8.ValidString(rel.Notes) || strings.ContainsFunc(rel.Notes, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return errors.New("release notes must be plain UTF-8 text (no control characters)")
	}
	for plat, p := range rel.Platforms {
		if !platformRE.MatchString(plat) {
			return fmt.Errorf("platform %q: want os-arch, such as linux-amd64", plat)
		}
		tp := update.TargetPath(rel.Product, rel.Version, plat)
		if _, ok := r.Targets.Signed.Targets[tp]; ok {
			return fmt.Errorf("%s: %w", tp, ErrReleaseExist)
		}
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
			return fmt.Errorf("binary for %s: %q is not a readable, non-empty file", plat, p)
		}
	}
	for plat, p := range rel.Platforms {
		tp := update.TargetPath(rel.Product, rel.Version, plat)
		n, h256, err := hashFile(p)
		if err != nil {
			return fmt.Errorf("binary for %s: %w", plat, err)
		}
		custom, err := json.Marshal(update.Custom{Version: rel.Version.String(), Product: rel.Product, Platform: plat, Security: rel.Security, Notes: rel.Notes})
		if err != nil {
			return err
		}
		raw := json.RawMessage(custom)
		// consistent snapshot: targets/<product>/<version>/<sha256>.<platform>
		dst := filepath.Join(r.dir, "targets", rel.Product, rel.Version.String(), fmt.Sprintf("%x.%s", h256, plat))
		if err := copyFile(p, dst); err != nil {
			return err
		}
		r.Targets.Signed.Targets[tp] = &metadata.TargetFiles{Length: n, Hashes: metadata.Hashes{"sha256": h256}, Custom: &raw, Path: tp}
	}
	return r.publish(true, true, TimestampExpiry)
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read binary: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("targets folder: %w", err)
	}
	return writeAtomic(dst, data, false)
}

// Sign re-signs targets, snapshot and timestamp with new versions and
// fresh expiry dates (and, with root true, the root too).
func (r *Repo) Sign(root bool, tsExpiry time.Duration) error {
	if err := checkExpiry(tsExpiry); err != nil {
		return err
	}
	if root {
		r.Root.Signed.Version++
		r.Root.Signed.Expires = expiry(r.clock(), RootExpiry)
		if err := r.signRoot(nil); err != nil {
			return err
		}
	}
	return r.publish(true, true, tsExpiry)
}

// RefreshTimestamp signs a new timestamp for the same snapshot: the
// weekly task that tells clients the repository is not frozen.
func (r *Repo) RefreshTimestamp(d time.Duration) error {
	if err := checkExpiry(d); err != nil {
		return err
	}
	return r.publish(false, false, d)
}

func checkExpiry(d time.Duration) error {
	if d < time.Hour || d > MaxTimestampExpiry {
		return ErrBadExpiry
	}
	return nil
}

// Rotate replaces the keys of role with new ones. The new root version is
// signed by the current root's threshold and by the new keys; the keys
// replaced move to the keys folder's retired sub-folder. Metadata of the
// rotated role and below is re-signed.
func (r *Repo) Rotate(role string, rand io.Reader) error {
	cur, ok := r.Root.Signed.Roles[role]
	if !ok {
		return fmt.Errorf("role %q: want root, targets, snapshot or timestamp", role)
	}
	if role == metadata.ROOT {
		if held := countHeld(r.keys, cur.KeyIDs); held < cur.Threshold {
			return fmt.Errorf("rotating root needs %d current root keys, the keys folder holds %d: %w", cur.Threshold, held, ErrTooFewKeys)
		}
	} else if held := countHeld(r.keys, r.Root.Signed.Roles[metadata.ROOT].KeyIDs); held < r.Root.Signed.Roles[metadata.ROOT].Threshold {
		return fmt.Errorf("rotating %s changes root, which needs %d root keys; the keys folder holds %d: %w", role, r.Root.Signed.Roles[metadata.ROOT].Threshold, held, ErrTooFewKeys)
	}
	prevData, err := r.Root.ToBytes(false)
	if err != nil {
		return err
	}
	prev, err := metadata.Root().FromBytes(prevData)
	if err != nil {
		return err
	}
	old := append([]string(nil), cur.KeyIDs...)
	for _, id := range old {
		if err := r.Root.Signed.RevokeKey(id, role); err != nil {
			return fmt.Errorf("revoke %s key: %w", role, err)
		}
	}
	for range old {
		k, err := r.keys.generate(role, rand)
		if err != nil {
			return err
		}
		if err := r.Root.Signed.AddKey(k, role); err != nil {
			return fmt.Errorf("add %s key: %w", role, err)
		}
	}
	r.Root.Signed.Version++
	r.Root.Signed.Expires = expiry(r.clock(), RootExpiry)
	if role == metadata.ROOT {
		err = r.signRoot(prev)
	} else {
		err = r.signRoot(nil)
	}
	if err != nil {
		return err
	}
	if err := r.keys.retire(old); err != nil {
		return err
	}
	return r.publish(true, true, TimestampExpiry)
}

// Entry is one binary in the repository, for status.
type Entry struct {
	Target string
	update.Custom
	Length int64
}

// Releases lists the repository's binaries, newest first.
func (r *Repo) Releases() []Entry {
	var out []Entry
	for tp, t := range r.Targets.Signed.Targets {
		e := Entry{Target: tp, Length: t.Length}
		if t.Custom != nil {
			_ = json.Unmarshal(*t.Custom, &e.Custom)
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		vi, _ := update.ParseVersion(out[i].Version)
		vj, _ := update.ParseVersion(out[j].Version)
		if c := vi.Compare(vj); c != 0 {
			return c > 0
		}
		return out[i].Target < out[j].Target
	})
	return out
}

// Role describes a role's metadata for status.
type Role struct {
	Name      string
	Version   int64
	Expires   time.Time
	Threshold int
	Keys      int // keys the role has
	Held      int // of them, keys in the keys folder (-1 without a keys folder)
}

// Roles describes the four roles.
func (r *Repo) Roles() []Role {
	exp := map[string]time.Time{metadata.ROOT: r.Root.Signed.Expires, metadata.TARGETS: r.Targets.Signed.Expires,
		metadata.SNAPSHOT: r.Snapshot.Signed.Expires, metadata.TIMESTAMP: r.Timestamp.Signed.Expires}
	ver := map[string]int64{metadata.ROOT: r.Root.Signed.Version, metadata.TARGETS: r.Targets.Signed.Version,
		metadata.SNAPSHOT: r.Snapshot.Signed.Version, metadata.TIMESTAMP: r.Timestamp.Signed.Version}
	var out []Role
	for _, name := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		role := r.Root.Signed.Roles[name]
		held := -1
		if r.keys != nil {
			held = countHeld(r.keys, role.KeyIDs)
		}
		out = append(out, Role{Name: name, Version: ver[name], Expires: exp[name], Threshold: role.Threshold, Keys: len(role.KeyIDs), Held: held})
	}
	return out
}

// RootJSON returns the current root metadata as published (for embedding
// into a build, the first root, 1.root.json, is what a build embeds).
func RootJSON(dir string, version int64) ([]byte, error) {
	return os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.root.json", version)))
}
