package ehr

import (
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

func valid() PatientInput {
	return PatientInput{Family: "Banda", Given: "Chisomo", Sex: "female", BirthDate: "1990-02-28"}
}

// S2: each field refuses wrong types, over-long text, bad dates and
// control characters with a field-level message.
func TestPatientValidation(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*PatientInput)
		field string // "" means valid
	}{
		{"valid", func(p *PatientInput) {}, ""},
		{"accents and apostrophes", func(p *PatientInput) { p.Family, p.Given = "N’Dour-Müller", "José María" }, ""},
		{"other scripts", func(p *PatientInput) { p.Family, p.Given = "Алексеева", "ሰላም" }, ""},
		{"only a given name", func(p *PatientInput) { p.Family = "" }, ""},
		{"no names", func(p *PatientInput) { p.Family, p.Given = "", "" }, "family"},
		{"digits in a name", func(p *PatientInput) { p.Family = "Banda2" }, "family"},
		{"markup in a name", func(p *PatientInput) { p.Given = "<script>alert(1)</script>" }, "given"},
		{"name too long", func(p *PatientInput) { p.Family = strings.Repeat("a", 101) }, "family"},
		{"control character", func(p *PatientInput) { p.Family = "Ban\x00da" }, "family"},
		{"bidi override", func(p *PatientInput) { p.Village = "abc\u202edef" }, "village"},
		{"invalid utf-8", func(p *PatientInput) { p.Address = "a\xffb" }, "address"},
		{"no sex", func(p *PatientInput) { p.Sex = "" }, "sex"},
		{"unknown sex", func(p *PatientInput) { p.Sex = "F" }, "sex"},
		{"no birth date or age", func(p *PatientInput) { p.BirthDate = "" }, "birthDate"},
		{"bad date format", func(p *PatientInput) { p.BirthDate = "28/02/1990" }, "birthDate"},
		{"impossible date", func(p *PatientInput) { p.BirthDate = "1990-02-30" }, "birthDate"},
		{"future date", func(p *PatientInput) { p.BirthDate = "2026-06-16" }, "birthDate"},
		{"too old", func(p *PatientInput) { p.BirthDate = "1850-01-01" }, "birthDate"},
		{"date and age", func(p *PatientInput) { p.AgeYears = "30" }, "ageYears"},
		{"age instead of date", func(p *PatientInput) { p.BirthDate, p.AgeYears = "", "30" }, ""},
		{"age not a number", func(p *PatientInput) { p.BirthDate, p.AgeYears = "", "thirty" }, "ageYears"},
		{"negative age", func(p *PatientInput) { p.BirthDate, p.AgeYears = "", "-1" }, "ageYears"},
		{"age too high", func(p *PatientInput) { p.BirthDate, p.AgeYears = "", "131" }, "ageYears"},
		{"phone ok", func(p *PatientInput) { p.Phone = "+265 (0)99 123-4567" }, ""},
		{"phone letters", func(p *PatientInput) { p.Phone = "call me" }, "phone"},
		{"phone too short", func(p *PatientInput) { p.Phone = "123" }, "phone"},
		{"kin phone", func(p *PatientInput) { p.KinPhone = "12ab34" }, "kinPhone"},
		{"national id ok", func(p *PatientInput) { p.NationalID = "MW-1234/56" }, ""},
		{"national id symbols", func(p *PatientInput) { p.NationalID = "12;34" }, "nationalId"},
		{"national id too long", func(p *PatientInput) { p.NationalID = strings.Repeat("1", 33) }, "nationalId"},
		{"address markup is text", func(p *PatientInput) { p.Address = `<img src=x onerror="alert(1)">` }, ""},
		{"address multiline", func(p *PatientInput) { p.Address = "Plot 4\nNear the market" }, ""},
		{"address too long", func(p *PatientInput) { p.Address = strings.Repeat("x", 301) }, "address"},
		{"village newline", func(p *PatientInput) { p.Village = "a\nb" }, "village"},
		{"kin name digits", func(p *PatientInput) { p.KinName = "R2D2" }, "kinName"},
		{"relation too long", func(p *PatientInput) { p.KinRelation = strings.Repeat("x", 51) }, "kinRelation"},
		{"deceased, date unknown", func(p *PatientInput) { p.Deceased = true }, ""},
		{"deceased on a date", func(p *PatientInput) { p.Deceased, p.DeceasedDate = true, "2026-06-01" }, ""},
		{"death date without deceased", func(p *PatientInput) { p.DeceasedDate = "2026-06-01" }, "deceasedDate"},
		{"death date in the future", func(p *PatientInput) { p.Deceased, p.DeceasedDate = true, "2026-06-16" }, "deceasedDate"},
		{"death before birth", func(p *PatientInput) { p.Deceased, p.DeceasedDate = true, "1990-02-27" }, "deceasedDate"},
		{"death before estimated birth year", func(p *PatientInput) {
			p.BirthDate, p.AgeYears, p.Deceased, p.DeceasedDate = "", "30", true, "1990-12-31"
		}, "deceasedDate"},
		{"death date format", func(p *PatientInput) { p.Deceased, p.DeceasedDate = true, "01/06/2026" }, "deceasedDate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.edit(&in)
			_, err := in.Patient(now)
			fields := ErrorFields(err)
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.field != "" && fields[tt.field] == "":
				t.Fatalf("got %v, want a message for %s", err, tt.field)
			case tt.field != "" && ErrorCode(err) != EInvalid:
				t.Fatalf("code %s, want %s", ErrorCode(err), EInvalid)
			}
		})
	}
}

func TestPatientNormalizes(t *testing.T) {
	in := PatientInput{Family: "  van  der   Merwe ", Given: "Anna\tMarie", Sex: "female", AgeYears: " 40 "}
	p, err := in.Patient(now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Family, "van der Merwe"; got != want {
		t.Errorf("family = %q, want %q", got, want)
	}
	if got, want := p.Given, "Anna Marie"; got != want {
		t.Errorf("given = %q, want %q", got, want)
	}
	if got, want := p.BirthDate, "1986"; got != want || !p.BirthEstimated {
		t.Errorf("birth = %q estimated %v, want %q estimated", got, p.BirthEstimated, want)
	}
	if got, want := p.Input(now).AgeYears, "40"; got != want {
		t.Errorf("age back = %q, want %q", got, want)
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		birth     string
		estimated bool
		want      string
	}{
		{"1990-06-15", false, "36 y"},
		{"1990-06-16", false, "35 y"},
		{"2024-06-15", false, "2 y"},
		{"2024-06-16", false, "23 mo"},
		{"2026-05-20", false, "26 d"},
		{"2026-06-10", false, "5 d"},
		{"1980", true, "~46 y"},
		{"", false, ""},
	}
	for _, tt := range tests {
		p := Patient{BirthDate: tt.birth, BirthEstimated: tt.estimated}
		if got := p.Age(now); got != tt.want {
			t.Errorf("Age(%s) = %q, want %q", tt.birth, got, tt.want)
		}
	}
	// The age of a patient who died on a known date is the age at death.
	dead := Patient{BirthDate: "1990-06-15", Deceased: true, DeceasedDate: "2020-06-14"}
	if got, want := dead.Age(now), "29 y"; got != want {
		t.Errorf("age at death = %q, want %q", got, want)
	}
}

func TestDeceasedBody(t *testing.T) {
	for _, tt := range []struct {
		p    Patient
		want string
	}{
		{Patient{Family: "Osei", Sex: "male", BirthDate: "1950-01-01", Deceased: true}, `"deceasedBoolean":true`},
		{Patient{Family: "Osei", Sex: "male", BirthDate: "1950-01-01", Deceased: true, DeceasedDate: "2025-03-04"}, `"deceasedDateTime":"2025-03-04"`},
		{Patient{Family: "Osei", Sex: "male", BirthDate: "1950-01-01"}, ``},
	} {
		body, err := PatientBody("0190a0b0-0000-7000-8000-000000000000", tt.p)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(body); (tt.want == "" && strings.Contains(got, "deceased")) || !strings.Contains(got, tt.want) {
			t.Errorf("body %s, want %s", got, tt.want)
		}
		back, err := ParsePatientBody(body)
		if err != nil || back != tt.p {
			t.Errorf("round trip: got %+v, want %+v (%v)", back, tt.p, err)
		}
	}
}

func TestPatientBodyRoundTrip(t *testing.T) {
	p := Patient{ClinicNo: "K7Q-00001", Family: "Osei", Given: "Kwame Nkrumah", Other: "Kobby", Sex: "male",
		BirthDate: "1984", BirthEstimated: true, NationalID: "GH-1", Phone: "+233 20 000 0000", Village: "Lowland",
		Address: "<b>Plot</b> 4 & \"5\"", KinName: "Ama Osei", KinRelation: "sister", KinPhone: "+233 20 000 0001"}
	body, err := PatientBody("0190a0b0-0000-7000-8000-000000000000", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), `{"address":[`) || !strings.Contains(string(body), `"resourceType":"Patient"`) {
		t.Errorf("body is not canonical FHIR: %s", body)
	}
	if strings.Contains(string(body), `\u003c`) {
		t.Errorf("canonical JSON escapes HTML: %s", body)
	}
	got, err := ParsePatientBody(body)
	if err != nil {
		t.Fatal(err)
	}
	if got != p {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, p)
	}
	again, _ := PatientBody("0190a0b0-0000-7000-8000-000000000000", got)
	if string(again) != string(body) {
		t.Errorf("body not stable:\n%s\n%s", body, again)
	}
}

func FuzzPatientInput(f *testing.F) {
	f.Add("Banda", "Chisomo", "female", "1990-02-28", "", "+265 99", "Plot 4")
	f.Add("<script>", "'; DROP TABLE x; --", "male", "", "30", "", "\x00")
	f.Fuzz(func(t *testing.T, family, given, sex, birth, age, phone, address string) {
		in := PatientInput{Family: family, Given: given, Sex: sex, BirthDate: birth, AgeYears: age, Phone: phone, Address: address}
		p, err := in.Patient(now)
		if err != nil {
			if ErrorCode(err) != EInvalid || len(ErrorFields(err)) == 0 {
				t.Fatalf("error without fields: %v", err)
			}
			return
		}
		body, err := PatientBody("0190a0b0-0000-7000-8000-000000000000", p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParsePatientBody(body)
		if err != nil || back != p {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, back, p)
		}
	})
}

func FuzzParsePatientBody(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Patient","name":[{"use":"official","family":"X"}]}`))
	f.Add([]byte(`{"resourceType":"Observation"}`))
	f.Add([]byte(`[1,2`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := ParsePatientBody(raw)
		if err != nil {
			return
		}
		if _, err := PatientBody("0190a0b0-0000-7000-8000-000000000000", p); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzCanonicalizeJSON(f *testing.F) {
	f.Add([]byte(`{"b":1,"a":[true,null,"x"]}`))
	f.Add([]byte(`1e400`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := CanonicalizeJSON(raw)
		if err != nil {
			return
		}
		c2, err := CanonicalizeJSON(c)
		if err != nil || string(c2) != string(c) {
			t.Fatalf("not idempotent: %q -> %q (%v)", c, c2, err)
		}
	})
}
