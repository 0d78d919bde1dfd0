package records_test

import (
	"os"
	"sort"
	"testing"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// BenchmarkChartSummary loads the chart summary of a patient with 700
// visits, each with five vital signs, plus problems, medications and
// allergies. Target: p99 ≤ 200 ms (the backend call).
func BenchmarkChartSummary(b *testing.B) {
	e := newEnv(b)
	rec, err := e.s.RegisterPatient(ctx, e.actor, patient("Banda", "Chikondi", "1960-01-01"))
	if err != nil {
		b.Fatal(err)
	}
	pid := rec.ID
	start := time.Date(2000, 1, 1, 9, 0, 0, 0, time.UTC)
	e.clock.t = start
	for i := range 700 {
		at := start.Add(time.Duration(i) * 9 * 24 * time.Hour)
		e.clock.t = at.Add(time.Hour)
		st := at.Format(time.RFC3339)
		v, err := records.Save(ctx, e.s, e.actor, records.Encounters, "", "", ehr.Encounter{PatientID: pid, Status: "open", Start: st,
			Complaint: "review", Assessment: "stable", Plan: "continue"}, "")
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range []ehr.Observation{{Vital: "systolic", Value: 120 + float64(i%20)}, {Vital: "diastolic", Value: 80}, {Vital: "pulse", Value: 72},
			{Vital: "temperature", Value: 36.8}, {Vital: "weight", Value: 70 + float64(i%5)}} {
			o.PatientID, o.EncounterID, o.Effective = pid, v.ID, st
			if _, err := records.Save(ctx, e.s, e.actor, records.Observations, "", "", o, ""); err != nil {
				b.Fatal(err)
			}
		}
		if i%50 == 0 {
			if _, err := records.Save(ctx, e.s, e.actor, records.Conditions, "", "", ehr.Condition{PatientID: pid, Code: ehr.Concept{Text: "Hypertension"}, Status: "active"}, ""); err != nil {
				b.Fatal(err)
			}
			if _, err := records.Save(ctx, e.s, e.actor, records.Medications, "", "", ehr.Medication{PatientID: pid, Kind: "prescribed",
				Drug: ehr.Concept{Text: "Amlodipine 5 mg"}, Dose: "1 tablet", Frequency: "daily", Status: "active", Start: at.Format("2006-01-02")}, ""); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := records.SignEncounter(ctx, e.s, e.actor, v.ID, v.VersionID); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		sum, err := records.ChartSummary(ctx, e.s, e.actor, pid)
		lat = append(lat, time.Since(t0))
		if err != nil || len(sum.Visits) != records.SummaryVisits {
			b.Fatalf("summary: %d visits, %v", len(sum.Visits), err)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	if os.Getenv("OUTPOST_BENCH_STRICT") == "1" && p(0.99) > 200 {
		b.Errorf("chart summary p99 %.1f ms, target 200 ms", p(0.99))
	}
}
