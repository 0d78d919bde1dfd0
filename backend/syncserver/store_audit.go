package syncserver

// AuditStore keeps the audit chains devices ship (S31, S33).
type AuditStore interface{}
