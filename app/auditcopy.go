package app

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// The audit trail off this laptop (S31, S33): its state, sealed copies
// for removable media, and confirming a copy read back from the media.

// AuditShipping is the off-device state of this laptop's audit trail.
type AuditShipping struct {
	AcknowledgedSeq int64  `json:"acknowledgedSeq"` // 0: never copied off
	AcknowledgedAt  string `json:"acknowledgedAt"`  // when that copy was confirmed
	CheckpointAt    string `json:"checkpointAt"`    // when the acknowledged checkpoint was signed
	LatestSeq       int64  `json:"latestSeq"`       // the newest signed checkpoint
	Days            int    `json:"days"`            // since the acknowledged checkpoint (else the first event)
	Overdue         bool   `json:"overdue"`         // more than 7 days
}

// SealRequest asks for a sealed copy under a passphrase.
type SealRequest struct {
	Passphrase string `json:"passphrase"`
}

// CopyConfirmation is a sealed copy read back from removable media.
type CopyConfirmation struct {
	Data       string `json:"data"` // base64
	Passphrase string `json:"passphrase"`
}

// maxSealedCopy bounds a sealed copy read back (about 2 million events).
const maxSealedCopy = 1 << 30

// GetAuditShipping reports the off-device state, raising the alarm when
// the trail has not left the laptop for more than 7 days.
func (a *App) GetAuditShipping() (AuditShipping, error) {
	c, err := a.begin("GetAuditShipping")
	if err != nil {
		return AuditShipping{}, err
	}
	now := a.cfg.Now()
	s, err := audit.CheckShipping(c.ctx, c.svc.Vault.W, c.svc.Alerts, now)
	if err != nil {
		return AuditShipping{}, problem(a.cfg.Log, "GetAuditShipping", err)
	}
	out := AuditShipping{AcknowledgedSeq: s.Acknowledged.Seq, LatestSeq: s.Latest.Seq, Overdue: s.Overdue}
	if s.Acknowledged.Seq > 0 {
		out.AcknowledgedAt, out.CheckpointAt = rfc3339(s.Acknowledged.AcknowledgedAt), rfc3339(s.Acknowledged.At)
	}
	if !s.Since.IsZero() {
		out.Days = int(now.Sub(s.Since) / (24 * time.Hour))
	}
	return out, nil
}

// SaveSealedAuditCopy signs a checkpoint of the newest event, exports the
// whole chain, seals it under the passphrase and saves it where the user
// chooses (removable media). It counts as off the device only once it is
// read back and confirmed (ConfirmAuditCopy).
func (a *App) SaveSealedAuditCopy(req SealRequest) (SavedFile, error) {
	c, err := a.begin("SaveSealedAuditCopy")
	if err != nil {
		return SavedFile{}, err
	}
	if _, err := c.svc.Audit.Checkpoint(c.ctx); err != nil {
		return SavedFile{}, problem(a.cfg.Log, "SaveSealedAuditCopy", err)
	}
	var plain, sealed bytes.Buffer
	_, err = audit.Export(c.ctx, c.svc.Vault.R, a.cfg.Now(), &plain)
	if err != nil {
		return SavedFile{}, problem(a.cfg.Log, "SaveSealedAuditCopy", err)
	}
	rnd := a.cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	if err := audit.Seal(plain.Bytes(), req.Passphrase, a.sealParams(), rnd, &sealed); err != nil {
		return SavedFile{}, problem(a.cfg.Log, "SaveSealedAuditCopy", err)
	}
	name := fmt.Sprintf("outpost-audit-%s.sealed", a.cfg.Now().Format("2006-01-02"))
	return a.save(c, "SaveSealedAuditCopy", "", "", name, sealed.Bytes())
}

// ConfirmAuditCopy reads a sealed copy back (from the removable media it
// was saved to), checks it is this laptop's chain and marks its newest
// checkpoint acknowledged off the device.
func (a *App) ConfirmAuditCopy(req CopyConfirmation) (AuditShipping, error) {
	c, err := a.begin("ConfirmAuditCopy")
	if err != nil {
		return AuditShipping{}, err
	}
	data, err := decodeBase64Field("file", req.Data, maxSealedCopy)
	if err != nil {
		return AuditShipping{}, problem(a.cfg.Log, "ConfirmAuditCopy", err)
	}
	plain, err := audit.Unseal(bytes.NewReader(data), req.Passphrase, maxSealedCopy)
	if err != nil {
		return AuditShipping{}, problem(a.cfg.Log, "ConfirmAuditCopy", &ehr.Error{Code: ehr.EInvalid, Message: "Some fields need attention.",
			Fields: map[string]string{"passphrase": "This is not a sealed audit copy, or the passphrase is wrong."}})
	}
	cp, err := audit.AcknowledgeCopy(c.ctx, c.svc.Vault.W, plain, a.cfg.Now())
	if err != nil {
		return AuditShipping{}, problem(a.cfg.Log, "ConfirmAuditCopy", err)
	}
	if err := c.svc.Audit.Record(c.ctx, c.svc.Vault.W, audit.Event{Username: c.actor.Username, Roles: c.actor.Roles, Session: c.actor.Session,
		Action: "audit.acknowledge", Outcome: audit.Success, Detail: fmt.Sprintf("sealed copy confirmed through event %d", cp.Seq)}); err != nil {
		return AuditShipping{}, problem(a.cfg.Log, "ConfirmAuditCopy", err)
	}
	return a.GetAuditShipping()
}

// sealParams follows the passphrase key file's costs (lowered by tests).
func (a *App) sealParams() audit.SealParams {
	if p := a.cfg.Argon2; p.MemoryKiB > 0 {
		return audit.SealParams{Memory: p.MemoryKiB, Time: p.Time, Threads: p.Threads}
	}
	return audit.DefaultSeal
}
