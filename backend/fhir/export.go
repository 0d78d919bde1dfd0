package fhir

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// Export writes the charts of patientIDs (every current patient when it
// is empty) to w as one FHIR R4 Bundle of type collection, on behalf of a.
// The Bundle is streamed: one patient's records are read at a time and
// each entry is written as soon as it is made. Every read is audited by
// the store, as when the chart is opened. A patient whose chart is
// restricted to another clinician is left out and listed in
// Stats.Withheld. progress, when not nil, is called after each patient.
func Export(ctx context.Context, s *records.Store, a records.Actor, patientIDs []string, w io.Writer, progress func(done, total int)) (Stats, error) {
	st := Stats{Resources: map[string]int{}}
	ids := patientIDs
	if len(ids) == 0 {
		var err error
		if ids, err = s.PatientIDs(ctx); err != nil {
			return st, err
		}
	}
	bw := &bundleWriter{w: bufio.NewWriterSize(w, 256<<10), st: &st}
	if err := bw.open(); err != nil {
		return st, err
	}
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("export: %w", err)
		}
		if err := exportPatient(ctx, s, a, id, bw); err != nil {
			if ehr.ErrorCode(err) == ehr.ERestricted {
				st.Withheld = append(st.Withheld, id)
			} else {
				return st, fmt.Errorf("export patient %s: %w", id, err)
			}
		} else {
			st.Patients++
		}
		if progress != nil {
			progress(i+1, len(ids))
		}
	}
	if err := bw.close(); err != nil {
		return st, err
	}
	return st, nil
}

// allRecords is the List limit that means all of them.
const allRecords = math.MaxInt32

func exportPatient(ctx context.Context, s *records.Store, a records.Actor, id string, bw *bundleWriter) error {
	rec, err := s.Patient(ctx, a, id)
	if err != nil {
		return err
	}
	if rec.Deleted {
		return ehr.Errorf(ehr.ENotFound, "No such patient.")
	}
	body, err := ehr.PatientBody(rec.ID, rec.Patient)
	if err != nil {
		return err
	}
	if err := bw.entry(rec.ID, "Patient", body); err != nil {
		return err
	}
	for _, f := range []func() error{
		func() error { return exportKind(ctx, s, a, id, records.Encounters, bw) },
		func() error { return exportKind(ctx, s, a, id, records.Conditions, bw) },
		func() error { return exportKind(ctx, s, a, id, records.Observations, bw) },
		func() error { return exportKind(ctx, s, a, id, records.Medications, bw) },
		func() error { return exportKind(ctx, s, a, id, records.Allergies, bw) },
		func() error { return exportKind(ctx, s, a, id, records.Immunizations, bw) },
		func() error { return exportKind(ctx, s, a, id, records.Notes, bw) },
	} {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

func exportKind[T any](ctx context.Context, s *records.Store, a records.Actor, patientID string, k records.Kind[T], bw *bundleWriter) error {
	items, err := records.List(ctx, s, a, k, patientID, allRecords)
	if err != nil {
		return err
	}
	for _, it := range items {
		// Body(Parse(body)) is the stored body: bodies are canonical.
		body, err := k.Body(it.ID, it.Value)
		if err != nil {
			return fmt.Errorf("%s %s: %w", k.Name, it.ID, err)
		}
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(body, &head); err != nil {
			return err
		}
		if err := bw.entry(it.ID, head.ResourceType, body); err != nil {
			return err
		}
	}
	return nil
}

// Inside the Bundle references are written as urn:uuid:<id>, matching
// the entries' fullUrls: bodies refer to Patient/<id> and Encounter/<id>,
// and the ids are UUIDs. JSON strings escape their quotes, so these
// patterns occur only as reference elements, never inside text.
var refRewrites = [][2][]byte{
	{[]byte(`"reference":"Patient/`), []byte(`"reference":"urn:uuid:`)},
	{[]byte(`"reference":"Encounter/`), []byte(`"reference":"urn:uuid:`)},
}

type bundleWriter struct {
	w       *bufio.Writer
	st      *Stats
	entries int
}

func (bw *bundleWriter) open() error {
	id, err := randomUUID()
	if err != nil {
		return err
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05Z")
	_, err = fmt.Fprintf(bw.w, `{"resourceType":"Bundle","id":%q,"meta":{"lastUpdated":%q},"type":"collection","timestamp":%q`, id, now, now)
	return err
}

func (bw *bundleWriter) entry(id, resourceType string, body []byte) error {
	for _, rw := range refRewrites {
		body = bytes.ReplaceAll(body, rw[0], rw[1])
	}
	sep := ",\n"
	if bw.entries == 0 {
		sep = `,"entry":[` + "\n"
	}
	if _, err := bw.w.WriteString(sep + `{"fullUrl":"urn:uuid:` + id + `","resource":`); err != nil {
		return err
	}
	if _, err := bw.w.Write(body); err != nil {
		return err
	}
	if _, err := bw.w.WriteString("}"); err != nil {
		return err
	}
	bw.entries++
	bw.st.Entries++
	bw.st.Resources[resourceType]++
	return nil
}

func (bw *bundleWriter) close() error {
	end := "}\n"
	if bw.entries > 0 {
		end = "\n]}\n"
	}
	if _, err := bw.w.WriteString(end); err != nil {
		return err
	}
	return bw.w.Flush()
}

// randomUUID returns a random (version 4) UUID for the Bundle's id.
func randomUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
