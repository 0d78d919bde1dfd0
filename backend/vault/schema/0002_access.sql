-- Outpost vault schema 2: identity and access. Sign-in lockouts, sessions,
-- temporary passwords, MFA, settings, dual-control requests, alerts and
-- emergency ("break-glass") access grants.

ALTER TABLE users ADD COLUMN password_temp INTEGER NOT NULL DEFAULT 0;    -- 1 temporary, 2 temporary and used
ALTER TABLE users ADD COLUMN password_expires TEXT NOT NULL DEFAULT '';   -- when a temporary password lapses
ALTER TABLE users ADD COLUMN last_login TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';    -- inactive, admin, deleted
ALTER TABLE users ADD COLUMN mfa_secret BLOB;                             -- TOTP secret once enrolled
ALTER TABLE users ADD COLUMN mfa_pending BLOB;                            -- secret being enrolled
ALTER TABLE users ADD COLUMN mfa_last_step INTEGER NOT NULL DEFAULT 0;    -- replay guard
ALTER TABLE users ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;            -- raised to end every session

CREATE TABLE recovery_codes (
	user_id TEXT NOT NULL,
	hash    TEXT NOT NULL,
	used_at TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (user_id, hash)
) WITHOUT ROWID;

-- Failed sign-ins per typed username, known or not, so that an unknown
-- name locks exactly like a real account.
CREATE TABLE lockouts (
	username     TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	locked_until TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE sessions (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL,
	workstation TEXT NOT NULL,
	started     TEXT NOT NULL,
	last_seen   TEXT NOT NULL,
	stage       TEXT NOT NULL,                -- '' signed in; mfa, password, enroll: a step is due
	locked      INTEGER NOT NULL DEFAULT 0,
	epoch       INTEGER NOT NULL,
	ended       TEXT NOT NULL DEFAULT '',
	end_reason  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id, ended);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- Dual control: a destructive action requested by one person and
-- approved by another.
CREATE TABLE approvals (
	id           TEXT PRIMARY KEY,
	kind         TEXT NOT NULL,               -- user.delete
	target_id    TEXT NOT NULL,
	requested_by TEXT NOT NULL,               -- user id
	reason       TEXT NOT NULL,
	at           TEXT NOT NULL,
	approved_by  TEXT NOT NULL DEFAULT '',
	approved_at  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE alerts (
	id              TEXT PRIMARY KEY,
	at              TEXT NOT NULL,
	kind            TEXT NOT NULL,
	message         TEXT NOT NULL,
	username        TEXT NOT NULL,
	patient_id      TEXT NOT NULL DEFAULT '',
	acknowledged_by TEXT NOT NULL DEFAULT '',
	acknowledged_at TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE breakglass (
	user_id    TEXT NOT NULL,
	patient_id TEXT NOT NULL,
	reason     TEXT NOT NULL,
	granted    TEXT NOT NULL,
	until      TEXT NOT NULL
);
CREATE INDEX breakglass_user ON breakglass(user_id, patient_id);

ALTER TABLE patients ADD COLUMN restricted_by TEXT NOT NULL DEFAULT '';    -- username; '' when not restricted

-- Search: name words carry the patient's sort key, so the first hits of a
-- prefix come from the index already in display order; the clock's
-- maximum is read from an index at start.
ALTER TABLE patient_words ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';
CREATE INDEX patient_words_sorted ON patient_words(word, sort_key, record_id, field);
CREATE INDEX versions_hlc ON versions(hlc);
