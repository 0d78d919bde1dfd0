-- outpost-server schema 2: audit chains shipped by devices (S31, S33) and
-- the server's alert list (S35). Times are Unix milliseconds (UTC).

-- One row per device that shipped its audit trail: where its chain
-- starts (after the anchor: 0 and 64 zeros for event 1) and ends.
CREATE TABLE audit_chains (
	device       TEXT PRIMARY KEY REFERENCES devices(id),
	clinic       TEXT NOT NULL REFERENCES clinics(id),
	audit_device TEXT NOT NULL,                  -- the id every checkpoint signs
	anchor_seq   INTEGER NOT NULL,
	anchor_hash  TEXT NOT NULL,
	head_seq     INTEGER NOT NULL,               -- the last stored event (anchor_seq when none)
	head_hash    TEXT NOT NULL,
	events       INTEGER NOT NULL DEFAULT 0,
	updated_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- The chain's start never changes.
CREATE TRIGGER audit_chains_start BEFORE UPDATE OF device, clinic, audit_device, anchor_seq, anchor_hash ON audit_chains
BEGIN SELECT RAISE(ABORT, 'an audit chain keeps its start'); END;
CREATE TRIGGER audit_chains_keep BEFORE DELETE ON audit_chains
BEGIN SELECT RAISE(ABORT, 'audit chains are kept'); END;

-- Events as shipped: the export line, byte for byte (it names patients
-- and records by id only), with its seq and hash read from it.
CREATE TABLE audit_events (
	device      TEXT NOT NULL REFERENCES audit_chains(device),
	seq         INTEGER NOT NULL,
	hash        TEXT NOT NULL,
	line        BLOB NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (device, seq)
);

CREATE TRIGGER audit_events_immutable_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END;
CREATE TRIGGER audit_events_immutable_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END;

-- The device's signed checkpoints (the anchor's included).
CREATE TABLE audit_checkpoints (
	device      TEXT NOT NULL REFERENCES audit_chains(device),
	seq         INTEGER NOT NULL,
	hash        TEXT NOT NULL,
	at          TEXT NOT NULL,                   -- RFC 3339, exactly as signed
	signature   BLOB NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (device, seq)
) WITHOUT ROWID;

CREATE TRIGGER audit_checkpoints_immutable_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are immutable'); END;
CREATE TRIGGER audit_checkpoints_immutable_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are immutable'); END;

-- The server's alert list: fixed text per kind, no patient data.
CREATE TABLE alerts (
	id              INTEGER PRIMARY KEY,
	kind            TEXT NOT NULL,
	source          TEXT NOT NULL CHECK (source IN ('server', 'device')),
	clinic          TEXT NOT NULL,
	device          TEXT NOT NULL,
	at              INTEGER NOT NULL,
	message         TEXT NOT NULL,
	acknowledged_at INTEGER                       -- NULL until acknowledged
);
CREATE UNIQUE INDEX alerts_once ON alerts(device, kind, source, at);
CREATE INDEX alerts_at ON alerts(at);
