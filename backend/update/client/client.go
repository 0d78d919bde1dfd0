// Package client is the update client: it verifies the repository's TUF
// metadata with go-tuf's updater (from the root embedded at build time or
// the newest root verified since), finds the newest release for this
// product and platform, downloads it within its signed length, checks its
// length and hash, and replaces the binary with minio/selfupdate, keeping
// the old one. It never installs a version lower than the highest one ever
// installed on this computer. The same checks run for every source: an
// HTTPS location or a folder.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"outpost/backend/update"
	"outpost/backend/update/source"
	"outpost/backend/update/trust"
)

// DefaultMaxSize bounds any release binary the client downloads.
const DefaultMaxSize = 1 << 30

// Config wires a Client.
type Config struct {
	Source   source.Source    // where the repository is read from
	StateDir string           // metadata cache and install state (0700)
	Root     []byte           // trusted root metadata; nil: the one embedded at build time
	Product  string           // "outpost" or "outpost-admin"
	Platform string           // default: this build's GOOS-GOARCH
	Running  string           // the running version, as set by -ldflags -X
	Target   string           // the binary to replace; "": the running executable
	Now      func() time.Time // clock (default time.Now)
	MaxSize  int64            // bound on a binary (default DefaultMaxSize)
}

// Client checks for and applies updates. It is safe for concurrent use
// (calls are serialized).
type Client struct {
	cfg Config
	mu  sync.Mutex
}

// New checks the configuration; it does not touch the network.
func New(cfg Config) (*Client, error) {
	if cfg.Source == nil || cfg.StateDir == "" || cfg.Product == "" {
		return nil, errors.New("update client: a source, a state folder and a product are needed")
	}
	if cfg.Root == nil {
		r, ok := trust.Root()
		if !ok {
			return nil, update.ErrNoRoot
		}
		cfg.Root = r
	}
	if cfg.Platform == "" {
		cfg.Platform = update.Platform()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("update state folder: %w", err)
	}
	return &Client{cfg: cfg}, nil
}

func (c *Client) metaDir() string { return filepath.Join(c.cfg.StateDir, "metadata") }

// trustedRoot is the newest root this computer has verified: the cached
// one when it is newer than the embedded one, so a repository cannot take
// a client back to rotated-out root keys by hiding the newer roots.
func (c *Client) trustedRoot() []byte {
	embedded, err := metadata.Root().FromBytes(c.cfg.Root)
	if err != nil {
		return c.cfg.Root
	}
	raw, err := os.ReadFile(filepath.Join(c.metaDir(), "root.json"))
	if err != nil {
		return c.cfg.Root
	}
	cached, err := metadata.Root().FromBytes(raw)
	if err != nil || cached.Signed.Version <= embedded.Signed.Version {
		return c.cfg.Root
	}
	return raw
}

const pseudoBase = "outpost-update:/"

// refresh runs the TUF client workflow (root, timestamp, snapshot,
// targets) against the source and records when it last succeeded.
func (c *Client) refresh(ctx context.Context) (*updater.Updater, error) {
	cfg, err := config.New(pseudoBase, c.trustedRoot())
	if err != nil {
		return nil, fmt.Errorf("update config: %w", err)
	}
	cfg.LocalMetadataDir = c.metaDir()
	cfg.LocalTargetsDir = filepath.Join(c.cfg.StateDir, "download")
	cfg.Fetcher = &fetcher{ctx: ctx, src: c.cfg.Source}
	up, err := updater.New(cfg)
	if err != nil {
		return nil, classify(err)
	}
	up.UnsafeSetRefTime(c.cfg.Now().UTC()) // the injected clock decides expiry
	if err := up.Refresh(); err != nil {
		return nil, classify(err)
	}
	ts := up.GetTrustedMetadataSet().Timestamp
	if err := c.saveState(func(s *state) {
		s.LastRefreshed = c.cfg.Now().UTC()
		s.Expires = ts.Signed.Expires
		s.Repository = c.cfg.Source.String()
	}); err != nil {
		return nil, err
	}
	return up, nil
}

// candidate is a signed release for this product and platform.
type candidate struct {
	update.Available
	info *metadata.TargetFiles
}

func (c *Client) releases(up *updater.Updater) []candidate {
	var out []candidate
	for path, tf := range up.GetTopLevelTargets() {
		if tf.Custom == nil {
			continue
		}
		var cu update.Custom
		if json.Unmarshal(*tf.Custom, &cu) != nil || cu.Product != c.cfg.Product || cu.Platform != c.cfg.Platform {
			continue
		}
		v, err := update.ParseVersion(cu.Version)
		if err != nil || path != update.TargetPath(cu.Product, v, cu.Platform) {
			continue // a target whose name and signed fields disagree is ignored
		}
		out = append(out, candidate{update.Available{Found: true, Version: v, Security: cu.Security, Notes: cu.Notes, Size: tf.Length, Target: path}, tf})
	}
	return out
}

// Check refreshes the metadata and returns the newest release newer than
// the running one (Found false when there is none). A newest release lower
// than the highest version ever installed here is refused.
func (c *Client) Check(ctx context.Context) (update.Available, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	running, highest, err := c.versions()
	if err != nil {
		return update.Available{}, err
	}
	up, err := c.refresh(ctx)
	if err != nil {
		return update.Available{}, err
	}
	var best candidate
	for _, r := range c.releases(up) {
		if r.Version.Compare(running) > 0 && (!best.Found || r.Version.Compare(best.Version) > 0) {
			best = r
		}
	}
	switch {
	case !best.Found:
		return update.Available{}, nil
	case best.Version.Compare(highest) < 0:
		return update.Available{}, update.Refuse(update.ErrRollback,
			"the repository's newest release, %s, is older than %s, already installed on this computer", best.Version, highest)
	case best.Version == highest && c.installed(best):
		return update.Available{}, nil // installed, waiting for a restart
	}
	return best.Available, nil
}

// installed reports whether the target binary already is r.
func (c *Client) installed(r candidate) bool {
	target, err := c.targetPath()
	if err != nil {
		return false
	}
	got, err := fileSum(target)
	return err == nil && bytes.Equal(got, r.info.Hashes["sha256"])
}

// versions returns the running version and the highest ever installed,
// raising the latter to the running one.
func (c *Client) versions() (running, highest update.Version, err error) {
	running, err = update.ParseVersion(c.cfg.Running)
	if err != nil {
		return running, highest, fmt.Errorf("running version %q: %w", c.cfg.Running, update.ErrUnknownVersion)
	}
	s, err := c.loadState()
	if err != nil {
		return running, highest, err
	}
	highest, _ = update.ParseVersion(s.Highest)
	if running.Compare(highest) > 0 {
		highest = running
		if err := c.saveState(func(s *state) { s.Highest = running.String() }); err != nil {
			return running, highest, err
		}
	}
	return running, highest, nil
}

// Status is what the admin view shows.
func (c *Client) Status() (update.Status, error) {
	st, err := ReadStatus(c.cfg.StateDir, c.cfg.Running, c.cfg.Now())
	st.Repository = c.cfg.Source.String()
	return st, err
}

// ReadStatus reads the update state without a source or the network:
// the running and highest installed versions, the repository last
// verified, when, and whether its metadata has expired at now.
func ReadStatus(stateDir, running string, now time.Time) (update.Status, error) {
	s, err := (&Client{cfg: Config{StateDir: stateDir}}).loadState()
	if err != nil {
		return update.Status{Running: running}, err
	}
	st := update.Status{Running: running, Highest: s.Highest, Repository: s.Repository,
		LastRefreshed: s.LastRefreshed, Expires: s.Expires}
	st.Expired = !s.Expires.IsZero() && !now.Before(s.Expires)
	return st, nil
}

// fetcher is go-tuf's fetcher over a Source: the same bytes, the same
// limits, whether the repository is on a server or a USB stick.
type fetcher struct {
	ctx context.Context
	src source.Source
}

func (f *fetcher) DownloadFile(u string, maxLength int64, _ time.Duration) ([]byte, error) {
	name, ok := strings.CutPrefix(u, pseudoBase)
	if !ok {
		return nil, fmt.Errorf("unexpected metadata location %q", u)
	}
	b, err := source.ReadAll(f.ctx, f.src, name, maxLength)
	switch {
	case errors.Is(err, source.ErrNotFound):
		return nil, &metadata.ErrDownloadHTTP{StatusCode: 404, URL: name}
	case errors.Is(err, source.ErrTooLarge):
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("%s is larger than its limit of %d bytes", name, maxLength)}
	}
	return b, err
}

// classify turns go-tuf's errors into update refusals with a message a
// person can act on; other errors (an unreachable source) pass through.
func classify(err error) error {
	detail := err.Error()
	switch {
	case errors.Is(err, &metadata.ErrUnsignedMetadata{}):
		return update.Refuse(update.ErrUntrusted, "the update metadata is not signed by enough trusted keys (%s)", detail)
	case errors.Is(err, &metadata.ErrExpiredMetadata{}):
		return update.Refuse(update.ErrExpired, "the update metadata has expired (%s): the administrators must refresh the repository", detail)
	case errors.Is(err, &metadata.ErrBadVersionNumber{}):
		return update.Refuse(update.ErrRollback, "the repository offers metadata older than, or inconsistent with, what this computer has verified (%s)", detail)
	case errors.Is(err, &metadata.ErrLengthOrHashMismatch{}):
		return update.Refuse(update.ErrMismatch, "update metadata does not match its signed length and hash: files are mixed or altered (%s)", detail)
	case errors.Is(err, &metadata.ErrDownloadLengthMismatch{}):
		return update.Refuse(update.ErrTooLarge, "a file in the repository is larger than allowed (%s)", detail)
	case errors.Is(err, &metadata.ErrRepository{}), errors.Is(err, &metadata.ErrValue{}), errors.Is(err, &metadata.ErrType{}):
		return update.Refuse(update.ErrUntrusted, "the update metadata is not valid (%s)", detail)
	case errors.Is(err, &metadata.ErrDownloadHTTP{}):
		return fmt.Errorf("the update repository lacks a file (%s): %w", detail, err)
	}
	return fmt.Errorf("update check: %w", err)
}
