package fhir_test

import (
	"bytes"
	"testing"

	"outpost/backend/ehr"
	"outpost/backend/fhir"
)

// FuzzImport feeds small Bundles to Import: it never panics, and an input
// imported once imports again without creating anything.
//
//	go test -run '^$' -fuzz FuzzImport -fuzztime 60s ./backend/fhir/
func FuzzImport(f *testing.F) {
	const p = "urn:uuid:p"
	f.Add(bundle(f, "collection", p, testPatient("Osei"), "urn:uuid:o", vital(p, "", "8867-4", 72, "/min")))
	f.Add(bundle(f, "transaction", p, testPatient("Osei"),
		"urn:uuid:bp", obj{"resourceType": "Observation", "status": "final", "code": coded(ehr.SystemLOINC, "85354-9", "BP"),
			"subject": ref(p), "effectiveDateTime": "2024-01-01T10:00:00Z",
			"component": []obj{
				{"code": coded(ehr.SystemLOINC, "8480-6", ""), "valueQuantity": obj{"value": 120, "code": "mm[Hg]"}},
				{"code": coded(ehr.SystemLOINC, "8462-4", ""), "valueQuantity": obj{"value": 80}},
			}}))
	f.Add(bundle(f, "batch", "", obj{"resourceType": "Encounter", "id": "e", "status": "finished", "subject": ref("Patient/x"),
		"period": obj{"start": "2024-01-01T10:00:00Z", "end": "2024-01-01T09:00:00Z"}},
		"", obj{"resourceType": "Patient", "id": "x", "birthDate": "1990", "name": []obj{{"text": "Ama"}}}))
	f.Add(bundle(f, "collection", p, testPatient("Osei"),
		"urn:uuid:m", obj{"resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": ref(p),
			"medicationReference": ref("urn:uuid:med"), "dosageInstruction": []obj{{"timing": obj{"repeat": obj{"frequency": 2, "period": 1, "periodUnit": "d"}}}}},
		"urn:uuid:med", obj{"resourceType": "Medication", "code": coded(ehr.SystemRxNorm, "313782", "Acetaminophen")},
		"urn:uuid:d", obj{"resourceType": "DocumentReference", "status": "current", "subject": ref(p),
			"content": []obj{{"attachment": obj{"contentType": "text/plain", "data": "SGVsbG8=", "title": "Letter"}}}}))
	f.Add([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":null},{},{"fullUrl":1}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"a","resource":{"resourceType":"Patient","gender":7}}]}`))
	f.Add([]byte(`[`))
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		first, err := fhir.Import(ctx, e.s, e.actor, bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		if first.Entries > 0 && len(first.Types) == 0 {
			t.Fatalf("%d entries but no counts", first.Entries)
		}
		again, err := fhir.Import(ctx, e.s, e.actor, bytes.NewReader(data), nil)
		if err != nil {
			t.Fatalf("second import failed: %v", err)
		}
		if n := again.Total().Imported; n != 0 {
			t.Fatalf("the second import created %d records: %+v", n, again.Types)
		}
	})
}
