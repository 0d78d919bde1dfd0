// Package posture is the live security report: every row of the clinic's
// security requirements (S1 … S35, P1 … P7) with a status worked out from
// this installation as it runs — its settings, its alerts, its audit
// trail's state, its vault's cipher settings, its update metadata and the
// components it was built from — and the evidence behind the status.
//
// A row that is a property of the code (parameterised SQL, say) carries
// the test that enforces it as its evidence; wherever a live value exists
// the status is computed from it, never written down. The report reads;
// it never changes the vault. docs/security-report.md says where each
// value comes from.
package posture

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"outpost/backend/clinic"
)

// Status of a row.
type Status string

// Statuses, from good to bad; Info and NA are neither.
const (
	OK   Status = "ok"   // the requirement is met on this installation
	Warn Status = "warn" // met, but something needs attention (an open alert, a looser setting, an old component)
	Fail Status = "fail" // not met now: act on the evidence
	Info Status = "info" // a property of the project's process, not of this installation
	NA   Status = "n/a"  // does not arise on this installation (e.g. no clinic server enrolled)
)

// Row is one requirement with its live status and the evidence for it.
type Row struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Status   Status   `json:"status"`
	Evidence []string `json:"evidence"`
}

// Report is the security report of one installation at one moment.
type Report struct {
	At      time.Time `json:"at"`
	Clinic  string    `json:"clinic"`
	Device  string    `json:"device"`
	Version string    `json:"version"`
	Rows    []Row     `json:"rows"`
	// Counts is the number of rows of each status.
	Counts map[Status]int `json:"counts"`
	// OpenAlerts counts the alerts nobody has acknowledged, by kind.
	OpenAlerts map[string]int `json:"openAlerts"`
}

// Row returns the row with id, and whether there is one.
func (r Report) Row(id string) (Row, bool) {
	for _, row := range r.Rows {
		if row.ID == id {
			return row, true
		}
	}
	return Row{}, false
}

// Inputs are what Assess reads: the services over the open vault and the
// facts only the caller knows.
type Inputs struct {
	Services *clinic.Services
	Now      func() time.Time // nil: time.Now
	// Version is the running program's release version ("dev" when built
	// without one).
	Version string
	// UpdateStateDir is the update client's state folder; "": the folder
	// "update" in the vault's data folder, where the app keeps it.
	UpdateStateDir string
	// CSP is the desktop window's Content-Security-Policy; "" when the
	// caller is not the window (outpost-admin).
	CSP string
	// Methods is the access rule of every method bound to the window
	// (method -> "public", "session" or a permission); nil outside the app.
	Methods map[string]string
	// Build is the program's build information; nil: debug.ReadBuildInfo.
	Build *debug.BuildInfo
}

// Assess computes the report. It fails only when the vault cannot be
// read; a value that is wrong or missing makes its row fail instead.
func Assess(ctx context.Context, in Inputs) (Report, error) {
	if in.Services == nil || in.Services.Vault == nil {
		return Report{}, errors.New("security report: no open vault")
	}
	if in.Now == nil {
		in.Now = time.Now
	}
	f, err := gather(ctx, in)
	if err != nil {
		return Report{}, fmt.Errorf("security report: %w", err)
	}
	rep := Report{At: f.now, Clinic: in.Services.Info.Name, Device: in.Services.Info.DeviceID, Version: in.Version,
		Counts: map[Status]int{}, OpenAlerts: f.openAlerts}
	for _, r := range requirements {
		check, ok := checks[r.ID]
		st, ev := Fail, []string{"no check is defined for this row"}
		if ok {
			st, ev = check(f)
		}
		if ev == nil {
			ev = []string{}
		}
		rep.Rows = append(rep.Rows, Row{ID: r.ID, Title: r.Title, Status: st, Evidence: ev})
		rep.Counts[st]++
	}
	return rep, nil
}
