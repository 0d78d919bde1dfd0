package repo

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// sign signs m with the keys of role held by the keys folder; fewer than
// the threshold is an error.
func sign[T metadata.Roles](r *Repo, m *metadata.Metadata[T], role string, root *metadata.Metadata[metadata.RootType]) error {
	want := root.Signed.Roles[role]
	signers, err := r.keys.signers(want.KeyIDs)
	if err != nil {
		return err
	}
	if len(signers) < want.Threshold {
		return fmt.Errorf("%s needs %d signatures, the keys folder holds %d of its keys: %w", role, want.Threshold, len(signers), ErrTooFewKeys)
	}
	return signWith(m, signers)
}

func signWith[T metadata.Roles](m *metadata.Metadata[T], signers []signature.Signer) error {
	m.ClearSignatures()
	for _, s := range signers {
		if _, err := m.Sign(s); err != nil {
			return fmt.Errorf("sign: %w", err)
		}
	}
	return nil
}

// signRoot signs the root with its own keys and, when prev is given (a
// rotation), also with the previous root's keys, and writes N.root.json
// and root.json.
func (r *Repo) signRoot(prev *metadata.Metadata[metadata.RootType]) error {
	ids := append([]string(nil), r.Root.Signed.Roles[metadata.ROOT].KeyIDs...)
	if prev != nil {
		old := prev.Signed.Roles[metadata.ROOT]
		have, err := r.keys.signers(old.KeyIDs)
		if err != nil {
			return err
		}
		if len(have) < old.Threshold {
			return fmt.Errorf("the new root must be signed by %d keys of the current root, the keys folder holds %d: %w", old.Threshold, len(have), ErrTooFewKeys)
		}
		ids = append(ids, old.KeyIDs...)
	}
	signers, err := r.keys.signers(dedupe(ids))
	if err != nil {
		return err
	}
	if have := countHeld(r.keys, r.Root.Signed.Roles[metadata.ROOT].KeyIDs); have < r.Root.Signed.Roles[metadata.ROOT].Threshold {
		return fmt.Errorf("root needs %d signatures, the keys folder holds %d of its keys: %w", r.Root.Signed.Roles[metadata.ROOT].Threshold, have, ErrTooFewKeys)
	}
	if err := signWith(r.Root, signers); err != nil {
		return err
	}
	data, err := r.Root.ToBytes(true)
	if err != nil {
		return fmt.Errorf("encode root: %w", err)
	}
	if err := writeAtomic(filepath.Join(r.dir, fmt.Sprintf("%d.root.json", r.Root.Signed.Version)), data, true); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(r.dir, "root.json"), data, false)
}

func countHeld(kr *keyring, ids []string) int {
	n := 0
	for _, id := range ids {
		if _, ok := kr.keys[id]; ok {
			n++
		}
	}
	return n
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// publish signs and writes, in an order a client can never trip over,
// the targets (when targets is true), the snapshot (when snapshot is
// true) and the timestamp, each with a new version.
func (r *Repo) publish(targets, snapshot bool, tsExpiry time.Duration) error {
	now := r.clock()
	if targets {
		if err := r.signTargets(now); err != nil {
			return err
		}
	}
	if snapshot {
		if err := r.signSnapshot(now); err != nil {
			return err
		}
	}
	return r.signTimestamp(now, tsExpiry)
}

func (r *Repo) signTargets(now time.Time) error {
	r.Targets.Signed.Version = r.nextVersion(r.Targets.Signed.Version, "targets")
	r.Targets.Signed.Expires = expiry(now, TargetsExpiry)
	if err := sign(r, r.Targets, metadata.TARGETS, r.Root); err != nil {
		return err
	}
	data, err := r.Targets.ToBytes(true)
	if err != nil {
		return fmt.Errorf("encode targets: %w", err)
	}
	return writeAtomic(filepath.Join(r.dir, fmt.Sprintf("%d.targets.json", r.Targets.Signed.Version)), data, true)
}

func (r *Repo) signSnapshot(now time.Time) error {
	tdata, err := os.ReadFile(filepath.Join(r.dir, fmt.Sprintf("%d.targets.json", r.Targets.Signed.Version)))
	if err != nil {
		return fmt.Errorf("read targets: %w", err)
	}
	r.Snapshot.Signed.Version = r.nextVersion(r.Snapshot.Signed.Version, "snapshot")
	r.Snapshot.Signed.Expires = expiry(now, SnapshotExpiry)
	r.Snapshot.Signed.Meta = map[string]*metadata.MetaFiles{"targets.json": metaFile(r.Targets.Signed.Version, tdata)}
	if err := sign(r, r.Snapshot, metadata.SNAPSHOT, r.Root); err != nil {
		return err
	}
	data, err := r.Snapshot.ToBytes(true)
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	return writeAtomic(filepath.Join(r.dir, fmt.Sprintf("%d.snapshot.json", r.Snapshot.Signed.Version)), data, true)
}

func (r *Repo) signTimestamp(now time.Time, d time.Duration) error {
	sdata, err := os.ReadFile(filepath.Join(r.dir, fmt.Sprintf("%d.snapshot.json", r.Snapshot.Signed.Version)))
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	r.Timestamp.Signed.Version = r.nextVersion(r.Timestamp.Signed.Version, "timestamp")
	r.Timestamp.Signed.Expires = expiry(now, d)
	r.Timestamp.Signed.Meta = map[string]*metadata.MetaFiles{"snapshot.json": metaFile(r.Snapshot.Signed.Version, sdata)}
	if err := sign(r, r.Timestamp, metadata.TIMESTAMP, r.Root); err != nil {
		return err
	}
	data, err := r.Timestamp.ToBytes(true)
	if err != nil {
		return fmt.Errorf("encode timestamp: %w", err)
	}
	return writeAtomic(filepath.Join(r.dir, "timestamp.json"), data, false)
}

// nextVersion is v+1, except that a freshly created role (version 1 and
// no file yet) keeps 1.
func (r *Repo) nextVersion(v int64, role string) int64 {
	name := fmt.Sprintf("%d.%s.json", v, role)
	if role == "timestamp" {
		name = "timestamp.json"
	}
	if _, err := os.Stat(filepath.Join(r.dir, name)); err != nil {
		return v
	}
	return v + 1
}

func metaFile(version int64, data []byte) *metadata.MetaFiles {
	h256 := sha256.Sum256(data)
	return &metadata.MetaFiles{Version: version, Length: int64(len(data)), Hashes: metadata.Hashes{"sha256": h256[:]}}
}
