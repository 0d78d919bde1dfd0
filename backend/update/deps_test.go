package update

import (
	"os/exec"
	"strings"
	"testing"
)

// The domain and the sources depend on the standard library alone, and
// the release tool links nothing that opens patient data.
func TestDependencies(t *testing.T) {
	list := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	for _, pkg := range []string{"outpost/backend/update", "outpost/backend/update/source"} {
		for _, d := range list(pkg) {
			if d != pkg {
				t.Errorf("%s depends on %s: only the standard library", pkg, d)
			}
		}
	}
	release := list("outpost/backend/cmd/outpost-release")
	if len(release) < 3 {
		t.Fatalf("outpost-release deps look wrong: %v", release)
	}
	for _, d := range release {
		for _, bad := range []string{"outpost/backend/vault", "outpost/backend/records", "outpost/backend/auth", "outpost/app",
			"github.com/mutecomm/go-sqlcipher", "github.com/mattn/go-sqlite3", "github.com/wailsapp/wails"} {
			if d == bad || strings.HasPrefix(d, bad+"/") {
				t.Errorf("outpost-release links %s", d)
			}
		}
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "v0.0.1", "dev", "1.2", "01.2.3", "1.2.3-rc1", "999999.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		back, err := ParseVersion(v.String())
		if err != nil || back != v || v.Compare(back) != 0 {
			t.Errorf("%q: %v does not round-trip: %v %v", s, v, back, err)
		}
	})
}
