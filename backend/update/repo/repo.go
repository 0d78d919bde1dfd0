// Package repo keeps an update repository for outpost-release: The Update
// Framework's root, targets, snapshot and timestamp metadata (go-tuf),
// signed offline with keys that live in a separate keys folder (the
// administrators' removable media), and the release binaries under
// targets/. The repository folder is public; it never holds a private key.
package repo

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Lifetimes of signed metadata. The timestamp is short so a client notices
// a frozen repository within a week; the administrators refresh it weekly.
const (
	RootExpiry         = 365 * 24 * time.Hour
	TargetsExpiry      = 365 * 24 * time.Hour
	SnapshotExpiry     = 365 * 24 * time.Hour
	TimestampExpiry    = 7 * 24 * time.Hour
	MaxTimestampExpiry = 7 * 24 * time.Hour
)

// Errors callers branch on.
var (
	ErrNotARepo     = errors.New("not an update repository (run outpost-release init)")
	ErrExists       = errors.New("the folder already holds an update repository")
	ErrKeysInRepo   = errors.New("the keys folder must not be inside the repository (the repository is published)")
	ErrTooFewKeys   = errors.New("the keys folder does not hold enough keys for the signature threshold")
	ErrBadExpiry    = errors.New("timestamp expiry must be between one hour and 7 days")
	ErrReleaseExist = errors.New("this release is already in the repository")
)

// Repo is an update repository opened with its keys.
type Repo struct {
	dir  string
	keys *keyring
	now  func() time.Time

	Root      *metadata.Metadata[metadata.RootType]
	Targets   *metadata.Metadata[metadata.TargetsType]
	Snapshot  *metadata.Metadata[metadata.SnapshotType]
	Timestamp *metadata.Metadata[metadata.TimestampType]
}

// Options are what every command needs.
type Options struct {
	Dir     string           // the repository folder
	KeysDir string           // the keys folder (removable media)
	Now     func() time.Time // clock (default time.Now)
	Rand    io.Reader        // randomness for keys (nil: crypto/rand)
	Warn    func(string)     // warnings for the administrator (key file modes)
}

func (o Options) clock() time.Time {
	if o.Now == nil {
		return time.Now().UTC()
	}
	return o.Now().UTC()
}

// checkFolders refuses a keys folder inside the repository or the reverse,
// by path and, once both exist, with symbolic links resolved.
func checkFolders(repoDir, keysDir string) error {
	if repoDir == "" || keysDir == "" {
		return errors.New("both a repository folder and a keys folder are needed")
	}
	r, err1 := filepath.Abs(repoDir)
	k, err2 := filepath.Abs(keysDir)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if nested(r, k) {
		return ErrKeysInRepo
	}
	r2, err1 := filepath.EvalSymlinks(r)
	k2, err2 := filepath.EvalSymlinks(k)
	if err1 == nil && err2 == nil && nested(r2, k2) {
		return ErrKeysInRepo
	}
	return nil
}

// nested reports whether a is b, or one holds the other.
func nested(a, b string) bool {
	inside := func(x, y string) bool {
		rel, err := filepath.Rel(x, y)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	return inside(a, b) || inside(b, a)
}

// InitOptions shape a new repository.
type InitOptions struct {
	RootKeys      int // number of root keys (default 3)
	RootThreshold int // signatures needed on root (default 2)
}

// Init creates the repository and its keys: root (2 of 3 by default),
// targets, snapshot and timestamp, one key each. Private keys are written
// only to the keys folder, mode 0600.
func Init(o Options, opt InitOptions) (*Repo, error) {
	if opt.RootKeys == 0 {
		opt.RootKeys = 3
	}
	if opt.RootThreshold == 0 {
		opt.RootThreshold = 2
	}
	if opt.RootKeys < 1 || opt.RootThreshold < 1 || opt.RootThreshold > opt.RootKeys || opt.RootKeys > 9 {
		return nil, fmt.Errorf("root: %d of %d keys is not a valid threshold", opt.RootThreshold, opt.RootKeys)
	}
	if err := checkFolders(o.Dir, o.KeysDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("repository folder: %w", err)
	}
	if err := os.MkdirAll(o.KeysDir, 0o700); err != nil {
		return nil, fmt.Errorf("keys folder: %w", err)
	}
	if err := checkFolders(o.Dir, o.KeysDir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(o.Dir, "1.root.json")); err == nil {
		return nil, ErrExists
	}
	kr, err := loadKeys(o.KeysDir, o.Warn)
	if err != nil {
		return nil, err
	}
	now := o.clock()
	r := &Repo{dir: o.Dir, keys: kr, now: o.Now}
	r.Root = metadata.Root(expiry(now, RootExpiry))
	r.Root.Signed.ConsistentSnapshot = true
	counts := map[string]int{metadata.ROOT: opt.RootKeys, metadata.TARGETS: 1, metadata.SNAPSHOT: 1, metadata.TIMESTAMP: 1}
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		for i := 0; i < counts[role]; i++ {
			k, err := kr.generate(role, o.Rand)
			if err != nil {
				return nil, err
			}
			if err := r.Root.Signed.AddKey(k, role); err != nil {
				return nil, fmt.Errorf("add %s key: %w", role, err)
			}
		}
	}
	r.Root.Signed.Roles[metadata.ROOT].Threshold = opt.RootThreshold
	r.Targets = metadata.Targets(expiry(now, TargetsExpiry))
	r.Snapshot = metadata.Snapshot(expiry(now, SnapshotExpiry))
	r.Timestamp = metadata.Timestamp(expiry(now, TimestampExpiry))
	if err := os.MkdirAll(filepath.Join(o.Dir, "targets"), 0o755); err != nil {
		return nil, fmt.Errorf("targets folder: %w", err)
	}
	if err := r.signRoot(nil); err != nil {
		return nil, err
	}
	if err := r.publish(true, true, TimestampExpiry); err != nil {
		return nil, err
	}
	return r, nil
}

func expiry(now time.Time, d time.Duration) time.Time {
	return now.Add(d).UTC().Truncate(time.Second)
}

var rootFile = regexp.MustCompile(`^([0-9]+)\.root\.json$`)

// Open loads the repository's current metadata and the keys folder.
func Open(o Options) (*Repo, error) {
	if err := checkFolders(o.Dir, o.KeysDir); err != nil {
		return nil, err
	}
	r, err := Load(o.Dir)
	if err != nil {
		return nil, err
	}
	r.now = o.Now
	r.keys, err = loadKeys(o.KeysDir, o.Warn)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Load reads the repository's current metadata without keys (status).
func Load(dir string) (*Repo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotARepo, err)
	}
	latest := int64(0)
	for _, e := range entries {
		if m := rootFile.FindStringSubmatch(e.Name()); m != nil {
			if n, err := strconv.ParseInt(m[1], 10, 64); err == nil && n > latest {
				latest = n
			}
		}
	}
	if latest == 0 {
		return nil, ErrNotARepo
	}
	r := &Repo{dir: dir}
	if r.Root, err = metadata.Root().FromFile(filepath.Join(dir, fmt.Sprintf("%d.root.json", latest))); err != nil {
		return nil, fmt.Errorf("read root: %w", err)
	}
	if r.Timestamp, err = metadata.Timestamp().FromFile(filepath.Join(dir, "timestamp.json")); err != nil {
		return nil, fmt.Errorf("read timestamp: %w", err)
	}
	sv := r.Timestamp.Signed.Meta["snapshot.json"].Version
	if r.Snapshot, err = metadata.Snapshot().FromFile(filepath.Join(dir, fmt.Sprintf("%d.snapshot.json", sv))); err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	tv := r.Snapshot.Signed.Meta["targets.json"].Version
	if r.Targets, err = metadata.Targets().FromFile(filepath.Join(dir, fmt.Sprintf("%d.targets.json", tv))); err != nil {
		return nil, fmt.Errorf("read targets: %w", err)
	}
	return r, nil
}

func (r *Repo) clock() time.Time {
	if r.now == nil {
		return time.Now().UTC()
	}
	return r.now().UTC()
}

// writeAtomic writes a public repository file (temp, fsync, rename);
// exclusive refuses to replace an existing file (versioned metadata never
// changes once published).
func writeAtomic(path string, data []byte, exclusive bool) error {
	if exclusive {
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%s already exists: refusing to change published metadata", filepath.Base(path))
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Chmod(0o644), f.Sync(), f.Close()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// hashFile returns the length and SHA-256 of a file. Targets carry
// SHA-256 alone: consistent-snapshot file names use it, and a TUF client
// picks the first hash it finds to build the name.
func hashFile(p string) (int64, []byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, nil, err
	}
	return n, h.Sum(nil), nil
}
