package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/minio/selfupdate"

	"outpost/backend/update"
	"outpost/backend/update/source"
)

// Installed is the result of a successful Apply.
type Installed struct {
	Version  update.Version
	Target   string // the binary that was replaced
	Previous string // where the old binary is kept
}

// PreviousPath is where Apply keeps the binary it replaced.
func PreviousPath(target string) string { return target + ".previous" }

// Apply verifies the metadata again, downloads a's binary within its
// signed length to a temporary file, checks its length and SHA-256,
// replaces the target binary with selfupdate (which checks the checksum
// again, keeps the old binary and rolls back a failed rename), checks the
// installed file, and records the version as the highest installed. On any
// refusal the target binary is left untouched.
func (c *Client) Apply(ctx context.Context, a update.Available) (Installed, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !a.Found {
		return Installed{}, errors.New("no update to apply")
	}
	running, highest, err := c.versions()
	if err != nil {
		return Installed{}, err
	}
	up, err := c.refresh(ctx)
	if err != nil {
		return Installed{}, err
	}
	var cand *candidate
	for _, r := range c.releases(up) {
		if r.Target == a.Target && r.Version == a.Version {
			cand = &r
			break
		}
	}
	switch {
	case cand == nil:
		return Installed{}, update.Refuse(update.ErrNoRelease, "release %s for %s is not in the signed metadata", a.Version, c.cfg.Platform)
	case cand.Version.Compare(running) <= 0:
		return Installed{}, update.Refuse(update.ErrRollback, "release %s is not newer than the running %s", cand.Version, running)
	case cand.Version.Compare(highest) < 0:
		return Installed{}, update.Refuse(update.ErrRollback, "release %s is older than %s, already installed on this computer", cand.Version, highest)
	case cand.info.Length <= 0 || cand.info.Length > c.cfg.MaxSize:
		return Installed{}, update.Refuse(update.ErrTooLarge, "release %s is %d bytes, over the limit of %d", cand.Version, cand.info.Length, c.cfg.MaxSize)
	}
	want, ok := cand.info.Hashes["sha256"]
	if !ok || len(want) != sha256.Size {
		return Installed{}, update.Refuse(update.ErrMismatch, "release %s carries no SHA-256 hash", cand.Version)
	}
	tmp, err := c.download(ctx, cand.Target, cand.info.Length, want)
	if err != nil {
		return Installed{}, err
	}
	defer os.Remove(tmp)
	target, err := c.targetPath()
	if err != nil {
		return Installed{}, err
	}
	if err := install(tmp, target, want); err != nil {
		return Installed{}, err
	}
	if err := c.saveState(func(s *state) {
		if v, err := update.ParseVersion(s.Highest); err != nil || cand.Version.Compare(v) > 0 {
			s.Highest = cand.Version.String()
		}
	}); err != nil {
		return Installed{}, err
	}
	return Installed{Version: cand.Version, Target: target, Previous: PreviousPath(target)}, nil
}

func (c *Client) targetPath() (string, error) {
	if c.cfg.Target != "" {
		return c.cfg.Target, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the running program: %w", err)
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	return exe, nil
}

// download copies the target (stored as <dir>/<sha256>.<name> under
// targets/, as consistent snapshots name it) into a temporary file,
// reading at most length bytes, and checks its length and hash.
func (c *Client) download(ctx context.Context, target string, length int64, want []byte) (string, error) {
	dir, name := path.Split(target)
	remote := "targets/" + dir + hex.EncodeToString(want) + "." + name
	r, err := c.cfg.Source.Open(ctx, remote, length)
	if errors.Is(err, source.ErrTooLarge) {
		return "", update.Refuse(update.ErrTooLarge, "the download of %s is larger than its signed %d bytes", target, length)
	}
	if err != nil {
		return "", fmt.Errorf("download %s: %w", target, err)
	}
	defer r.Close()
	ddir := filepath.Join(c.cfg.StateDir, "download")
	if err := os.MkdirAll(ddir, 0o700); err != nil {
		return "", fmt.Errorf("download folder: %w", err)
	}
	f, err := os.CreateTemp(ddir, "release-*")
	if err != nil {
		return "", fmt.Errorf("download %s: %w", target, err)
	}
	h := sha256.New()
	n, cerr := io.Copy(io.MultiWriter(f, h), r)
	if err := errors.Join(f.Sync(), f.Close()); err != nil && cerr == nil {
		cerr = err
	}
	fail := func(err error) (string, error) { os.Remove(f.Name()); return "", err }
	switch {
	case errors.Is(cerr, source.ErrTooLarge):
		return fail(update.Refuse(update.ErrTooLarge, "the download of %s is larger than its signed %d bytes", target, length))
	case cerr != nil:
		return fail(fmt.Errorf("download %s: %w", target, cerr))
	case n != length || !bytes.Equal(h.Sum(nil), want):
		return fail(update.Refuse(update.ErrMismatch, "the download of %s does not match its signed length and hash: the file was altered", target))
	}
	return f.Name(), nil
}

// install replaces target with the verified file at tmp.
func install(tmp, target string, sum []byte) error {
	st, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("the program to update: %w", err)
	}
	opts := selfupdate.Options{TargetPath: target, TargetMode: st.Mode().Perm(), Checksum: sum, OldSavePath: PreviousPath(target)}
	if err := opts.CheckPermissions(); err != nil {
		return fmt.Errorf("cannot write next to the program (run the update as an administrator): %w", err)
	}
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := selfupdate.Apply(f, opts); err != nil {
		if rerr := selfupdate.RollbackError(err); rerr != nil {
			return fmt.Errorf("%w: put %s back at %s by hand (%v): %w", update.ErrRollbackFailed, PreviousPath(target), target, rerr, err)
		}
		return fmt.Errorf("install the update (the previous program is still in place): %w", err)
	}
	// The file now in place must be the verified one; otherwise put the
	// previous program back.
	got, err := fileSum(target)
	if err == nil && !bytes.Equal(got, sum) {
		err = errors.New("the installed file does not match the verified release")
	}
	if err != nil {
		if rerr := os.Rename(PreviousPath(target), target); rerr != nil {
			return fmt.Errorf("%w: put %s back at %s by hand (%v): %w", update.ErrRollbackFailed, PreviousPath(target), target, rerr, err)
		}
		return fmt.Errorf("install the update, rolled back: %w", err)
	}
	return nil
}

func fileSum(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
