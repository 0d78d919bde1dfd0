-- Outpost vault schema 8: purging old audit events (S32). Events older
-- than the retention period, and already copied off the device, may be
-- deleted from the front of the chain with dual control (audit.Log's
-- RequestPurge and ApprovePurge). The chain stays verifiable from an
-- anchor: the seq and hash of the last purged event, which a signed
-- checkpoint of that very event vouches for (checkpoints are kept, also
-- those of purged events).
--
-- The anchor is one row that only moves forward, and only to a stored
-- event under a signed checkpoint of it that a copy off the device
-- covers (an acknowledged checkpoint at or after it). Events may be
-- deleted only up to the anchor, so a purge sets the anchor first and
-- then deletes, in one transaction. Nothing else about the audit trail
-- changes: events are still never updated, and no event after the
-- anchor can be deleted.

CREATE TABLE audit_anchor (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	seq       INTEGER NOT NULL,              -- the last purged event; 0 while nothing is purged
	hash      TEXT NOT NULL,                 -- its hash; 64 zeros while nothing is purged
	purged_at TEXT NOT NULL DEFAULT ''       -- RFC 3339 UTC, the latest purge
);
INSERT INTO audit_anchor (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_anchor_one_row BEFORE INSERT ON audit_anchor
BEGIN SELECT RAISE(ABORT, 'the audit anchor is one row'); END;
CREATE TRIGGER audit_anchor_kept BEFORE DELETE ON audit_anchor
BEGIN SELECT RAISE(ABORT, 'the audit anchor cannot be removed'); END;
CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
WHEN NOT (NEW.id = 1 AND NEW.seq > OLD.seq
	AND EXISTS (SELECT 1 FROM audit WHERE seq = NEW.seq AND hash = NEW.hash)
	AND EXISTS (SELECT 1 FROM audit_checkpoints WHERE seq = NEW.seq AND hash = NEW.hash)
	AND EXISTS (SELECT 1 FROM audit_checkpoints WHERE seq >= NEW.seq AND acknowledged_at <> ''))
BEGIN SELECT RAISE(ABORT, 'the audit anchor moves only forward, to a stored event with a signed checkpoint copied off the device'); END;

-- Schema 6's trigger refused every delete; now only events up to the
-- anchor may go (the name stays, so the trigger is still recognised).
DROP TRIGGER audit_immutable_delete;
CREATE TRIGGER audit_immutable_delete BEFORE DELETE ON audit
WHEN OLD.seq > coalesce((SELECT seq FROM audit_anchor WHERE id = 1), 0)
BEGIN SELECT RAISE(ABORT, 'audit events are immutable: only events up to the purge anchor may be deleted'); END;
