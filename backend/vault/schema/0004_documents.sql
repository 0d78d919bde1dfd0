-- Outpost vault schema 4: document bytes, inside the encrypted vault,
-- addressed by their SHA-256 (never by a file name or path).
CREATE TABLE blobs (
	sha256 TEXT PRIMARY KEY,
	size   INTEGER NOT NULL,
	data   BLOB NOT NULL
) WITHOUT ROWID;
