package syncserver

import (
	"context"
	"fmt"

	"outpost/backend/auditchain"
)

// AuditReport is what VerifyAudit found of one device's stored chain.
type AuditReport struct {
	Head        AuditHead
	Events      int64 // events verified
	LastSeq     int64 // the last event verified (the anchor's seq when none)
	Checkpoints int   // checkpoints verified
	Latest      AuditCheckpoint
	// Break is the first event that does not verify; nil when the whole
	// chain holds.
	Break *auditchain.BreakError
}

// auditPage is how many stored events VerifyAudit reads at once.
const auditPage = 2000

// VerifyAudit re-checks a device's stored chain from the store alone
// (outpost-server audit verify): every line's canonical form, link and
// hash, that the stored seq and hash are the line's, the sequence from
// the chain's start without gaps up to the stored head, the anchor's
// checkpoint, and every checkpoint's signature under the device's key
// and its match with its event. A chain that does not verify is
// reported in Break, not as an error.
func VerifyAudit(ctx context.Context, st Store, device string) (AuditReport, error) {
	head, err := st.AuditHead(ctx, device)
	if err != nil {
		return AuditReport{}, err
	}
	rep := AuditReport{Head: head, LastSeq: head.AnchorSeq}
	if head.Empty() {
		return rep, nil
	}
	d, err := st.Device(ctx, device)
	if err != nil {
		return rep, fmt.Errorf("audit verify %s: %w", device, err)
	}
	cps, err := st.AuditCheckpoints(ctx, device)
	if err != nil {
		return rep, err
	}
	k := 0
	if head.AnchorSeq > 0 {
		// The chain starts after the anchor, which the device's signed
		// checkpoint of it vouches for.
		for k < len(cps) && cps[k].Seq < head.AnchorSeq {
			k++
		}
		if k == len(cps) || cps[k].Seq != head.AnchorSeq {
			rep.Break = &auditchain.BreakError{Seq: head.AnchorSeq + 1, Reason: fmt.Sprintf("it follows the purged event %d, but no signed checkpoint of that event vouches for its hash", head.AnchorSeq)}
			return rep, nil
		}
		if berr := checkpointHolds(d.PublicKey, head.AuditDevice, cps[k], head.AnchorHash); berr != nil {
			berr.Seq = head.AnchorSeq + 1
			rep.Break = berr
			return rep, nil
		}
		rep.Checkpoints, rep.Latest = 1, cps[k]
		k++
	}
	ch := auditchain.NewChain().After(head.AnchorSeq, head.AnchorHash)
	var buf []byte
	for after := head.AnchorSeq; ; {
		page, err := st.AuditEvents(ctx, device, after, auditPage)
		if err != nil {
			return rep, err
		}
		for _, e := range page {
			var r auditchain.Record
			r, buf, err = auditchain.ParseLine(e.Line, buf)
			if err != nil {
				rep.Break = &auditchain.BreakError{Seq: ch.Next, Reason: "the stored line is not an event in canonical JSON"}
				return rep, nil
			}
			if r.Seq != e.Seq || r.Hash != e.Hash {
				rep.Break = &auditchain.BreakError{Seq: e.Seq, Reason: "the stored seq or hash differs from its line"}
				return rep, nil
			}
			if _, berr := ch.Add(&r); berr != nil {
				rep.Break = berr
				return rep, nil
			}
			rep.Events++
			rep.LastSeq = r.Seq
			for ; k < len(cps) && cps[k].Seq <= r.Seq; k++ {
				if cps[k].Seq < r.Seq {
					rep.Break = &auditchain.BreakError{Seq: cps[k].Seq, Reason: "a checkpoint names no stored event"}
					return rep, nil
				}
				if berr := checkpointHolds(d.PublicKey, head.AuditDevice, cps[k], r.Hash); berr != nil {
					rep.Break = berr
					return rep, nil
				}
				rep.Checkpoints++
				rep.Latest = cps[k]
			}
		}
		if len(page) < auditPage {
			break
		}
		after = page[len(page)-1].Seq
	}
	switch {
	case k < len(cps):
		rep.Break = &auditchain.BreakError{Seq: rep.LastSeq + 1, Reason: fmt.Sprintf("missing: the chain ends at event %d, but the device signed a checkpoint of event %d", rep.LastSeq, cps[k].Seq)}
	case rep.LastSeq != head.Seq || ch.Prev != head.Hash:
		rep.Break = &auditchain.BreakError{Seq: rep.LastSeq + 1, Reason: fmt.Sprintf("missing: the chain ends at event %d, but the server recorded receiving up to event %d", rep.LastSeq, head.Seq)}
	case rep.Events != head.Events:
		rep.Break = &auditchain.BreakError{Seq: rep.LastSeq, Reason: fmt.Sprintf("the server recorded receiving %d events, but holds %d", head.Events, rep.Events)}
	}
	return rep, nil
}
