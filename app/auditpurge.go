package app

import (
	"crypto/rand"

	"outpost/backend/audit"
	"outpost/backend/ehr"
)

// Retention and purge of the audit trail (S32), for audit.manage
// (security officers and administrators): events older than the clinic's
// retention period (a setting, 7 to 75 years) that a copy off this laptop
// already holds may be purged, when one person asks and a different one
// approves. backend/audit computes what may go, at the request and again
// at the approval.

// AuditPurgeAsk asks for a purge.
type AuditPurgeAsk struct {
	Reason string `json:"reason"`
}

// AuditPurgeRange is a run of events at the front of the audit trail.
type AuditPurgeRange struct {
	Events  int64  `json:"events"`  // 0: none
	From    int64  `json:"from"`    // the first event's number
	Through int64  `json:"through"` // the last event's number
	Oldest  string `json:"oldest"`  // when the first was written
	Newest  string `json:"newest"`  // when the last was written
}

// AuditPurgeRequest is a purge waiting for a second person.
type AuditPurgeRequest struct {
	ID          string `json:"id"`
	RequestedBy string `json:"requestedBy"`
	Reason      string `json:"reason"`
	At          string `json:"at"`
	Mine        bool   `json:"mine"` // asked by the signed-in user, who may not approve it
	AuditPurgeRange
}

// AuditPurges is the retention screen: the period, what was purged, what
// may be purged now (or why nothing may), and the requests waiting.
type AuditPurges struct {
	RetentionYears int                 `json:"retentionYears"`
	Cutoff         string              `json:"cutoff"`        // events written before it are old enough
	PurgedThrough  int64               `json:"purgedThrough"` // 0: nothing purged yet
	PurgedAt       string              `json:"purgedAt"`
	Eligible       AuditPurgeRange     `json:"eligible"`
	NotEligible    string              `json:"notEligible"` // why nothing may be purged now
	Pending        []AuditPurgeRequest `json:"pending"`
}

// AuditPurgeResult is what an approved purge removed.
type AuditPurgeResult struct {
	AuditPurgeRange
	AnchorHash string `json:"anchorHash"` // the last purged event's hash: the chain continues from it
}

func purgeRange(r audit.PurgeRange) AuditPurgeRange {
	if r.Events() == 0 {
		return AuditPurgeRange{}
	}
	return AuditPurgeRange{Events: r.Events(), From: r.From, Through: r.Through, Oldest: rfc3339(r.Oldest), Newest: rfc3339(r.Newest)}
}

func (c call) purgeActor() audit.PurgeActor {
	return audit.PurgeActor{UserID: c.sess.User.ID, Username: c.sess.User.Username, Roles: c.sess.User.Roles, Session: c.sess.ID}
}

// ListAuditPurges returns the retention screen's state.
func (a *App) ListAuditPurges() (AuditPurges, error) {
	c, err := a.begin("ListAuditPurges")
	if err != nil {
		return AuditPurges{}, err
	}
	years, err := c.svc.Users.AuditRetentionYears(c.ctx)
	if err != nil {
		return AuditPurges{}, problem(a.cfg.Log, "ListAuditPurges", err)
	}
	st, err := audit.Purges(c.ctx, c.svc.Vault.R, a.cfg.Now(), years)
	if err != nil {
		return AuditPurges{}, problem(a.cfg.Log, "ListAuditPurges", err)
	}
	out := AuditPurges{RetentionYears: st.RetentionYears, Cutoff: rfc3339(st.Cutoff), PurgedThrough: st.Anchor.Seq,
		PurgedAt: rfc3339(st.PurgedAt), Eligible: purgeRange(st.Eligible), NotEligible: st.Why, Pending: []AuditPurgeRequest{}}
	for _, p := range st.Pending {
		out.Pending = append(out.Pending, AuditPurgeRequest{ID: p.ID, RequestedBy: p.RequestedBy, Reason: p.Reason, At: rfc3339(p.At),
			Mine: p.RequestedByID == c.sess.User.ID, AuditPurgeRange: purgeRange(p.PurgeRange)})
	}
	return out, nil
}

// RequestAuditPurge asks for the events old enough now (and copied off
// this laptop) to be purged, with a reason; it returns what would be
// purged. Nothing is deleted until someone else approves.
func (a *App) RequestAuditPurge(req AuditPurgeAsk) (AuditPurgeRequest, error) {
	c, err := a.begin("RequestAuditPurge")
	if err != nil {
		return AuditPurgeRequest{}, err
	}
	years, err := c.svc.Users.AuditRetentionYears(c.ctx)
	if err != nil {
		return AuditPurgeRequest{}, problem(a.cfg.Log, "RequestAuditPurge", err)
	}
	rnd := a.cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	id, err := (&ehr.IDs{Now: a.cfg.Now, Rand: rnd}).New()
	if err != nil {
		return AuditPurgeRequest{}, problem(a.cfg.Log, "RequestAuditPurge", err)
	}
	p, err := c.svc.Audit.RequestPurge(c.ctx, id, c.purgeActor(), req.Reason, years)
	if err != nil {
		return AuditPurgeRequest{}, problem(a.cfg.Log, "RequestAuditPurge", err)
	}
	return AuditPurgeRequest{ID: p.ID, RequestedBy: p.RequestedBy, Reason: p.Reason, At: rfc3339(p.At), Mine: true,
		AuditPurgeRange: purgeRange(p.PurgeRange)}, nil
}

// ApproveAuditPurge approves someone else's request: the events it names
// that are still old enough are deleted, and the chain continues from
// the last of them.
func (a *App) ApproveAuditPurge(requestID string) (AuditPurgeResult, error) {
	c, err := a.begin("ApproveAuditPurge")
	if err != nil {
		return AuditPurgeResult{}, err
	}
	years, err := c.svc.Users.AuditRetentionYears(c.ctx)
	if err != nil {
		return AuditPurgeResult{}, problem(a.cfg.Log, "ApproveAuditPurge", err)
	}
	res, err := c.svc.Audit.ApprovePurge(c.ctx, requestID, c.purgeActor(), years)
	if err != nil {
		return AuditPurgeResult{}, problem(a.cfg.Log, "ApproveAuditPurge", err)
	}
	return AuditPurgeResult{AuditPurgeRange: purgeRange(res.PurgeRange), AnchorHash: res.Anchor.Hash}, nil
}
