package report

import (
	"fmt"
	"strings"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
)

// Summary writes a patient's chart summary as a PDF for a referral: the
// clinic, the patient's identity, allergies first, then active problems,
// current medications, latest vital signs, immunizations and recent
// visits, with the time it was printed and by whom.
func Summary(clinic string, p ehr.Patient, s records.Summary, by string, now time.Time) []byte {
	d := newDoc()
	d.text("F2", 16, "Patient summary")
	d.text("F1", 10, fmt.Sprintf("%s - printed %s by %s", clinic, now.UTC().Format("2 Jan 2006 15:04 UTC"), by))
	d.rule()
	name := p.DisplayName()
	if p.Deceased {
		name += "   (deceased" + strings.TrimSuffix(" "+p.DeceasedDate, " ") + ")"
	}
	d.text("F2", 13, name)
	birth := p.BirthDate
	if p.BirthEstimated {
		birth = "about " + birth
	}
	d.text("F1", 10, fmt.Sprintf("Clinic no. %s   Sex: %s   Born: %s (%s)", p.ClinicNo, p.Sex, birth, p.Age(now)))
	if p.NationalID != "" || p.Phone != "" {
		d.text("F1", 10, strings.TrimSpace(fmt.Sprintf("National id: %s   Phone: %s", dash(p.NationalID), dash(p.Phone))))
	}
	if p.Village != "" || p.Address != "" {
		d.text("F1", 10, "Address: "+strings.TrimSpace(p.Village+" "+strings.ReplaceAll(p.Address, "\n", ", ")))
	}
	if p.KinName != "" {
		d.text("F1", 10, fmt.Sprintf("Next of kin: %s (%s) %s", p.KinName, dash(p.KinRelation), p.KinPhone))
	}
	d.rule()

	section(d, "Allergies", len(s.Allergies), "No known allergies recorded.", func() {
		for _, a := range s.Allergies {
			line := a.Value.Substance.Label()
			if a.Value.Reaction != "" {
				line += " - " + a.Value.Reaction
			}
			if a.Value.Severity != "" {
				line += " (" + a.Value.Severity + ")"
			}
			d.text("F1", 10, "- "+line)
		}
	})
	section(d, "Active problems", len(s.Problems), "None recorded.", func() {
		for _, c := range s.Problems {
			line := c.Value.Code.Label()
			if c.Value.Onset != "" {
				line += " (since " + c.Value.Onset + ")"
			}
			d.text("F1", 10, "- "+line)
		}
	})
	section(d, "Current medications", len(s.Medications), "None recorded.", func() {
		for _, m := range s.Medications {
			parts := []string{m.Value.Drug.Label(), m.Value.Dose, m.Value.Route, m.Value.Frequency, m.Value.Duration}
			d.text("F1", 10, "- "+strings.Join(nonEmpty(parts), ", "))
		}
	})
	section(d, "Latest vital signs", len(s.Vitals), "None recorded.", func() {
		for _, o := range s.Vitals {
			vt, _ := ehr.VitalByKey(o.Value.Vital)
			d.text("F1", 10, fmt.Sprintf("- %s: %g %s (%s)", vt.Name, o.Value.Value, vt.Symbol, shortTime(o.Value.Effective)))
		}
	})
	section(d, "Immunizations", len(s.Immunizations), "None recorded.", func() {
		for _, im := range s.Immunizations {
			d.text("F1", 10, fmt.Sprintf("- %s, %s", im.Value.Vaccine.Label(), im.Value.Date))
		}
	})
	section(d, "Recent visits", len(s.Visits), "None recorded.", func() {
		for _, v := range s.Visits {
			e := v.Value
			d.text("F2", 10, fmt.Sprintf("%s - %s", shortTime(e.Start), e.Status))
			for _, f := range [][2]string{{"Complaint", e.Complaint}, {"Assessment", e.Assessment}, {"Plan", e.Plan}} {
				if f[1] != "" {
					d.text("F1", 10, "   "+f[0]+": "+f[1])
				}
			}
		}
	})
	return d.bytes("Patient summary " + p.ClinicNo)
}

func section(d *doc, title string, n int, empty string, body func()) {
	d.gap(6)
	d.text("F2", 12, title)
	if n == 0 {
		d.text("F1", 10, empty)
		return
	}
	body()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func shortTime(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format("2 Jan 2006 15:04")
	}
	return s
}
