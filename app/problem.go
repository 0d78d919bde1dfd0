package app

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"

	"outpost/backend/ehr"
)

// Problem is what the UI receives for a failed call: a code to branch on,
// a message that says what to do next, an incident id that matches the
// log line, and field messages for a form. It never holds a stack, SQL, a
// path or a key.
type Problem struct {
	Code     string            `json:"code"`
	Message  string            `json:"message"`
	Incident string            `json:"incident,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
}

func (p *Problem) Error() string { return p.Code + ": " + p.Message }

const incidentAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func newIncident() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "00000000"
	}
	var s strings.Builder
	for i, c := range b {
		if i == 4 {
			s.WriteByte('-')
		}
		s.WriteByte(incidentAlphabet[int(c)%len(incidentAlphabet)])
	}
	return s.String()
}

// problem turns any error into a Problem and logs it under its incident
// id. Validation and sign-in failures are expected and logged briefly;
// everything else is logged with its cause (which holds no patient data:
// the store's errors name tables and ids, never values).
func problem(log *slog.Logger, method string, err error) *Problem {
	if err == nil {
		return nil
	}
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	p = &Problem{Code: ehr.ErrorCode(err), Message: ehr.ErrorMessage(err), Fields: ehr.ErrorFields(err), Incident: newIncident()}
	switch p.Code {
	case ehr.EInvalid, ehr.EAuth, ehr.ESession, ehr.ENotFound, ehr.EConflict:
		log.Info("call refused", "method", method, "code", p.Code, "incident", p.Incident)
	default:
		log.Error("call failed", "method", method, "code", p.Code, "incident", p.Incident, "cause", err.Error())
	}
	return p
}

// FormatError is the Wails error formatter: the UI gets a Problem object.
func FormatError(err error) any {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return &Problem{Code: ehr.EInternal, Message: ehr.ErrorMessage(err), Incident: newIncident()}
}

// renameField moves a field message to the name the form uses.
func renameField(err error, from, to string) error {
	var e *ehr.Error
	if errors.As(err, &e) && e.Fields != nil {
		if msg, ok := e.Fields[from]; ok {
			f := map[string]string{}
			for k, v := range e.Fields {
				f[k] = v
			}
			delete(f, from)
			f[to] = msg
			return &ehr.Error{Code: e.Code, Message: e.Message, Fields: f, Err: e.Err}
		}
	}
	return err
}
