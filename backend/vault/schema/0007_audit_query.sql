-- Outpost vault schema 7: indexes for the audit viewer (filter by user,
-- action or time; sort by user or action). Each index also holds seq (the
-- rowid), so "this user's events, newest first" is a range read of the
-- index. Events of a patient already have the partial index audit_patient.

CREATE INDEX audit_username ON audit(username);
CREATE INDEX audit_action ON audit(action);
CREATE INDEX audit_at ON audit(at);
