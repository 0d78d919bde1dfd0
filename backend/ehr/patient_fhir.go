package ehr

import (
	"encoding/json"
	"fmt"
	"strings"
)

// FHIR identifier systems and extensions that Outpost defines.
const (
	SystemClinicNo   = "urn:outpost:clinic-number"
	SystemNationalID = "urn:outpost:national-id"
	ExtBirthEstimate = "urn:outpost:fhir:birth-date-estimated"
)

// The subset of FHIR R4 Patient that Outpost stores as a version body.
type fhirPatient struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id"`
	Meta         *fhirMeta       `json:"meta,omitempty"`
	Extension    []fhirExtension `json:"extension,omitempty"`
	Identifier   []fhirIdent     `json:"identifier,omitempty"`
	Name         []fhirName      `json:"name,omitempty"`
	Telecom      []fhirTelecom   `json:"telecom,omitempty"`
	Gender       string          `json:"gender,omitempty"`
	BirthDate    string          `json:"birthDate,omitempty"`
	Deceased     *bool           `json:"deceasedBoolean,omitempty"`
	DeceasedAt   string          `json:"deceasedDateTime,omitempty"`
	Address      []fhirAddress   `json:"address,omitempty"`
	Contact      []fhirContact   `json:"contact,omitempty"`
}

type fhirMeta struct {
	Security []fhirCoding `json:"security,omitempty"`
}

type fhirCoding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

// SystemConfidentiality is HL7's confidentiality code system; code "R"
// (restricted) marks a chart that only its responsible clinician opens.
const SystemConfidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

type fhirExtension struct {
	URL          string `json:"url"`
	ValueBoolean bool   `json:"valueBoolean"`
}

type fhirIdent struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type fhirName struct {
	Use    string   `json:"use,omitempty"`
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
}

type fhirTelecom struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type fhirAddress struct {
	Text string `json:"text,omitempty"`
	City string `json:"city,omitempty"`
}

type fhirConcept struct {
	Text string `json:"text"`
}

type fhirContact struct {
	Relationship []fhirConcept `json:"relationship,omitempty"`
	Name         *fhirName     `json:"name,omitempty"`
	Telecom      []fhirTelecom `json:"telecom,omitempty"`
}

// PatientBody returns the canonical FHIR R4 Patient JSON for p.
func PatientBody(id string, p Patient) ([]byte, error) {
	r := fhirPatient{ResourceType: "Patient", ID: id, Gender: p.Sex, BirthDate: p.BirthDate}
	if p.Restricted {
		r.Meta = &fhirMeta{Security: []fhirCoding{{System: SystemConfidentiality, Code: "R"}}}
	}
	if p.BirthEstimated {
		r.Extension = []fhirExtension{{URL: ExtBirthEstimate, ValueBoolean: true}}
	}
	switch {
	case p.Deceased && p.DeceasedDate != "":
		r.DeceasedAt = p.DeceasedDate // a FHIR dateTime may be a date
	case p.Deceased:
		yes := true
		r.Deceased = &yes
	}
	if p.ClinicNo != "" {
		r.Identifier = append(r.Identifier, fhirIdent{System: SystemClinicNo, Value: p.ClinicNo})
	}
	if p.NationalID != "" {
		r.Identifier = append(r.Identifier, fhirIdent{System: SystemNationalID, Value: p.NationalID})
	}
	if p.Family != "" || p.Given != "" {
		r.Name = append(r.Name, fhirName{Use: "official", Family: p.Family, Given: strings.Fields(p.Given)})
	}
	if p.Other != "" {
		r.Name = append(r.Name, fhirName{Use: "nickname", Text: p.Other})
	}
	if p.Phone != "" {
		r.Telecom = []fhirTelecom{{System: "phone", Value: p.Phone}}
	}
	if p.Village != "" || p.Address != "" {
		r.Address = []fhirAddress{{Text: p.Address, City: p.Village}}
	}
	if p.KinName != "" || p.KinRelation != "" || p.KinPhone != "" {
		c := fhirContact{}
		if p.KinRelation != "" {
			c.Relationship = []fhirConcept{{Text: p.KinRelation}}
		}
		if p.KinName != "" {
			c.Name = &fhirName{Text: p.KinName}
		}
		if p.KinPhone != "" {
			c.Telecom = []fhirTelecom{{System: "phone", Value: p.KinPhone}}
		}
		r.Contact = []fhirContact{c}
	}
	return Canonical(r)
}

// ParsePatientBody reads a body written by PatientBody.
func ParsePatientBody(body []byte) (Patient, error) {
	var r fhirPatient
	if err := json.Unmarshal(body, &r); err != nil {
		return Patient{}, fmt.Errorf("parse patient body: %w", err)
	}
	if r.ResourceType != "Patient" {
		return Patient{}, fmt.Errorf("parse patient body: resourceType %q", r.ResourceType)
	}
	p := Patient{Sex: r.Gender, BirthDate: r.BirthDate, Deceased: r.DeceasedAt != "" || (r.Deceased != nil && *r.Deceased), DeceasedDate: r.DeceasedAt}
	if r.Meta != nil {
		for _, c := range r.Meta.Security {
			if c.System == SystemConfidentiality && c.Code == "R" {
				p.Restricted = true
			}
		}
	}
	for _, e := range r.Extension {
		if e.URL == ExtBirthEstimate {
			p.BirthEstimated = e.ValueBoolean
		}
	}
	for _, id := range r.Identifier {
		switch id.System {
		case SystemClinicNo:
			p.ClinicNo = id.Value
		case SystemNationalID:
			p.NationalID = id.Value
		}
	}
	for _, n := range r.Name {
		switch n.Use {
		case "official":
			p.Family = n.Family
			p.Given = strings.Join(n.Given, " ")
		case "nickname":
			p.Other = n.Text
		}
	}
	for _, t := range r.Telecom {
		if t.System == "phone" {
			p.Phone = t.Value
		}
	}
	if len(r.Address) > 0 {
		p.Address = r.Address[0].Text
		p.Village = r.Address[0].City
	}
	if len(r.Contact) > 0 {
		c := r.Contact[0]
		if len(c.Relationship) > 0 {
			p.KinRelation = c.Relationship[0].Text
		}
		if c.Name != nil {
			p.KinName = c.Name.Text
		}
		for _, t := range c.Telecom {
			if t.System == "phone" {
				p.KinPhone = t.Value
			}
		}
	}
	return p, nil
}
