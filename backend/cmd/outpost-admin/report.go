package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"outpost/backend/clinic"
	"outpost/backend/posture"
)

// `outpost-admin report` prints the live security report
// (docs/security-report.md): every requirement row with its status on
// this installation and the evidence. The report is information: it exits
// 0 whatever the rows say, and 1 only when the vault cannot be opened.

const reportUsage = `usage: outpost-admin report --data-dir D [--json] [--update-state-dir DIR]`

func cmdReport(ctx context.Context, args []string, e env) error {
	fs := flags("report", e)
	dir := fs.String("data-dir", "", "vault folder")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	updDir := fs.String("update-state-dir", "", "the app's update state folder (default: DATA-DIR/update)")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() > 0 {
		return usageError("--data-dir is required\n" + reportUsage)
	}
	v, err := openForAdmin(ctx, *dir, e)
	if err != nil {
		return err
	}
	deps := e.deps
	deps.Now = e.now
	s, err := clinic.Attach(ctx, v, deps)
	if err != nil {
		v.Close()
		return err
	}
	defer s.Close()
	if *updDir == "" {
		*updDir = filepath.Join(*dir, "update")
	}
	rep, err := posture.Assess(ctx, posture.Inputs{Services: s, Now: e.now, Version: version, UpdateStateDir: *updDir})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	writeReport(e.stdout, rep)
	return nil
}

// writeReport prints the report as a table: id, status, title, then the
// evidence indented below.
func writeReport(w io.Writer, rep posture.Report) {
	fmt.Fprintf(w, "Security report for %s (device %s, outpost-admin %s), %s\n", rep.Clinic, rep.Device, rep.Version, rep.At.UTC().Format(time.RFC3339))
	var counts []string
	for _, s := range []posture.Status{posture.OK, posture.Warn, posture.Fail, posture.Info, posture.NA} {
		counts = append(counts, fmt.Sprintf("%s %d", s, rep.Counts[s]))
	}
	fmt.Fprintf(w, "%s\n\n", strings.Join(counts, ", "))
	fmt.Fprintf(w, "%-4s %-6s %s\n", "ID", "STATUS", "REQUIREMENT")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "%-4s %-6s %s\n", r.ID, strings.ToUpper(string(r.Status)), r.Title)
		for _, ev := range r.Evidence {
			fmt.Fprintf(w, "            - %s\n", ev)
		}
	}
}
