package audit

import "outpost/backend/auditchain"

// The canonical JSON of an event, its hash and the link between events
// live in backend/auditchain (standard library only), which the clinic
// server uses too: the rule is written once.

// record is an event as stored and exported (auditchain.Record).
type record = auditchain.Record

func toRecord(e *Event) record {
	return record{
		Seq: e.Seq, At: e.At.Format(timeFormat), Username: e.Username, Roles: e.Roles, Action: e.Action, Outcome: e.Outcome,
		PatientID: e.PatientID, RecordID: e.RecordID, Device: e.Device, Workstation: e.Workstation, Session: e.Session,
		Detail: e.Detail, OSUser: e.OSUser, Addresses: e.Addresses, Reason: e.Reason, OnBehalfOf: e.OnBehalfOf,
		PrevHash: e.PrevHash, Hash: e.Hash,
	}
}

func appendString(b []byte, s string) []byte { return auditchain.AppendString(b, s) }

func parseRecord(line []byte) (record, error) { return auditchain.ParseRecord(line) }
