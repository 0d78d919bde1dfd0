// Package auditchain is the audit trail's hash chain as a file or a
// server sees it (docs/audit-format.md): the canonical JSON of an event,
// its hash, the link from one event to the next, and the message a
// device's checkpoint signs. It depends on the standard library alone,
// so that both the laptop (backend/audit) and the clinic server
// (backend/syncserver, which must link nothing that opens a vault) use
// the one rule.
package auditchain

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// Record is an event as stored and exported: its time is the exact text
// that was hashed. Its canonical JSON is byte for byte what
// ehr.Canonical makes of the matching audit.Event (sorted keys, no HTML
// escaping, the optional members left out when empty); a test in
// backend/audit holds the two together. It is written by hand because
// verification must check hundreds of thousands of events a second.
type Record struct {
	Seq         int64
	At          string
	Username    string
	Roles       []string
	Action      string
	Outcome     string
	PatientID   string
	RecordID    string
	Device      string
	Workstation string
	Session     string
	Detail      string
	OSUser      string
	Addresses   []string
	Reason      string
	OnBehalfOf  string
	PrevHash    string
	Hash        string
}

// AppendJSON appends the canonical JSON of r with hash as its "hash"
// member: r.Hash for the exported line, "" for the text that is hashed.
// The members are in byte order of their names.
func (r *Record) AppendJSON(b []byte, hash string) []byte {
	b = append(b, `{"action":`...)
	b = AppendString(b, r.Action)
	if len(r.Addresses) > 0 {
		b = append(b, `,"addresses":`...)
		b = AppendStrings(b, r.Addresses)
	}
	b = append(b, `,"at":`...)
	b = AppendString(b, r.At)
	b = append(b, `,"detail":`...)
	b = AppendString(b, r.Detail)
	b = append(b, `,"device":`...)
	b = AppendString(b, r.Device)
	b = append(b, `,"hash":`...)
	b = AppendString(b, hash)
	if r.OnBehalfOf != "" {
		b = append(b, `,"onBehalfOf":`...)
		b = AppendString(b, r.OnBehalfOf)
	}
	if r.OSUser != "" {
		b = append(b, `,"osUser":`...)
		b = AppendString(b, r.OSUser)
	}
	b = append(b, `,"outcome":`...)
	b = AppendString(b, r.Outcome)
	b = append(b, `,"patientId":`...)
	b = AppendString(b, r.PatientID)
	b = append(b, `,"prevHash":`...)
	b = AppendString(b, r.PrevHash)
	if r.Reason != "" {
		b = append(b, `,"reason":`...)
		b = AppendString(b, r.Reason)
	}
	b = append(b, `,"recordId":`...)
	b = AppendString(b, r.RecordID)
	b = append(b, `,"roles":`...)
	b = AppendStrings(b, r.Roles)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, `,"session":`...)
	b = AppendString(b, r.Session)
	b = append(b, `,"username":`...)
	b = AppendString(b, r.Username)
	b = append(b, `,"workstation":`...)
	b = AppendString(b, r.Workstation)
	return append(b, '}')
}

// Sum returns SHA-256(prevHash ‖ canonical JSON with an empty hash),
// using buf as scratch space, and the grown buffer.
func (r *Record) Sum(buf []byte) ([32]byte, []byte) {
	buf = append(buf[:0], r.PrevHash...)
	buf = r.AppendJSON(buf, "")
	return sha256.Sum256(buf), buf
}

// ComputeHash returns r's hash as lower-case hex.
func (r *Record) ComputeHash() string {
	s, _ := r.Sum(make([]byte, 0, 512))
	return hex.EncodeToString(s[:])
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as encoding/json writes a string that has been
// through ehr.Canonical: invalid UTF-8 becomes U+FFFD, <, > and & stay
// as they are, U+2028 and U+2029 and control characters are escaped.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendStrings appends a list of strings; nil is null.
func AppendStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, ']')
}

// ErrSyntax: a line is not an event in canonical JSON.
var ErrSyntax = errors.New("not an event in canonical JSON")

// ParseRecord reads an event line. It accepts what AppendJSON writes and
// may accept more; the verifier therefore also checks that the line is
// exactly the re-encoding of what was read, which refuses unknown,
// repeated or missing members, white space and any other spelling.
func ParseRecord(line []byte) (Record, error) {
	var r Record
	p := lineParser{b: line}
	if !p.take('{') {
		return r, ErrSyntax
	}
	for {
		key, ok := p.key()
		if !ok || !p.take(':') {
			return r, ErrSyntax
		}
		switch key {
		case "action":
			r.Action, ok = p.str()
		case "addresses":
			r.Addresses, ok = p.strs()
		case "at":
			r.At, ok = p.str()
		case "detail":
			r.Detail, ok = p.str()
		case "device":
			r.Device, ok = p.str()
		case "hash":
			r.Hash, ok = p.str()
		case "onBehalfOf":
			r.OnBehalfOf, ok = p.str()
		case "osUser":
			r.OSUser, ok = p.str()
		case "outcome":
			r.Outcome, ok = p.str()
		case "patientId":
			r.PatientID, ok = p.str()
		case "prevHash":
			r.PrevHash, ok = p.str()
		case "reason":
			r.Reason, ok = p.str()
		case "recordId":
			r.RecordID, ok = p.str()
		case "roles":
			r.Roles, ok = p.strs()
		case "seq":
			r.Seq, ok = p.int()
		case "session":
			r.Session, ok = p.str()
		case "username":
			r.Username, ok = p.str()
		case "workstation":
			r.Workstation, ok = p.str()
		default:
			ok = false
		}
		if !ok {
			return r, ErrSyntax
		}
		if p.take(',') {
			continue
		}
		if p.take('}') && p.i == len(p.b) {
			return r, nil
		}
		return r, ErrSyntax
	}
}

type lineParser struct {
	b []byte
	i int
}

func (p *lineParser) take(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// key reads a member name, which never holds an escape.
func (p *lineParser) key() (string, bool) {
	if !p.take('"') {
		return "", false
	}
	j := p.i
	for j < len(p.b) && p.b[j] != '"' && p.b[j] != '\\' {
		j++
	}
	if j == len(p.b) || p.b[j] != '"' {
		return "", false
	}
	k := string(p.b[p.i:j])
	p.i = j + 1
	return k, true
}

func (p *lineParser) str() (string, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	start := p.i
	escaped := false
	j := p.i + 1
	for j < len(p.b) && p.b[j] != '"' {
		if p.b[j] == '\\' {
			escaped = true
			j++
		}
		j++
	}
	if j >= len(p.b) {
		return "", false
	}
	p.i = j + 1
	if !escaped {
		return string(p.b[start+1 : j]), true
	}
	var s string
	if err := json.Unmarshal(p.b[start:j+1], &s); err != nil {
		return "", false
	}
	return s, true
}

func (p *lineParser) strs() ([]string, bool) {
	if bytes.HasPrefix(p.b[p.i:], []byte("null")) {
		p.i += 4
		return nil, true
	}
	if !p.take('[') {
		return nil, false
	}
	list := []string{}
	if p.take(']') {
		return list, true
	}
	for {
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		list = append(list, s)
		if p.take(']') {
			return list, true
		}
		if !p.take(',') {
			return nil, false
		}
	}
}

func (p *lineParser) int() (int64, bool) {
	j := p.i
	if j < len(p.b) && p.b[j] == '-' {
		j++
	}
	for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
		j++
	}
	n, err := strconv.ParseInt(string(p.b[p.i:j]), 10, 64)
	if err != nil {
		return 0, false
	}
	p.i = j
	return n, true
}
