-- outpost-server schema 4: document contents (blobs). Each is named by
-- an opaque id a laptop derives with the clinic key, and sealed with
-- that key: nothing here names a file, its type or its checksum. Times
-- are Unix milliseconds (UTC).
CREATE TABLE blobs (
	clinic     TEXT NOT NULL REFERENCES clinics(id),
	blob_id    TEXT NOT NULL,
	size       INTEGER NOT NULL,
	ciphertext BLOB NOT NULL,
	device     TEXT NOT NULL REFERENCES devices(id),
	stored_at  INTEGER NOT NULL,
	UNIQUE (clinic, blob_id)
); -- a rowid table: rows of up to 20 MB belong in overflow pages, not in a WITHOUT ROWID b-tree
