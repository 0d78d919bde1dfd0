package acceptance

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"outpost/backend/update"
)

// Built once in TestMain.
var (
	work       string // temp folder of the whole run
	releaseBin string // outpost-release
	adminBin   = map[string]string{}
	baseRepo   string // repository with outpost-admin 2.0.0 published
	baseKeys   string // its keys
	firstTS    []byte // the timestamp as init signed it (version 1)
	platform   = update.Platform()
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance setup:", err)
		code = 1
	}
	if work != "" {
		os.RemoveAll(work)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	var err error
	if work, err = os.MkdirTemp("", "outpost-update-e2e-"); err != nil {
		return 1, err
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		return 1, err
	}
	releaseBin = filepath.Join(work, "outpost-release")
	if err := goBuild(root, releaseBin, "./backend/cmd/outpost-release", ""); err != nil {
		return 1, err
	}
	baseRepo, baseKeys = filepath.Join(work, "repo"), filepath.Join(work, "keys")
	if out, err := exec.Command(releaseBin, "init", "--repo", baseRepo, "--keys", baseKeys).CombinedOutput(); err != nil {
		return 1, fmt.Errorf("init: %v\n%s", err, out)
	}
	if firstTS, err = os.ReadFile(filepath.Join(baseRepo, "timestamp.json")); err != nil {
		return 1, err
	}
	// The builds embed this repository's first root, mapped over
	// backend/update/trust/root/root.json with -overlay: the source tree is
	// not touched.
	overlay := filepath.Join(work, "overlay.json")
	ov, _ := json.Marshal(map[string]map[string]string{"Replace": {
		filepath.Join(root, "backend/update/trust/root/root.json"): filepath.Join(baseRepo, "1.root.json")}})
	if err := os.WriteFile(overlay, ov, 0o600); err != nil {
		return 1, err
	}
	for _, v := range []string{"1.0.0", "1.5.0", "2.0.0", "3.0.0"} {
		adminBin[v] = filepath.Join(work, "v"+v, "outpost-admin")
		if err := goBuild(root, adminBin[v], "./backend/cmd/outpost-admin", "-X main.version="+v, "-overlay", overlay); err != nil {
			return 1, err
		}
	}
	notes := filepath.Join(work, "notes.txt")
	if err := os.WriteFile(notes, []byte("Fixes the sign-in lockout."), 0o600); err != nil {
		return 1, err
	}
	if out, err := exec.Command(releaseBin, "add", "--repo", baseRepo, "--keys", baseKeys, "--product", "outpost-admin",
		"--version", "2.0.0", "--platform", platform+"="+adminBin["2.0.0"], "--security", "--notes", notes).CombinedOutput(); err != nil {
		return 1, fmt.Errorf("add: %v\n%s", err, out)
	}
	return m.Run(), nil
}

func goBuild(dir, out, pkg, ldflags string, extra ...string) error {
	args := append([]string{"build", "-mod=readonly", "-o", out}, extra...)
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// copyTree copies a folder (the base repository or keys) for one case.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// machine is one laptop: a copy of a binary and its update state.
type machine struct {
	bin, state string
}

func newMachine(t *testing.T, version string) machine {
	t.Helper()
	dir := t.TempDir()
	m := machine{bin: filepath.Join(dir, "bin", "outpost-admin"), state: filepath.Join(dir, "state")}
	install(t, m, version)
	return m
}

// install puts a build of version at the machine's binary path.
func install(t *testing.T, m machine, version string) {
	t.Helper()
	b, err := os.ReadFile(adminBin[version])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(m.bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	return result{code, out.String(), errb.String()}
}

func (m machine) update(t *testing.T, sub string, s served) result {
	t.Helper()
	return run(t, m.bin, append([]string{"update", sub, "--repo", s.repo, "--state-dir", m.state}, s.args...)...)
}

func (m machine) version(t *testing.T) string {
	t.Helper()
	r := run(t, m.bin, "version")
	return strings.TrimSpace(strings.TrimPrefix(r.stdout, "outpost-admin"))
}

func sum(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// served is a repository as a client reaches it.
type served struct {
	repo string
	args []string
}

// serve publishes dir over loopback HTTPS (the client trusts the test
// server's certificate) or as a folder. With endless, target files (and,
// with endlessMeta, timestamp.json) are followed by bytes without end.
func serve(t *testing.T, kind, dir string, endless, endlessMeta bool) served {
	t.Helper()
	if kind == "folder" {
		return served{repo: dir}
	}
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (endless && strings.HasPrefix(r.URL.Path, "/targets/")) || (endlessMeta && r.URL.Path == "/timestamp.json") {
			f, err := os.Open(filepath.Join(dir, filepath.FromSlash(r.URL.Path)))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			defer f.Close()
			io.Copy(w, f)
			junk := bytes.Repeat([]byte{0x90}, 64<<10)
			for {
				if _, err := w.Write(junk); err != nil {
					return
				}
			}
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	if kind == "https-pinned" { // the clinic server's self-signed certificate, pinned by fingerprint
		fp := sha256.Sum256(srv.Certificate().Raw)
		return served{repo: srv.URL + "/", args: []string{"--pin", hex.EncodeToString(fp[:])}}
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return served{repo: srv.URL + "/", args: []string{"--ca-cert", ca}}
}

// keysOf loads the private keys of a keys folder (or its retired
// sub-folder) whose file names start with role.
func keysOf(t *testing.T, dir, role string) []ed25519.PrivateKey {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []ed25519.PrivateKey
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), role+"-") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(raw)
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.(ed25519.PrivateKey))
	}
	if len(out) == 0 {
		t.Fatalf("no %s keys in %s", role, dir)
	}
	return out
}

func signAs[T metadata.Roles](t *testing.T, m *metadata.Metadata[T], keys ...ed25519.PrivateKey) {
	t.Helper()
	m.ClearSignatures()
	for _, k := range keys {
		s, err := signature.LoadED25519Signer(k)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Sign(s); err != nil {
			t.Fatal(err)
		}
	}
}

func writeMeta[T metadata.Roles](t *testing.T, m *metadata.Metadata[T], path string) {
	t.Helper()
	b, err := m.ToBytes(true)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func release(t *testing.T, args ...string) {
	t.Helper()
	if r := run(t, releaseBin, args...); r.code != 0 {
		t.Fatalf("outpost-release %v: %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
}

// targetFile is the published binary of version for this platform.
func targetFile(t *testing.T, repoDir, version string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(repoDir, "targets", "outpost-admin", version, "*."+platform))
	if err != nil || len(m) != 1 {
		t.Fatalf("published binary for %s: %v %v", version, m, err)
	}
	return m[0]
}
