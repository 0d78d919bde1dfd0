-- Outpost vault schema 6: the tamper-evident audit trail. Events gain the
-- operating-system user, the network addresses, a break-glass reason and
-- on-behalf-of (all '' when not known, so an older event hashes as it
-- did); each device gets an Ed25519 key kept here, inside the encrypted
-- vault, and signs checkpoints of its chain with it. Key and checkpoints
-- are append-only like the events: a checkpoint changes only once, when
-- it is acknowledged off the device.
--
-- The audit table is rebuilt rather than given the four columns by ALTER
-- TABLE, to drop schema 1's UNIQUE on hash: nothing looks events up by
-- hash (the verifier catches a repeated event), and its index, keyed by
-- random hashes, made every append dirty one more page at a random place
-- (each page is encrypted and authenticated at commit) and grew without
-- ever being read. Old rows are copied as they are; the new columns are ''.

CREATE TABLE audit_new (
	seq          INTEGER PRIMARY KEY,
	at           TEXT NOT NULL,              -- RFC 3339 UTC
	username     TEXT NOT NULL,
	roles        TEXT NOT NULL,
	action       TEXT NOT NULL,
	outcome      TEXT NOT NULL,
	patient_id   TEXT NOT NULL,
	record_id    TEXT NOT NULL,
	device       TEXT NOT NULL,
	workstation  TEXT NOT NULL,
	session      TEXT NOT NULL,
	detail       TEXT NOT NULL,
	prev_hash    TEXT NOT NULL,
	hash         TEXT NOT NULL,
	os_user      TEXT NOT NULL DEFAULT '',
	addresses    TEXT NOT NULL DEFAULT '',   -- IP addresses, space-separated; '' offline
	reason       TEXT NOT NULL DEFAULT '',   -- break-glass reason as typed
	on_behalf_of TEXT NOT NULL DEFAULT ''    -- a substitute decision-maker, e.g. "guardian: NAME"
);
INSERT INTO audit_new (seq, at, username, roles, action, outcome, patient_id, record_id, device, workstation, session, detail, prev_hash, hash)
	SELECT seq, at, username, roles, action, outcome, patient_id, record_id, device, workstation, session, detail, prev_hash, hash FROM audit;
DROP TABLE audit;                                     -- with its index and triggers
ALTER TABLE audit_new RENAME TO audit;
CREATE INDEX audit_patient ON audit(patient_id) WHERE patient_id <> '';

CREATE TRIGGER audit_immutable_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END;
CREATE TRIGGER audit_immutable_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END;

-- The device's signing key: one row. The private key (its 32-byte
-- Ed25519 seed) is read only to sign and never leaves the vault.
CREATE TABLE audit_key (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	device      TEXT NOT NULL,               -- the device id the checkpoints name
	public_key  BLOB NOT NULL,               -- 32 bytes
	private_key BLOB NOT NULL,               -- 32-byte seed
	created_at  TEXT NOT NULL
);

CREATE TRIGGER audit_key_immutable_update BEFORE UPDATE ON audit_key
BEGIN SELECT RAISE(ABORT, 'the audit key is immutable'); END;
CREATE TRIGGER audit_key_immutable_delete BEFORE DELETE ON audit_key
BEGIN SELECT RAISE(ABORT, 'the audit key is immutable'); END;

-- Signed checkpoints: "event seq of this device's chain has this hash",
-- signed at `at`. acknowledged_at is set once, when a copy is confirmed
-- off this device.
CREATE TABLE audit_checkpoints (
	seq             INTEGER PRIMARY KEY,
	hash            TEXT NOT NULL,
	at              TEXT NOT NULL,           -- RFC 3339 UTC, as signed
	signature       BLOB NOT NULL,           -- Ed25519, 64 bytes
	acknowledged_at TEXT NOT NULL DEFAULT ''
);

CREATE TRIGGER audit_checkpoints_of_events BEFORE INSERT ON audit_checkpoints
WHEN NOT EXISTS (SELECT 1 FROM audit WHERE seq = NEW.seq AND hash = NEW.hash)
BEGIN SELECT RAISE(ABORT, 'a checkpoint must name a stored event'); END;
CREATE TRIGGER audit_checkpoints_immutable_update BEFORE UPDATE ON audit_checkpoints
WHEN NOT (OLD.acknowledged_at = '' AND NEW.acknowledged_at <> ''
	AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash AND NEW.at = OLD.at AND NEW.signature = OLD.signature)
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are immutable'); END;
CREATE TRIGGER audit_checkpoints_immutable_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are immutable'); END;
