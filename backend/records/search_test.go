package records_test

import (
	"fmt"
	"testing"

	"outpost/backend/ehr"
)

func TestSearch(t *testing.T) {
	e := newEnv(t)
	people := []ehr.Patient{
		{Family: "Schmidt", Given: "Catherine", Sex: "female", BirthDate: "1982-04-17", NationalID: "AB-123456"},
		{Family: "Smith", Given: "John", Sex: "male", BirthDate: "1975-01-02"},
		{Family: "Müller", Given: "José", Sex: "male", BirthDate: "1990", BirthEstimated: true},
		{Family: "Mohammed", Given: "Fatima", Other: "Umm Ali", Sex: "female", BirthDate: "2001-09-09"},
		{Family: "Osei", Given: "Kwame Nkrumah", Sex: "male", BirthDate: "1982-12-01"},
		{Family: "O'Brien", Given: "Siobhan", Sex: "female", BirthDate: "1968-03-03"},
	}
	ids := map[string]string{}
	nos := map[string]string{}
	for _, p := range people {
		rec, err := e.s.RegisterPatient(ctx, e.actor, p)
		if err != nil {
			t.Fatal(err)
		}
		ids[p.Family] = rec.ID
		nos[p.Family] = rec.Patient.ClinicNo
	}
	tests := []struct {
		query string
		want  []string // families, in order; nil means no hits
		match string   // match kind of the first hit
	}{
		{"schmidt", []string{"Schmidt", "Smith"}, "name"},
		{"SCHM", []string{"Schmidt"}, "name"},
		{"shmidt", []string{"Schmidt", "Smith"}, "phonetic"},
		{"kathryn", []string{"Schmidt"}, "phonetic"},
		{"muller", []string{"Müller"}, "name"},
		{"MÜL", []string{"Müller"}, "name"},
		{"jose", []string{"Müller"}, "name"},
		{"muhammad", []string{"Mohammed"}, "phonetic"},
		{"umm", []string{"Mohammed"}, "name"},
		{"obrien", []string{"O'Brien"}, "name"},
		{"o'bri", []string{"O'Brien"}, "name"},
		{"kwame osei", []string{"Osei"}, "name"},
		{"osei kwame", []string{"Osei"}, "name"},
		{"nkrumah", []string{"Osei"}, "name"},
		{"smith john", []string{"Smith"}, "name"},
		{"smith catherine", []string{"Schmidt"}, "phonetic"},
		{"smith fatima", nil, ""},
		{"1982", []string{"Osei", "Schmidt"}, "birth year"},
		{"schmidt 1982", []string{"Schmidt"}, "name"},
		{"schmidt 1983", nil, ""},
		{"1990 müller", []string{"Müller"}, "name"},
		{nos["Osei"], []string{"Osei"}, "clinic number"},
		{"ab123456", []string{"Schmidt"}, "national id"},
		{"AB-123456", []string{"Schmidt"}, "national id"},
		{"zzzz", nil, ""},
		{"", nil, ""},
		{"   ", nil, ""},
		{"'; DROP TABLE patients; --", nil, ""},
		{"%", nil, ""},
		{"_", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits, err := e.s.FindPatients(ctx, tt.query, 50)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hits {
				got = append(got, h.Family)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if len(hits) > 0 && hits[0].Match != tt.match {
				t.Errorf("match = %q, want %q", hits[0].Match, tt.match)
			}
		})
	}
	if got := count(t, e, "patients"); got != len(people) {
		t.Fatalf("patients = %d after an injection attempt, want %d", got, len(people))
	}
}

func TestSearchFollowsEdits(t *testing.T) {
	e := newEnv(t)
	p := ehr.Patient{Family: "Ngozi", Given: "Ada", Sex: "female", BirthDate: "1999-09-09"}
	rec, err := e.s.RegisterPatient(ctx, e.actor, p)
	if err != nil {
		t.Fatal(err)
	}
	p.Family = "Okafor"
	if _, err := e.s.UpdatePatient(ctx, e.actor, rec.ID, rec.VersionID, p, "married"); err != nil {
		t.Fatal(err)
	}
	if hits, _ := e.s.FindPatients(ctx, "ngozi", 50); len(hits) != 0 {
		t.Errorf("old name still found: %v", hits)
	}
	if hits, _ := e.s.FindPatients(ctx, "okafor", 50); len(hits) != 1 {
		t.Errorf("new name not found: %v", hits)
	}
}

func TestSearchLimitAndRanking(t *testing.T) {
	e := newEnv(t)
	for i := range 60 {
		p := ehr.Patient{Family: fmt.Sprintf("Banda%c", 'a'+i%26), Given: "Tiyamike", Sex: "female", BirthDate: "2000-01-01"}
		if i == 59 {
			p.Family = "Banda"
		}
		if _, err := e.s.RegisterPatient(ctx, e.actor, p); err != nil {
			t.Fatal(err)
		}
	}
	hits, err := e.s.FindPatients(ctx, "banda", 50)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(hits), 50; got != want {
		t.Fatalf("hits = %d, want %d", got, want)
	}
	if got, want := hits[0].Family, "Banda"; got != want {
		t.Errorf("first hit = %s, want the exact match %s", got, want)
	}
}
