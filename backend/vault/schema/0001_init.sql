-- Outpost vault schema 1: versioned records, their projections, audit,
-- outbox, users. Written for SQLite 3.33 (SQLCipher 4.4): no STRICT, no
-- RETURNING. Versions and audit events are append-only: triggers refuse
-- UPDATE and DELETE.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;

-- Every state of every record. Immutable.
CREATE TABLE versions (
	seq        INTEGER PRIMARY KEY,          -- local arrival order
	version_id TEXT NOT NULL UNIQUE,
	record_id  TEXT NOT NULL,
	kind       TEXT NOT NULL,
	parents    TEXT NOT NULL,                -- JSON array of version ids
	hlc        INTEGER NOT NULL,             -- hybrid logical clock
	author     TEXT NOT NULL,                -- username
	device     TEXT NOT NULL,                -- device id
	reason     TEXT NOT NULL,
	deleted    INTEGER NOT NULL DEFAULT 0,   -- tombstone
	body       BLOB NOT NULL                 -- canonical JSON
);
CREATE INDEX versions_record ON versions(record_id, hlc);

CREATE TRIGGER versions_immutable_update BEFORE UPDATE ON versions
BEGIN SELECT RAISE(ABORT, 'versions are immutable'); END;
CREATE TRIGGER versions_immutable_delete BEFORE DELETE ON versions
BEGIN SELECT RAISE(ABORT, 'versions are immutable'); END;

-- The versions no other version replaces: one per record, two or more
-- while a conflict is open.
CREATE TABLE heads (
	record_id  TEXT NOT NULL,
	version_id TEXT NOT NULL REFERENCES versions(version_id),
	PRIMARY KEY (record_id, version_id)
) WITHOUT ROWID;

-- Versions written here and not yet acknowledged by the clinic server.
CREATE TABLE outbox (
	version_id TEXT PRIMARY KEY REFERENCES versions(version_id),
	queued_hlc INTEGER NOT NULL
) WITHOUT ROWID;

-- Hash-chained audit log. Immutable.
CREATE TABLE audit (
	seq         INTEGER PRIMARY KEY,
	at          TEXT NOT NULL,               -- RFC 3339 UTC
	username    TEXT NOT NULL,
	roles       TEXT NOT NULL,
	action      TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	patient_id  TEXT NOT NULL,
	record_id   TEXT NOT NULL,
	device      TEXT NOT NULL,
	workstation TEXT NOT NULL,
	session     TEXT NOT NULL,
	detail      TEXT NOT NULL,
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_patient ON audit(patient_id) WHERE patient_id <> '';

CREATE TRIGGER audit_immutable_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END;
CREATE TRIGGER audit_immutable_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END;

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE,      -- stored lower case
	name          TEXT NOT NULL,
	roles         TEXT NOT NULL,             -- JSON array
	password_hash TEXT NOT NULL,             -- argon2id PHC string
	created_at    TEXT NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Every sign-in attempt, for "last login and failures since".
CREATE TABLE logins (
	seq         INTEGER PRIMARY KEY,
	user_id     TEXT NOT NULL,               -- '' for an unknown username
	at          TEXT NOT NULL,
	ok          INTEGER NOT NULL,
	workstation TEXT NOT NULL
);
CREATE INDEX logins_user ON logins(user_id, seq);

-- Patient projection: the current head of each patient record.
CREATE TABLE patients (
	record_id        TEXT PRIMARY KEY,
	version_id       TEXT NOT NULL,
	clinic_no        TEXT NOT NULL UNIQUE,
	family           TEXT NOT NULL,
	given            TEXT NOT NULL,
	other            TEXT NOT NULL,
	sort_key         TEXT NOT NULL,          -- folded "family given"
	sex              TEXT NOT NULL,
	birth_date       TEXT NOT NULL,
	birth_year       INTEGER NOT NULL,
	birth_estimated  INTEGER NOT NULL,
	national_id_norm TEXT NOT NULL,
	village          TEXT NOT NULL,
	deleted          INTEGER NOT NULL DEFAULT 0,
	updated_hlc      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX patients_national ON patients(national_id_norm) WHERE national_id_norm <> '';
CREATE INDEX patients_birth_year ON patients(birth_year, sort_key);

-- Folded name words, for prefix search (field: 0 family, 1 given, 2 other).
CREATE TABLE patient_words (
	word      TEXT NOT NULL,
	record_id TEXT NOT NULL,
	field     INTEGER NOT NULL,
	PRIMARY KEY (word, record_id, field)
) WITHOUT ROWID;
CREATE INDEX patient_words_record ON patient_words(record_id);

-- Double Metaphone keys of name words, for spelling-tolerant search.
CREATE TABLE patient_sounds (
	code      TEXT NOT NULL,
	record_id TEXT NOT NULL,
	field     INTEGER NOT NULL,
	PRIMARY KEY (code, record_id, field)
) WITHOUT ROWID;
CREATE INDEX patient_sounds_record ON patient_sounds(record_id);
