// Command vulndb builds an offline Go vulnerability database, in the
// layout govulncheck reads with -db file:///abs/dir (database format v1:
// index/db.json, index/modules.json, ID/<id>.json), from a folder of OSV
// reports: the data/osv folder of a golang/vulndb checkout, or the ID
// folder of an existing copy of the database.
//
//	vulndb SRC_OSV_DIR OUT_DIR
//
// The output depends only on the reports (sorted, no timestamps of its
// own), so the same reports give the same archive byte for byte. The
// optional "fixed" hint of modules.json is left out: govulncheck then
// reads every report of a module it uses, which is correct, only slower.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

type osv struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Package struct {
			Name      string `json:"name"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
	} `json:"affected"`
}

type vuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
}

type module struct {
	Path  string `json:"path"`
	Vulns []vuln `json:"vulns"`
}

var idRE = regexp.MustCompile(`^GO-\d{4}-\d{4,}$`)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: vulndb SRC_OSV_DIR OUT_DIR")
		os.Exit(2)
	}
	if err := build(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func build(src, out string) error {
	names, err := filepath.Glob(filepath.Join(src, "GO-*.json"))
	if err != nil {
		return err
	}
	if len(names) < 100 {
		return fmt.Errorf("%s: %d OSV reports; want the whole database", src, len(names))
	}
	if err := os.MkdirAll(filepath.Join(out, "ID"), 0o750); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "index"), 0o750); err != nil {
		return err
	}
	mods := map[string][]vuln{}
	var newest time.Time
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		var e osv
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if !idRE.MatchString(e.ID) || e.ID+".json" != filepath.Base(name) || e.Modified.IsZero() {
			return fmt.Errorf("%s: not a Go vulnerability report (id %q)", name, e.ID)
		}
		if e.Modified.After(newest) {
			newest = e.Modified
		}
		seen := map[string]bool{}
		for _, a := range e.Affected {
			p := a.Package.Name
			if p == "" || seen[p] || !strings.EqualFold(a.Package.Ecosystem, "Go") {
				continue
			}
			seen[p] = true
			mods[p] = append(mods[p], vuln{ID: e.ID, Modified: e.Modified.UTC()})
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), raw, 0o600); err != nil {
			return err
		}
	}
	var idx []module
	for p, vs := range mods {
		sort.Slice(vs, func(i, j int) bool { return vs[i].ID < vs[j].ID })
		idx = append(idx, module{Path: p, Vulns: vs})
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i].Path < idx[j].Path })
	mj, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "index", "modules.json"), mj, 0o600); err != nil {
		return err
	}
	dj, err := json.Marshal(map[string]time.Time{"modified": newest.UTC()})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "index", "db.json"), dj, 0o600); err != nil {
		return err
	}
	fmt.Printf("vulndb: %d reports, %d modules, modified %s\n", len(names), len(idx), newest.UTC().Format(time.RFC3339))
	return nil
}
