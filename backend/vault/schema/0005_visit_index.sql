-- Outpost vault schema 5: the records of one visit (its vital signs,
-- prescriptions and notes) are read through their encounter.
CREATE INDEX chart_encounter ON chart(encounter_id, kind, at) WHERE encounter_id <> '';
