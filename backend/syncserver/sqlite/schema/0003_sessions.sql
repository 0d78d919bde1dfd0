-- outpost-server schema 3: sign-in sessions across devices (S22, S34).
-- Users and sessions are opaque keys a laptop derives with the clinic
-- key (HMAC-SHA256): nothing here names a person. Times are Unix
-- milliseconds (UTC). Rows are forgotten once expired.
CREATE TABLE sessions (
	clinic     TEXT NOT NULL REFERENCES clinics(id),
	user_key   TEXT NOT NULL,
	session    TEXT NOT NULL,
	device     TEXT NOT NULL REFERENCES devices(id),
	started_at INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (clinic, user_key, session)
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions(expires_at);
