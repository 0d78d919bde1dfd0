// Command scanfilter reads one scanner's JSON report on standard input,
// drops the findings a reviewed allow-list accepts, prints the rest and
// exits 1 when any is left, or when an allow-list entry matches nothing
// (a stale entry is removed, not kept "just in case").
//
//	scanfilter gosec       ALLOWFILE < gosec.json
//	scanfilter staticcheck ALLOWFILE < staticcheck.jsonl
//	scanfilter govulncheck ALLOWFILE < govulncheck.json
//	scanfilter npm-audit   ALLOWFILE < npm-audit.json
//
// Allow-list files (.ci/allow/<tool>.txt) hold one entry a line:
//
//	RULE  PATH  -- reason
//
// RULE is the scanner's rule id (G304, SA1019, GO-2025-1234,
// GHSA-xxxx-xxxx-xxxx), PATH a path relative to the repository root, a
// path.Match pattern, or "*" (for govulncheck and npm audit, "*" or the
// module/package name). The reason after "--" is required. Blank lines
// and lines starting with # are comments.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

type finding struct {
	Rule, Path, Where, Text string
}

type entry struct {
	Rule, Path, Reason string
	line               int
	used               int
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: scanfilter gosec|staticcheck|govulncheck|npm-audit ALLOWFILE < report.json")
		os.Exit(2)
	}
	tool, allowFile := os.Args[1], os.Args[2]
	allow, err := readAllow(allowFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanfilter:", err)
		os.Exit(2)
	}
	root, _ := os.Getwd()
	var fs []finding
	switch tool {
	case "gosec":
		fs, err = parseGosec(os.Stdin, root)
	case "staticcheck":
		fs, err = parseStaticcheck(os.Stdin, root)
	case "govulncheck":
		fs, err = parseGovulncheck(os.Stdin)
	case "npm-audit":
		fs, err = parseNpmAudit(os.Stdin)
	default:
		err = fmt.Errorf("unknown tool %q", tool)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanfilter:", tool+":", err)
		os.Exit(2)
	}
	os.Exit(report(tool, allowFile, fs, allow, os.Stdout))
}

func report(tool, allowFile string, fs []finding, allow []*entry, w io.Writer) int {
	var left []finding
	accepted := 0
	for _, f := range fs {
		if e := match(allow, f); e != nil {
			e.used++
			accepted++
			continue
		}
		left = append(left, f)
	}
	sort.Slice(left, func(i, j int) bool { return left[i].Where < left[j].Where })
	for _, f := range left {
		fmt.Fprintf(w, "%s: %s %s: %s\n", tool, f.Rule, f.Where, f.Text)
	}
	stale := 0
	for _, e := range allow {
		if e.used == 0 {
			stale++
			fmt.Fprintf(w, "%s: %s:%d: allow-list entry %s %s matches no finding; remove it\n", tool, allowFile, e.line, e.Rule, e.Path)
		}
	}
	fmt.Fprintf(w, "%s: %d finding(s), %d accepted by %s, %d left, %d stale allow-list entr(y/ies)\n",
		tool, len(fs), accepted, allowFile, len(left), stale)
	if len(left) > 0 || stale > 0 {
		return 1
	}
	return 0
}

func match(allow []*entry, f finding) *entry {
	for _, e := range allow {
		if e.Rule != f.Rule && e.Rule != "*" {
			continue
		}
		if e.Path == "*" || e.Path == f.Path {
			return e
		}
		if ok, _ := path.Match(e.Path, f.Path); ok {
			return e
		}
	}
	return nil
}

func readAllow(name string) ([]*entry, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*entry
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		head, reason, ok := strings.Cut(line, "--")
		fields := strings.Fields(head)
		if !ok || strings.TrimSpace(reason) == "" || len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want `RULE PATH -- reason`", name, n)
		}
		out = append(out, &entry{Rule: fields[0], Path: fields[1], Reason: strings.TrimSpace(reason), line: n})
	}
	return out, sc.Err()
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(p)
}

func parseGosec(r io.Reader, root string) ([]finding, error) {
	var rep struct {
		Issues []struct {
			RuleID  string `json:"rule_id"`
			Details string `json:"details"`
			File    string `json:"file"`
			Line    string `json:"line"`
		} `json:"Issues"`
		Errors map[string][]struct {
			Line  int    `json:"line"`
			Error string `json:"error"`
		} `json:"Golang errors"`
	}
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, err
	}
	var out []finding
	for _, i := range rep.Issues {
		p := rel(root, i.File)
		out = append(out, finding{Rule: i.RuleID, Path: p, Where: p + ":" + i.Line, Text: i.Details})
	}
	// A package gosec could not type-check is a package it did not scan.
	for file, errs := range rep.Errors {
		for _, e := range errs {
			p := rel(root, file)
			out = append(out, finding{Rule: "typecheck", Path: p, Where: fmt.Sprintf("%s:%d", p, e.Line), Text: e.Error})
		}
	}
	return out, nil
}

func parseStaticcheck(r io.Reader, root string) ([]finding, error) {
	var out []finding
	dec := json.NewDecoder(r)
	for {
		var p struct {
			Code     string `json:"code"`
			Location struct {
				File   string `json:"file"`
				Line   int    `json:"line"`
				Column int    `json:"column"`
			} `json:"location"`
			Message string `json:"message"`
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		f := rel(root, p.Location.File)
		out = append(out, finding{Rule: p.Code, Path: f, Where: fmt.Sprintf("%s:%d:%d", f, p.Location.Line, p.Location.Column), Text: p.Message})
	}
}

// govulncheck -format json: a stream of messages; a finding whose trace
// starts at a function is a vulnerable symbol the code reaches (what
// govulncheck's default mode fails on). Imported-but-not-called ones are
// reported by govulncheck's text mode as informational and are not
// findings here either.
func parseGovulncheck(r io.Reader) ([]finding, error) {
	type frame struct {
		Module   string `json:"module"`
		Version  string `json:"version"`
		Package  string `json:"package"`
		Function string `json:"function"`
		Receiver string `json:"receiver"`
	}
	summaries := map[string]string{}
	seen := map[string]bool{}
	var out []finding
	dec := json.NewDecoder(r)
	for {
		var m struct {
			OSV *struct {
				ID      string `json:"id"`
				Summary string `json:"summary"`
			} `json:"osv"`
			Finding *struct {
				OSV          string  `json:"osv"`
				FixedVersion string  `json:"fixed_version"`
				Trace        []frame `json:"trace"`
			} `json:"finding"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		if f := m.Finding; f != nil && len(f.Trace) > 0 && f.Trace[0].Function != "" {
			t := f.Trace[0]
			key := f.OSV + " " + t.Module
			if seen[key] {
				continue
			}
			seen[key] = true
			fixed := f.FixedVersion
			if fixed == "" {
				fixed = "none"
			}
			out = append(out, finding{Rule: f.OSV, Path: t.Module, Where: t.Module + "@" + t.Version,
				Text: fmt.Sprintf("%s.%s is reached (fixed in %s)", t.Package, t.Function, fixed)})
		}
	}
	for i := range out {
		if s := summaries[out[i].Rule]; s != "" {
			out[i].Text = s + "; " + out[i].Text
		}
	}
	return out, nil
}

// npm audit --json (npm 7+, auditReportVersion 2).
func parseNpmAudit(r io.Reader) ([]finding, error) {
	var rep struct {
		Error           json.RawMessage `json:"error"`
		Vulnerabilities map[string]struct {
			Name     string            `json:"name"`
			Severity string            `json:"severity"`
			Via      []json.RawMessage `json:"via"`
		} `json:"vulnerabilities"`
	}
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, err
	}
	if len(rep.Error) > 0 && string(rep.Error) != "null" {
		return nil, fmt.Errorf("npm audit reported an error: %s", rep.Error)
	}
	var out []finding
	seen := map[string]bool{}
	for name, v := range rep.Vulnerabilities {
		for _, raw := range v.Via {
			var adv struct {
				URL      string `json:"url"`
				Title    string `json:"title"`
				Severity string `json:"severity"`
				Range    string `json:"range"`
			}
			if json.Unmarshal(raw, &adv) != nil || adv.URL == "" {
				continue // a string: the advisory comes through another package
			}
			if adv.Severity == "info" || adv.Severity == "low" {
				continue // below --audit-level=moderate
			}
			id := adv.URL[strings.LastIndex(adv.URL, "/")+1:]
			if seen[id+name] {
				continue
			}
			seen[id+name] = true
			out = append(out, finding{Rule: id, Path: name, Where: name + " " + adv.Range,
				Text: adv.Severity + ": " + adv.Title + " (" + adv.URL + ")"})
		}
	}
	return out, nil
}
