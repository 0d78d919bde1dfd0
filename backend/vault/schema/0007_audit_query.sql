-- Outpost vault schema 7: the audit viewer's index. The viewer filters by
-- time, user, action, outcome and patient and sorts by any of them, but
-- the audit table gets no index for it: every index on audit is one more
-- page written and encrypted at every audited action (measured: three of
-- them more than doubled the time auditing a read takes), and auditing
-- must stay cheap. Instead the viewer keeps this copy of the columns it
-- filters and sorts by, with the indexes, and brings it up to date from
-- audit (by seq, in batches) each time it is used (audit.RefreshView).
-- It is derived: never evidence (the chain in audit is), and it may be
-- emptied and rebuilt at any time.

CREATE TABLE audit_view (
	seq         INTEGER PRIMARY KEY,         -- audit.seq
	at          TEXT NOT NULL,
	username    TEXT NOT NULL,
	action      TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	patient_id  TEXT NOT NULL,
	workstation TEXT NOT NULL
);
-- Each index also holds seq (the rowid): "this user's events, newest
-- first" and "sorted by user" are range reads of an index.
CREATE INDEX audit_view_at ON audit_view(at);
CREATE INDEX audit_view_username ON audit_view(username);
CREATE INDEX audit_view_action ON audit_view(action);
CREATE INDEX audit_view_outcome ON audit_view(outcome);
CREATE INDEX audit_view_patient ON audit_view(patient_id);
CREATE INDEX audit_view_workstation ON audit_view(workstation);
-- "What did this user do of this kind", the commonest pair of filters.
CREATE INDEX audit_view_username_action ON audit_view(username, action);
