-- outpost-server schema 1. The server holds no key that opens a record:
-- per version only clinic, record id, version id, parents, sequence
-- number, device, size and ciphertext. Times are Unix milliseconds (UTC).

CREATE TABLE clinics (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	head       INTEGER NOT NULL DEFAULT 0       -- newest sequence number
) WITHOUT ROWID;

-- Enrollment tokens: only the SHA-256 of each, spent once.
CREATE TABLE enroll_tokens (
	hash       BLOB PRIMARY KEY,
	clinic     TEXT NOT NULL REFERENCES clinics(id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	spent_at   INTEGER,                          -- NULL until spent
	device     TEXT                              -- the device it enrolled
) WITHOUT ROWID;

CREATE TABLE devices (
	id          TEXT PRIMARY KEY,                -- syncproto.DeviceID(public_key)
	clinic      TEXT NOT NULL REFERENCES clinics(id),
	name        TEXT NOT NULL,
	public_key  BLOB NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
	enrolled_at INTEGER NOT NULL,
	revoked_at  INTEGER,
	last_seen   INTEGER
) WITHOUT ROWID;

-- A revoked device is never active again.
CREATE TRIGGER devices_stay_revoked BEFORE UPDATE OF status ON devices
WHEN OLD.status = 'revoked' AND NEW.status <> 'revoked'
BEGIN SELECT RAISE(ABORT, 'a revoked device stays revoked'); END;

CREATE TABLE versions (
	clinic     TEXT NOT NULL REFERENCES clinics(id),
	seq        INTEGER NOT NULL,
	version_id TEXT NOT NULL,
	record_id  TEXT NOT NULL,
	parents    TEXT NOT NULL,                    -- JSON array of version ids
	device     TEXT NOT NULL,
	size       INTEGER NOT NULL,
	ciphertext BLOB NOT NULL,
	PRIMARY KEY (clinic, seq)
);
CREATE UNIQUE INDEX versions_id ON versions(clinic, version_id);

CREATE TRIGGER versions_immutable_update BEFORE UPDATE ON versions
BEGIN SELECT RAISE(ABORT, 'versions are immutable'); END;
CREATE TRIGGER versions_immutable_delete BEFORE DELETE ON versions
BEGIN SELECT RAISE(ABORT, 'versions are immutable'); END;
