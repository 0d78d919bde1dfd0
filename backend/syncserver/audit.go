package syncserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"

	"outpost/backend/auditchain"
	"outpost/backend/syncproto"
)

// Audit shipping (S31, S33; docs/sync-protocol.md, "Audit shipping"): a
// device ships its audit events and signed checkpoints; the server
// checks that they continue the chain it holds for the device, and that
// each checkpoint verifies under the device's key (the one its requests
// are signed with), stores them in one transaction, and answers with a
// receipt signed by its own key. A shipment that breaks the chain is
// refused, stores nothing, and raises an alert.

// initAudit sets up the receipt key and the alert list.
func (s *Server) initAudit(cfg Config) error {
	s.receiptKey = cfg.ReceiptKey
	if s.receiptKey == nil {
		_, key, err := ed25519.GenerateKey(s.rand)
		if err != nil {
			return fmt.Errorf("syncserver: receipt key: %w", err)
		}
		s.receiptKey = key
		s.log.Warn("no receipt key configured: audit receipts are signed with a key made for this run")
	}
	if len(s.receiptKey) != ed25519.PrivateKeySize {
		return errors.New("syncserver: the receipt key is not an Ed25519 private key")
	}
	s.alerts = &alerter{store: cfg.Store, notify: cfg.Alerted}
	return nil
}

// ReceiptPublicKey returns the public half of the key that signs audit
// receipts.
func (s *Server) ReceiptPublicKey() ed25519.PublicKey {
	return s.receiptKey.Public().(ed25519.PublicKey)
}

// auditRoutes are the routes of audit shipping. A shipment is bounded
// and held in a push slot like a push.
func (s *Server) auditRoutes() map[string]route {
	return map[string]route{
		syncproto.PathAudit:      {http.MethodPost, min(s.maxPush, syncproto.MaxAuditBody), (*Server).shipAudit},
		syncproto.PathAuditState: {http.MethodGet, 0, (*Server).auditState},
	}
}

// auditState: GET /v1/audit/state.
func (s *Server) auditState(w http.ResponseWriter, r *http.Request, d Device, _ []byte) {
	h, err := s.store.AuditHead(r.Context(), d.ID)
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	st := syncproto.AuditState{Device: d.ID, Anchor: h.AnchorSeq, ReceiptKey: s.ReceiptPublicKey()}
	if !h.Empty() {
		st.Seq, st.Hash = h.Seq, h.Hash
	}
	s.reply(w, r, st)
}

// shipAudit: POST /v1/audit.
func (s *Server) shipAudit(w http.ResponseWriter, r *http.Request, d Device, body []byte) {
	ctx := r.Context()
	var sh syncproto.AuditShipment
	if err := syncproto.DecodeBody(body, min(s.maxDecode, syncproto.MaxAuditDecoded), &sh); err != nil {
		s.failDecode(w, r, err)
		return
	}
	if err := sh.Validate(); err != nil {
		s.fail(w, r, syncproto.CodeBadRequest, err, "device", d.ID)
		return
	}
	now := s.now().UTC()
	for _, al := range sh.Alerts {
		if _, err := s.alerts.raise(ctx, Alert{Kind: al.Kind, Source: AlertFromDevice, Clinic: d.Clinic, Device: d.ID, At: al.At,
			Message: DeviceAlertMessage(al.Kind)}); err != nil {
			s.log.Error("alert", "device", d.ID, "cause", err.Error())
		}
	}
	head, err := s.store.AuditHead(ctx, d.ID)
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	app, receipt, dup, err := s.checkShipment(ctx, d, head, sh)
	if err == nil {
		app.At = now
		err = s.store.AppendAudit(ctx, app)
		if errors.Is(err, ErrAuditMismatch) {
			err = &auditchain.BreakError{Seq: head.Seq + 1, Reason: "a checkpoint or the audit device id differs from what the server holds"}
		}
	}
	var berr *auditchain.BreakError
	switch {
	case errors.As(err, &berr):
		s.refuseAudit(w, r, d, berr)
		return
	case errors.Is(err, ErrAuditMoved):
		s.fail(w, r, syncproto.CodeUnavailable, err, "device", d.ID)
		return
	case err != nil:
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	receipt.Clinic, receipt.Device, receipt.ReceivedAt = d.Clinic, d.ID, now
	receipt.Sign(s.receiptKey)
	s.log.Info("audit shipment stored", "device", d.ID, "clinic", d.Clinic, "stored", len(app.Events), "duplicate", dup, "seq", receipt.Seq)
	s.reply(w, r, syncproto.AuditResponse{Receipt: receipt, Stored: len(app.Events), Duplicate: dup})
}

// refuseAudit answers a shipment that breaks the chain, and raises an
// alert (once an hour for the same break). The reason names an event by
// its number only.
func (s *Server) refuseAudit(w http.ResponseWriter, r *http.Request, d Device, berr *auditchain.BreakError) {
	s.raiseQuietly(r.Context(), Alert{Kind: AlertAuditRefused, Source: AlertFromServer, Clinic: d.Clinic, Device: d.ID, At: s.now(),
		Message: fmt.Sprintf("A laptop's audit shipment was refused, nothing of it stored: %s. Examine the laptop.", berr.Error())})
	s.fail(w, r, syncproto.CodeAuditRefused, berr, "device", d.ID, "clinic", d.Clinic)
}

// checkShipment checks sh against the stored chain head: it returns what
// to store and the receipt's seq and hash, or a *auditchain.BreakError.
func (s *Server) checkShipment(ctx context.Context, d Device, head AuditHead, sh syncproto.AuditShipment) (AuditAppend, syncproto.Receipt, int, error) {
	app := AuditAppend{Device: d.ID, Clinic: d.Clinic, AuditDevice: sh.Device, After: head.Seq, AfterHash: head.Hash}
	start := AuditStart{Seq: head.AnchorSeq, Hash: head.AnchorHash}
	if head.Empty() {
		start = AuditStart{Seq: 0, Hash: auditchain.Genesis}
		if a := sh.Anchor; a != nil {
			cp := storedCheckpoint(a.Checkpoint)
			if a.Checkpoint.Seq != a.Seq || a.Checkpoint.Hash != a.Hash {
				return app, syncproto.Receipt{}, 0, &auditchain.BreakError{Seq: a.Seq + 1, Reason: fmt.Sprintf("it follows the purged event %d, but the checkpoint shipped with the anchor is not of that event", a.Seq)}
			}
			if berr := checkpointHolds(d.PublicKey, sh.Device, cp, a.Hash); berr != nil {
				berr.Seq = a.Seq + 1
				return app, syncproto.Receipt{}, 0, berr
			}
			start = AuditStart{Seq: a.Seq, Hash: a.Hash}
			app.Checkpoints = append(app.Checkpoints, cp)
		}
		app.Start = &start
		app.After, app.AfterHash = start.Seq, start.Hash
	} else if head.AuditDevice != sh.Device {
		return app, syncproto.Receipt{}, 0, &auditchain.BreakError{Seq: head.Seq + 1, Reason: "the shipment names another audit device than the chain the server holds"}
	}
	ch := auditchain.NewChain().After(app.After, app.AfterHash)
	known := map[int64]string{start.Seq: start.Hash} // hashes of events this check has seen
	var buf []byte
	var held []AuditEvent // stored events the shipment opens with (a retry after a lost answer)
	dup := 0
	for i, line := range sh.Events {
		r, nbuf, err := auditchain.ParseLine(line, buf)
		buf = nbuf
		if err != nil {
			return app, syncproto.Receipt{}, 0, &auditchain.BreakError{Seq: ch.Next, Reason: "the line is not an event in canonical JSON"}
		}
		if i == 0 && r.Seq > start.Seq && r.Seq <= app.After {
			if held, err = s.store.AuditEvents(ctx, d.ID, r.Seq-1, int(min(int64(len(sh.Events)), app.After-r.Seq+1))); err != nil {
				return app, syncproto.Receipt{}, 0, err
			}
		}
		if i == dup && r.Seq <= app.After {
			// Sent before: it must be the line the server holds, byte
			// for byte.
			if i >= len(held) || held[i].Seq != r.Seq || !bytes.Equal(held[i].Line, line) {
				return app, syncproto.Receipt{}, 0, &auditchain.BreakError{Seq: r.Seq, Reason: "it differs from the copy of this event the server holds"}
			}
			known[r.Seq] = held[i].Hash
			dup++
			continue
		}
		if _, berr := ch.Add(&r); berr != nil {
			return app, syncproto.Receipt{}, 0, berr
		}
		known[r.Seq] = r.Hash
		app.Events = append(app.Events, AuditEvent{Seq: r.Seq, Hash: r.Hash, Line: line})
	}
	receipt := syncproto.Receipt{Seq: ch.Next - 1, Hash: ch.Prev}
	if sh.Checkpoint != nil {
		cp := storedCheckpoint(*sh.Checkpoint)
		hash, ok := known[cp.Seq]
		switch {
		case !ok && cp.Seq > start.Seq && cp.Seq <= app.After:
			stored, err := s.store.AuditEvents(ctx, d.ID, cp.Seq-1, 1)
			if err != nil {
				return app, syncproto.Receipt{}, 0, err
			}
			if len(stored) == 1 && stored[0].Seq == cp.Seq {
				hash, ok = stored[0].Hash, true
			}
		case !ok && cp.Seq > receipt.Seq:
			if !checkpointVerifies(d.PublicKey, sh.Device, cp) {
				return app, syncproto.Receipt{}, 0, &auditchain.BreakError{Seq: cp.Seq, Reason: "the checkpoint of this event has a signature that does not verify with the device key"}
			}
			return app, syncproto.Receipt{}, 0, &auditchain.BreakError{Seq: receipt.Seq + 1,
				Reason: fmt.Sprintf("missing: the chain ends at event %d, but the device signed a checkpoint of event %d", receipt.Seq, cp.Seq)}
		}
		if !ok {
			return app, syncproto.Receipt{}, 0, &auditchain.BreakError{Seq: cp.Seq, Reason: "a checkpoint of an event before the start of the server's copy"}
		}
		if berr := checkpointHolds(d.PublicKey, sh.Device, cp, hash); berr != nil {
			return app, syncproto.Receipt{}, 0, berr
		}
		app.Checkpoints = append(app.Checkpoints, cp)
		receipt.Seq, receipt.Hash = cp.Seq, cp.Hash
	}
	return app, receipt, dup, nil
}

func storedCheckpoint(c syncproto.AuditCheckpoint) AuditCheckpoint {
	return AuditCheckpoint{Seq: c.Seq, Hash: c.Hash, At: c.At, Signature: c.Signature}
}

func checkpointVerifies(pub ed25519.PublicKey, auditDevice string, cp AuditCheckpoint) bool {
	return auditchain.VerifyCheckpoint(pub, auditDevice, cp.Seq, cp.Hash, cp.At, cp.Signature)
}

// checkpointHolds checks a checkpoint's signature under the device key
// and its hash against the hash of its event.
func checkpointHolds(pub ed25519.PublicKey, auditDevice string, cp AuditCheckpoint, eventHash string) *auditchain.BreakError {
	if !checkpointVerifies(pub, auditDevice, cp) {
		return &auditchain.BreakError{Seq: cp.Seq, Reason: "the checkpoint of this event has a signature that does not verify with the device key"}
	}
	if cp.Hash != eventHash {
		return &auditchain.BreakError{Seq: cp.Seq, Reason: "it differs from the checkpoint the device signed at " + cp.At}
	}
	return nil
}
