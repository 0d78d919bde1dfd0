package sync_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/seal"
	"outpost/backend/sync"
	"outpost/backend/sync/synctest"
	"outpost/backend/syncproto"
	"outpost/backend/vault/vaulttest"
)

// The sync benchmarks of issue 6, against the real outpost-server
// process on loopback and real SQLCipher vaults:
//
//	go test -run '^$' -bench InitialSync -benchtime 1x -timeout 60m ./backend/sync/
//	go test -run '^$' -bench IncrementalSync -benchtime 200x ./backend/sync/
//
// The server is filled fast: a synthetic clinic's versions are built with
// the ehr types and their canonical encoders, sealed with the clinic key
// in memory (seal.Stable, as a laptop seals) and pushed through the real
// API as one enrolled source device, in batches of 1,000; no source
// vault is involved. OUTPOST_BENCH_SYNC_VERSIONS sets the size of the
// initial sync's clinic (600,000 by default: 10,000 patients) and
// OUTPOST_BENCH_INCR_VERSIONS the clinic both laptops of the incremental
// benchmark hold (60,000 by default). With OUTPOST_BENCH_STRICT=1 a
// missed target fails the benchmark.

const (
	initialTarget = 8_600 // versions/s, pull and store
	incrTargetP99 = 50    // ms, an incremental sync of 100 changed records
	incrChanges   = 100
)

func benchSize(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 {
		b.Fatalf("%s: want a number of versions of at least 100", name)
	}
	return n
}

func strict() bool { return os.Getenv("OUTPOST_BENCH_STRICT") == "1" }

// synthClinic makes a deterministic synthetic clinic, patient by
// patient, in the order a clinic writes it (every parent before its
// children). Names are built from syllables: no real person.
type synthClinic struct {
	r   *rand.Rand
	ids *ehr.IDs
	at  time.Time // the clock of the clinic's writes; a minute a version
	n   uint16
	no  int // clinic numbers given out

	// What the incremental benchmark edits: records and their newest
	// versions.
	patients    []editable[ehr.Patient]
	conditions  []editable[ehr.Condition]
	medications []editable[ehr.Medication]
}

type editable[T any] struct {
	id, version string
	value       T
}

func newSynthClinic(seed uint64) *synthClinic {
	g := &synthClinic{r: rand.New(rand.NewPCG(seed, seed^0x5eed)), at: time.Date(2021, 1, 4, 8, 0, 0, 0, time.UTC)}
	src := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 'o', 'u', 't', 'p', 'o', 's', 't'})
	g.ids = &ehr.IDs{Now: func() time.Time { return g.at }, Rand: src}
	return g
}

var syllables = []string{"ka", "lo", "mi", "ra", "ne", "tu", "si", "po", "da", "ve", "zo", "bi", "nu", "fe", "gu", "ha"}

func (g *synthClinic) name() string {
	s := ""
	for i := 0; i < 2+g.r.IntN(2); i++ {
		s += syllables[g.r.IntN(len(syllables))]
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func (g *synthClinic) id() string {
	id, err := g.ids.New()
	if err != nil {
		panic(err)
	}
	return id
}

// version makes the next version of a record, written a minute after
// the previous one.
func (g *synthClinic) version(kind, record string, parents []string, reason string, body []byte, err error) ehr.Version {
	if err != nil {
		panic(fmt.Sprintf("synthetic %s: %v", kind, err))
	}
	g.at = g.at.Add(time.Minute)
	g.n++
	if parents == nil {
		parents = []string{}
	}
	return ehr.Version{VersionID: g.id(), RecordID: record, Kind: kind, Parents: parents, HLC: ehr.MakeHLC(g.at, g.n),
		Author: "nurse.fill", Device: "dev-fill", Reason: reason, Body: body}
}

func mustValid(err error) {
	if err != nil {
		panic(fmt.Sprintf("synthetic record is not valid: %v", err))
	}
}

var benchNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// patient appends a patient's chart, about 60 versions: the patient
// (sometimes edited), 6 visits (opened, then signed) with 5 vital signs
// each, problems (some resolved later), medications (some stopped),
// allergies, immunizations and notes.
func (g *synthClinic) patient(out []ehr.Version) []ehr.Version {
	pid := g.id()
	g.no++
	in := ehr.PatientInput{Family: g.name(), Given: g.name(), Sex: []string{"female", "male"}[g.r.IntN(2)],
		BirthDate: fmt.Sprintf("%04d-%02d-%02d", 1940+g.r.IntN(80), 1+g.r.IntN(12), 1+g.r.IntN(28)),
		Village:   g.name() + " Village", Phone: fmt.Sprintf("+265 99%07d", g.r.IntN(10_000_000))}
	p, err := in.Patient(benchNow)
	mustValid(err)
	p.ClinicNo = fmt.Sprintf("SYN-%05d", g.no)
	body, err := ehr.PatientBody(pid, p)
	pv := g.version(ehr.KindPatient, pid, nil, "registered", body, err)
	out = append(out, pv)
	if g.r.IntN(10) == 0 {
		p.Village = g.name() + " Village"
		body, err := ehr.PatientBody(pid, p)
		pv = g.version(ehr.KindPatient, pid, []string{pv.VersionID}, "moved", body, err)
		out = append(out, pv)
	}
	g.patients = append(g.patients, editable[ehr.Patient]{pid, pv.VersionID, p})

	for range 6 {
		eid := g.id()
		start := g.at.Format(time.RFC3339)
		e := ehr.Encounter{PatientID: pid, Status: ehr.EncounterOpen, Start: start, Complaint: "synthetic complaint " + g.name(),
			Assessment: "stable", Plan: "review in a month"}
		mustValid(e.Validate(benchNow))
		body, err := ehr.EncounterBody(eid, e)
		ev := g.version(ehr.KindEncounter, eid, nil, "", body, err)
		out = append(out, ev)
		for _, vt := range []struct {
			key    string
			lo, hi float64
		}{{"systolic", 100, 160}, {"diastolic", 60, 100}, {"pulse", 55, 110}, {"temperature", 36, 38.5}, {"weight", 40, 100}} {
			o := ehr.Observation{PatientID: pid, EncounterID: eid, Vital: vt.key, Value: float64(int((vt.lo+g.r.Float64()*(vt.hi-vt.lo))*10)) / 10, Effective: start}
			mustValid(o.Validate(benchNow))
			oid := g.id()
			body, err := ehr.ObservationBody(oid, o)
			out = append(out, g.version(ehr.KindObservation, oid, nil, "", body, err))
		}
		e.Status, e.End, e.SignedBy, e.SignedAt = ehr.EncounterSigned, g.at.Format(time.RFC3339), "nurse.fill", g.at.Format(time.RFC3339)
		mustValid(e.Validate(benchNow))
		body, err = ehr.EncounterBody(eid, e)
		out = append(out, g.version(ehr.KindEncounter, eid, []string{ev.VersionID}, "signed", body, err))
	}
	day := g.at.Format("2006-01-02")
	for i := range 2 {
		cid := g.id()
		c := ehr.Condition{PatientID: pid, Status: "active", Onset: day, Code: ehr.Concept{Text: []string{"Hypertension", "Type 2 diabetes", "Asthma", "Malaria"}[g.r.IntN(4)]}}
		if i == 0 {
			c.Code = ehr.Concept{Coding: []ehr.Coding{{System: ehr.SystemICD10, Code: "I10", Display: "Essential hypertension"}}}
		}
		mustValid(c.Validate(benchNow))
		body, err := ehr.ConditionBody(cid, c)
		cv := g.version(ehr.KindCondition, cid, nil, "", body, err)
		out = append(out, cv)
		if g.r.IntN(3) == 0 {
			c.Status = "resolved"
			body, err := ehr.ConditionBody(cid, c)
			cv = g.version(ehr.KindCondition, cid, []string{cv.VersionID}, "resolved", body, err)
			out = append(out, cv)
		}
		g.conditions = append(g.conditions, editable[ehr.Condition]{cid, cv.VersionID, c})
	}
	for range 3 {
		mid := g.id()
		m := ehr.Medication{PatientID: pid, Kind: ehr.MedicationPrescribed, Drug: ehr.Concept{Text: []string{"Amlodipine 5 mg", "Metformin 500 mg", "Amoxicillin 500 mg"}[g.r.IntN(3)]},
			Dose: "1 tablet", Route: "oral", Frequency: "twice daily", Duration: "30 days", Status: "active", Start: day}
		mustValid(m.Validate(benchNow))
		body, err := ehr.MedicationBody(mid, m)
		mv := g.version(ehr.KindMedication, mid, nil, "", body, err)
		out = append(out, mv)
		if g.r.IntN(2) == 0 {
			m.Status = "stopped"
			body, err := ehr.MedicationBody(mid, m)
			mv = g.version(ehr.KindMedication, mid, []string{mv.VersionID}, "stopped", body, err)
			out = append(out, mv)
		}
		g.medications = append(g.medications, editable[ehr.Medication]{mid, mv.VersionID, m})
	}
	al := ehr.Allergy{PatientID: pid, Substance: ehr.Concept{Text: "Penicillin"}, Reaction: "rash", Severity: "mild", Status: "active"}
	mustValid(al.Validate(benchNow))
	aid := g.id()
	body, err = ehr.AllergyBody(aid, al)
	out = append(out, g.version(ehr.KindAllergy, aid, nil, "", body, err))
	for i := range 5 {
		im := ehr.Immunization{PatientID: pid, Vaccine: ehr.Concept{Text: "Synthetic vaccine " + strconv.Itoa(i%3)}, Date: day, DoseNumber: 1 + i%3, Status: "completed"}
		mustValid(im.Validate(benchNow))
		iid := g.id()
		body, err := ehr.ImmunizationBody(iid, im)
		out = append(out, g.version(ehr.KindImmunization, iid, nil, "", body, err))
	}
	for range 4 {
		n := ehr.Note{PatientID: pid, Title: "Synthetic note", Text: "A made-up note about " + g.name() + ": nothing of a real person."}
		mustValid(n.Validate(benchNow))
		nid := g.id()
		body, err := ehr.NoteBody(nid, n)
		out = append(out, g.version(ehr.KindNote, nid, nil, "", body, err))
	}
	return out
}

// fillServer pushes a synthetic clinic of about n versions (whole
// patients, so a few more) into the server as one enrolled source device
// and returns the generator (which knows the records) and the number of
// versions stored. Batches are
// built and sealed two at a time while the previous one is pushed.
func fillServer(b *testing.B, srv *server, key seal.Key, n int) (*synthClinic, int) {
	b.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	src := &sync.Client{Base: srv.Base, HTTP: sync.Pinned(srv.Pin, 2*time.Minute),
		Signer: &syncproto.Signer{Device: syncproto.DeviceID(pub), Key: priv}}
	if _, err := src.Enroll(ctx, srv.Token(b, "hill", "Hill Clinic"), "fill"); err != nil {
		b.Fatal(err)
	}
	g := newSynthClinic(20261123)
	type sealed struct {
		req syncproto.PushRequest
		err error
	}
	batches := make(chan chan sealed, 2)
	go func() {
		defer close(batches)
		// Whole patients only (their records are what the incremental
		// benchmark edits): the clinic ends with the patient that
		// reaches n versions.
		var pending []ehr.Version
		generated := 0
		for generated < n || len(pending) > 0 {
			for len(pending) < syncproto.MaxBatch && generated < n {
				before := len(pending)
				pending = g.patient(pending)
				generated += len(pending) - before
			}
			k := min(syncproto.MaxBatch, len(pending))
			batch := slices.Clone(pending[:k])
			pending = append(pending[:0], pending[k:]...)
			ch := make(chan sealed, 1)
			batches <- ch
			go func() {
				req := syncproto.PushRequest{Versions: make([]syncproto.Version, len(batch))}
				for i, v := range batch {
					s, err := seal.Stable(key, v)
					if err != nil {
						ch <- sealed{err: err}
						return
					}
					req.Versions[i] = syncproto.Version{Record: v.RecordID, ID: v.VersionID, Parents: v.Parents, Sealed: s}
				}
				ch <- sealed{req: req}
			}()
		}
	}()
	stored := 0
	for ch := range batches {
		s := <-ch
		if s.err != nil {
			b.Fatal(s.err)
		}
		for try := 0; ; try++ {
			req, err := syncproto.NewRequest(ctx, http.MethodPost, srv.Base, syncproto.PathPush, s.req, src.Signer)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := src.HTTP.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var out syncproto.PushResponse
			err = syncproto.ReadResponse(resp, syncproto.MaxDecodedBody, &out)
			var pe *syncproto.Error
			if errors.As(err, &pe) && try < 20 && (pe.Code == syncproto.CodeRateLimited || pe.Code == syncproto.CodeUnavailable) {
				time.Sleep(max(pe.RetryAfter, 100*time.Millisecond))
				continue
			}
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range out.Results {
				if r.Status != syncproto.PushStored {
					b.Fatalf("fill: %s %s", r.ID, r.Status)
				}
			}
			stored += len(out.Results)
			break
		}
	}
	return g, stored
}

// BenchmarkInitialSync: a fresh, enrolled laptop pulls and stores a
// whole clinic (10,000 patients, about 600,000 versions by default).
// One iteration is one whole initial sync, into a new vault.
func BenchmarkInitialSync(b *testing.B) {
	n := benchSize(b, "OUTPOST_BENCH_SYNC_VERSIONS", 600_000)
	srv := synctestStart(b)
	key, _ := seal.NewKey(nil)
	t0 := time.Now()
	g, stored := fillServer(b, srv, key, n)
	fill := time.Since(t0)
	b.Logf("server filled with %d versions of %d patients in %s (%.0f versions/s)", stored, len(g.patients), fill.Round(time.Millisecond), float64(stored)/fill.Seconds())
	var elapsed, clientCPU, serverCPU time.Duration
	runs := 0
	for ; b.Loop(); runs++ {
		b.StopTimer()
		l := openLaptop(b, vaulttest.New(b), srv, key, fmt.Sprintf("new%d", runs))
		if _, err := l.c.Enroll(ctx, srv.Token(b, "hill", "Hill Clinic"), "new"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t, cc, sc := time.Now(), processCPU(b, "self"), serverProcessCPU(b, srv)
		res, err := l.c.Sync(ctx)
		elapsed += time.Since(t)
		clientCPU += processCPU(b, "self") - cc
		serverCPU += serverProcessCPU(b, srv) - sc
		b.StopTimer()
		if err != nil {
			b.Fatalf("initial sync: %v", err)
		}
		if res.Pulled != stored || res.Conflicts != 0 {
			b.Fatalf("pulled %d of %d, %d conflicts", res.Pulled, stored, res.Conflicts)
		}
		l.v.Close()
		b.StartTimer() // b.Loop wants it running
	}
	rate := float64(runs*stored) / elapsed.Seconds()
	b.ReportMetric(rate, "versions/s")
	b.ReportMetric(float64(stored), "versions")
	perVersion := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(runs*stored) }
	b.ReportMetric(perVersion(clientCPU), "client-cpu-µs/version")
	b.ReportMetric(perVersion(serverCPU), "server-cpu-µs/version")
	b.ReportMetric(0, "ns/op")
	b.Logf("initial sync of %d versions: %.0f versions/s (target %d); CPU per version: laptop %.0f µs, server %.0f µs",
		stored, rate, initialTarget, perVersion(clientCPU), perVersion(serverCPU))
	if strict() && rate < initialTarget {
		b.Fatalf("initial sync %.0f versions/s, target %d", rate, initialTarget)
	}
}

// BenchmarkIncrementalSync: on laptop A, clinicians see 10 patients and
// make 100 changes through the record store, 10 a visit (the patient's
// details updated, a visit opened, 5 vital signs, a problem and a
// medication reviewed, the visit signed), and A syncs (its push, then a
// pull that brings back its own versions, already held); laptop B, which
// holds the same clinic, syncs and applies them. One iteration is one
// round; A's and B's syncs are timed apart (A's writes are not).
func BenchmarkIncrementalSync(b *testing.B) { benchIncremental(b, visits) }

// BenchmarkIncrementalSyncScattered is the same with the 100 changes
// spread over 100 records anywhere in the clinic
// (patients moved, problems and medications updated): every change
// dirties its own pages of each index, so B's commit writes several times
// more pages. Reported, not held to the target.
func BenchmarkIncrementalSyncScattered(b *testing.B) { benchIncremental(b, scattered) }

func benchIncremental(b *testing.B, round func(*laptop, *synthClinic, *rand.Rand, int) error) {
	n := benchSize(b, "OUTPOST_BENCH_INCR_VERSIONS", 60_000)
	srv := synctestStart(b)
	key, _ := seal.NewKey(nil)
	g, stored := fillServer(b, srv, key, n)
	mk := func(name string) *laptop {
		l := openLaptop(b, vaulttest.New(b), srv, key, name)
		if _, err := l.c.Enroll(ctx, srv.Token(b, "hill", "Hill Clinic"), name); err != nil {
			b.Fatal(err)
		}
		if res, err := l.c.Sync(ctx); err != nil || res.Pulled != stored {
			b.Fatalf("%s's first sync: %+v %v", name, res, err)
		}
		l.actor.Roles = []string{"clinician"}
		return l
	}
	a, bb := mk("ada"), mk("ben")
	r := rand.New(rand.NewPCG(6, 100))
	var push, pull []time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if err := round(a, g, r, i); err != nil {
			b.Fatalf("changes: %v", err)
		}
		b.StartTimer()
		t := time.Now()
		res, err := a.c.Sync(ctx)
		push = append(push, time.Since(t))
		if err != nil || res.Pushed != incrChanges {
			b.Fatalf("a's sync: %+v %v", res, err)
		}
		t = time.Now()
		res, err = bb.c.Sync(ctx)
		pull = append(pull, time.Since(t))
		if err != nil || res.Pulled != incrChanges || res.Conflicts != 0 {
			b.Fatalf("b's sync: %+v %v", res, err)
		}
	}
	b.StopTimer()
	pct := func(d []time.Duration, q float64) float64 {
		d = slices.Clone(d)
		slices.Sort(d)
		return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(pull, 0.5), "p50-ms/pull")
	b.ReportMetric(pct(pull, 0.99), "p99-ms/pull")
	b.ReportMetric(pct(push, 0.5), "p50-ms/push")
	b.ReportMetric(pct(push, 0.99), "p99-ms/push")
	b.ReportMetric(0, "ns/op")
	b.Logf("incremental sync of %d records on a clinic of %d versions, %d rounds: B's sync p50 %.1f ms, p99 %.1f ms (target %d); A's sync p50 %.1f ms, p99 %.1f ms",
		incrChanges, stored, len(pull), pct(pull, 0.5), pct(pull, 0.99), incrTargetP99, pct(push, 0.5), pct(push, 0.99))
	if strict() && len(pull) >= 50 && b.Name() == "BenchmarkIncrementalSync" && pct(pull, 0.99) > incrTargetP99 {
		b.Fatalf("incremental sync p99 %.1f ms, target %d ms", pct(pull, 0.99), incrTargetP99)
	}
}

// processCPU returns the CPU time (user and system) a process has used
// so far, from /proc (pid or "self"). On a shared machine the CPU each
// side spends per version is a steadier figure than the wall-clock rate.
func processCPU(b *testing.B, pid string) time.Duration {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0 // not Linux: the figure is left out
	}
	// The fields after the command's closing parenthesis; utime and
	// stime are the 14th and 15th of the whole line, in clock ticks
	// (100 a second on Linux).
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 13 {
		b.Fatalf("unexpected /proc/%s/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// serverProcessCPU returns processCPU of the server process serving
// srv's data dir.
func serverProcessCPU(b *testing.B, srv *server) time.Duration {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmd, []byte("serve\x00--data-dir\x00"+srv.Dir+"\x00")) {
			return processCPU(b, e.Name())
		}
	}
	return 0
}

func synctestStart(b *testing.B) *server { return synctest.Start(b, serverBin) }

// visits makes one round of 10 visits on laptop l, 10 changes each.
func visits(l *laptop, g *synthClinic, r *rand.Rand, round int) error {
	seen := map[int]bool{}
	for range incrChanges / 10 {
		pi := r.IntN(len(g.patients))
		for seen[pi] {
			pi = r.IntN(len(g.patients))
		}
		seen[pi] = true
		pt := &g.patients[pi]
		p := pt.value
		p.Phone = fmt.Sprintf("+265 88%07d", r.IntN(10_000_000))
		rec, err := l.s.UpdatePatient(ctx, l.actor, pt.id, pt.version, p, "new phone")
		if err != nil {
			return fmt.Errorf("update patient: %w", err)
		}
		pt.version, pt.value = rec.VersionID, p
		start := time.Now().UTC().Add(-30 * time.Minute).Format(time.RFC3339)
		visit, err := records.Save(ctx, l.s, l.actor, records.Encounters, "", "", ehr.Encounter{PatientID: pt.id, Status: ehr.EncounterOpen, Start: start,
			Complaint: "review", Assessment: "stable", Plan: fmt.Sprintf("review in round %d", round+1)}, "")
		if err != nil {
			return fmt.Errorf("open visit: %w", err)
		}
		for _, o := range []ehr.Observation{{Vital: "systolic", Value: 128}, {Vital: "diastolic", Value: 82}, {Vital: "pulse", Value: 76},
			{Vital: "temperature", Value: 36.9}, {Vital: "weight", Value: 64.5}} {
			o.PatientID, o.EncounterID, o.Effective = pt.id, visit.ID, start
			if _, err := records.Save(ctx, l.s, l.actor, records.Observations, "", "", o, ""); err != nil {
				return fmt.Errorf("vital sign: %w", err)
			}
		}
		c := &g.conditions[2*pi] // the patient's first problem (2 a patient, in order)
		cv := c.value
		cv.Note = fmt.Sprintf("reviewed in round %d", round)
		it, err := records.Save(ctx, l.s, l.actor, records.Conditions, c.id, c.version, cv, "reviewed")
		if err != nil {
			return fmt.Errorf("review problem: %w", err)
		}
		c.version, c.value = it.VersionID, cv
		m := &g.medications[3*pi] // the first medication (3 a patient)
		mv := m.value
		mv.Note = fmt.Sprintf("reviewed in round %d", round)
		it2, err := records.Save(ctx, l.s, l.actor, records.Medications, m.id, m.version, mv, "reviewed")
		if err != nil {
			return fmt.Errorf("review medication: %w", err)
		}
		m.version, m.value = it2.VersionID, mv
		if _, err := records.SignEncounter(ctx, l.s, l.actor, visit.ID, visit.VersionID); err != nil {
			return fmt.Errorf("sign visit: %w", err)
		}
	}
	return nil
}

// scattered makes 100 changes to records of 100 different patients.
func scattered(l *laptop, g *synthClinic, r *rand.Rand, round int) error {
	used := map[string]bool{}
	for j := range incrChanges {
		if err := change(l, g, r, used, round, j); err != nil {
			return err
		}
	}
	return nil
}

// change makes one clinician's change on laptop l: a patient moved, a
// problem's status or a medication's status changed.
func change(l *laptop, g *synthClinic, r *rand.Rand, used map[string]bool, round, j int) error {
	pick := func(n int, id func(int) string) int {
		for {
			if i := r.IntN(n); !used[id(i)] {
				used[id(i)] = true
				return i
			}
		}
	}
	switch j % 3 {
	case 0:
		e := &g.patients[pick(len(g.patients), func(i int) string { return g.patients[i].id })]
		p := e.value
		p.Village = fmt.Sprintf("Village %d-%d", round, j)
		rec, err := l.s.UpdatePatient(ctx, l.actor, e.id, e.version, p, "moved")
		if err != nil {
			return err
		}
		e.version, e.value = rec.VersionID, p
	case 1:
		e := &g.conditions[pick(len(g.conditions), func(i int) string { return g.conditions[i].id })]
		c := e.value
		c.Status = map[string]string{"active": "resolved", "resolved": "active"}[c.Status]
		c.Note = fmt.Sprintf("reviewed in round %d", round)
		it, err := records.Save(ctx, l.s, l.actor, records.Conditions, e.id, e.version, c, "reviewed")
		if err != nil {
			return err
		}
		e.version, e.value = it.VersionID, c
	default:
		e := &g.medications[pick(len(g.medications), func(i int) string { return g.medications[i].id })]
		m := e.value
		m.Status = map[string]string{"active": "stopped", "stopped": "active"}[m.Status]
		m.Note = fmt.Sprintf("reviewed in round %d", round)
		it, err := records.Save(ctx, l.s, l.actor, records.Medications, e.id, e.version, m, "reviewed")
		if err != nil {
			return err
		}
		e.version, e.value = it.VersionID, m
	}
	return nil
}
