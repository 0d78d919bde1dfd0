package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/fhir"
)

// A FHIR import started in the UI runs in the background; the UI asks for
// its progress until it is done. One import runs at a time.

// FHIRUpload is a Bundle chosen in the UI: its file name (shown only) and
// its bytes in base64.
type FHIRUpload struct {
	Name string `json:"name"`
	Data string `json:"data"` // base64
}

// ImportCount is what happened to the resources of one type.
type ImportCount struct {
	Type     string `json:"type"`
	Imported int    `json:"imported"`
	Present  int    `json:"present"`
	Skipped  int    `json:"skipped"`
}

// ImportSkip says why a resource was not stored.
type ImportSkip struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// ImportJob is an import's progress, then its report.
type ImportJob struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Done     int           `json:"done"`  // entries processed
	Total    int           `json:"total"` // entries in the Bundle (0 until it is read)
	Finished bool          `json:"finished"`
	Counts   []ImportCount `json:"counts"`
	Totals   ImportCount   `json:"totals"`
	Skips    []ImportSkip  `json:"skips"` // reasons other than "not modelled", at most maxSkipsShown
	Problem  *Problem      `json:"problem,omitempty"`
}

const maxSkipsShown = 200

type importJob struct {
	ImportJob
	owner string // the user who started it
}

type imports struct {
	mu      sync.Mutex
	running bool
	jobs    map[string]*importJob
}

func (im *imports) get(id, user string) (ImportJob, bool) {
	im.mu.Lock()
	defer im.mu.Unlock()
	j, ok := im.jobs[id]
	if !ok || j.owner != user {
		return ImportJob{}, false
	}
	out := j.ImportJob
	out.Counts = append([]ImportCount(nil), j.Counts...)
	out.Skips = append([]ImportSkip(nil), j.Skips...)
	return out, true
}

func (im *imports) update(id string, f func(*importJob)) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if j, ok := im.jobs[id]; ok {
		f(j)
	}
}

// StartFHIRImport starts importing a FHIR R4 Bundle (at most
// fhir.MaxImportBytes) and returns at once; FHIRImportStatus tells how far
// it is. Importing the same Bundle again creates nothing new.
func (a *App) StartFHIRImport(req FHIRUpload) (ImportJob, error) {
	c, err := a.begin("StartFHIRImport")
	if err != nil {
		return ImportJob{}, err
	}
	data, err := decodeBase64Field("file", req.Data, fhir.MaxImportBytes)
	if err != nil {
		return ImportJob{}, problem(a.cfg.Log, "StartFHIRImport", err)
	}
	id, err := (&ehr.IDs{Now: a.cfg.Now, Rand: cmpRand(a.cfg.Rand)}).New()
	if err != nil {
		return ImportJob{}, problem(a.cfg.Log, "StartFHIRImport", err)
	}
	im := &a.imports
	im.mu.Lock()
	if im.running {
		im.mu.Unlock()
		return ImportJob{}, problem(a.cfg.Log, "StartFHIRImport", ehr.Errorf(ehr.EConflict, "An import is already running. Wait for it to finish."))
	}
	if im.jobs == nil {
		im.jobs = map[string]*importJob{}
	}
	job := &importJob{ImportJob: ImportJob{ID: id, Name: clip(req.Name, 120)}, owner: c.actor.Username}
	im.jobs[id] = job
	im.running = true
	out := job.ImportJob
	im.mu.Unlock()

	go a.runImport(c, id, data)
	return out, nil
}

// runImport imports in the background, under the session that started it.
func (a *App) runImport(c call, id string, data []byte) {
	ctx := context.WithoutCancel(c.ctx)
	rep, err := fhir.Import(ctx, c.svc.Records, c.actor, bytes.NewReader(data), func(done, total int) {
		a.imports.update(id, func(j *importJob) { j.Done, j.Total = done, total })
	})
	t := rep.Total()
	outcome := audit.Success
	if err != nil {
		outcome = audit.Failure
	}
	aerr := c.svc.Audit.Record(ctx, c.svc.Vault.W, audit.Event{Username: c.actor.Username, Roles: c.actor.Roles, Session: c.actor.Session,
		Action: "fhir.import", Outcome: outcome,
		Detail: fmt.Sprintf("%d entries: %d records imported, %d already present, %d skipped", rep.Entries, t.Imported, t.Present, t.Skipped)})
	if err == nil {
		err = aerr
	}
	a.imports.update(id, func(j *importJob) {
		j.Finished = true
		j.Total = rep.Entries
		j.Done = rep.Entries
		for _, typ := range rep.TypeNames() {
			n := rep.Types[typ]
			j.Counts = append(j.Counts, ImportCount{Type: typ, Imported: n.Imported, Present: n.Present, Skipped: n.Skipped})
		}
		j.Totals = ImportCount{Type: "all", Imported: t.Imported, Present: t.Present, Skipped: t.Skipped}
		j.Skips = []ImportSkip{}
		for _, sk := range rep.Skipped {
			if sk.Reason != fhir.NotModelled && len(j.Skips) < maxSkipsShown {
				j.Skips = append(j.Skips, ImportSkip{Type: sk.Type, ID: sk.ID, Reason: sk.Reason})
			}
		}
		if err != nil {
			j.Problem = problem(a.cfg.Log, "StartFHIRImport", importError(err))
		}
	})
	a.imports.mu.Lock()
	a.imports.running = false
	a.imports.mu.Unlock()
}

// importError gives a refused file a clear message.
func importError(err error) error {
	if ehr.ErrorCode(err) != ehr.EInternal {
		return err
	}
	for _, sentinel := range []error{fhir.ErrMalformed, fhir.ErrNotBundle, fhir.ErrTooLarge} {
		if errors.Is(err, sentinel) {
			return ehr.Wrap(ehr.EInvalid, "This file cannot be imported: "+err.Error(), err)
		}
	}
	return err
}

// FHIRImportStatus reports an import started by the same user.
func (a *App) FHIRImportStatus(id string) (ImportJob, error) {
	c, err := a.begin("FHIRImportStatus")
	if err != nil {
		return ImportJob{}, err
	}
	j, ok := a.imports.get(id, c.actor.Username)
	if !ok {
		return ImportJob{}, problem(a.cfg.Log, "FHIRImportStatus", ehr.Errorf(ehr.ENotFound, "No such import."))
	}
	return j, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

func cmpRand(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}
