-- Outpost vault schema 3: the chart. Every clinical record (encounter,
-- observation, condition, medication, allergy, immunization, note) is a
-- versioned record like the patient; these tables project the current
-- head of each for the chart and the vitals plot.

CREATE TABLE chart (
	record_id    TEXT PRIMARY KEY,
	patient_id   TEXT NOT NULL,
	kind         TEXT NOT NULL,
	version_id   TEXT NOT NULL,
	status       TEXT NOT NULL,              -- the kind's status: open, signed, active, resolved ...
	at           TEXT NOT NULL,              -- the clinically relevant time, RFC 3339 or a date
	encounter_id TEXT NOT NULL DEFAULT '',
	deleted      INTEGER NOT NULL DEFAULT 0,
	updated_hlc  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX chart_patient ON chart(patient_id, kind, at);

-- Vital signs as numbers, for plots over time.
CREATE TABLE vitals (
	record_id  TEXT PRIMARY KEY,
	patient_id TEXT NOT NULL,
	vital      TEXT NOT NULL,                -- ehr.Vitals key
	at         TEXT NOT NULL,
	value      REAL NOT NULL,
	unit       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX vitals_series ON vitals(patient_id, vital, at);
