-- Outpost vault schema 9: sync state. Cursors (the clinic server's
-- sequence number this laptop has applied up to) advance in the same
-- transaction as the versions they cover.
CREATE TABLE sync_state (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
