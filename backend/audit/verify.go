package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"outpost/backend/auditchain"
)

// Report says what a verification found.
type Report struct {
	Device      string
	PublicKey   ed25519.PublicKey // nil for a vault without a key yet
	Events      int64             // the last event verified: events Anchor.Seq+1 to Events
	Checkpoints int               // signed checkpoints verified
	Latest      Checkpoint        // the latest checkpoint; zero when there is none
	// Anchor is the last purged event (its seq and hash, vouched for by
	// the device's signed checkpoint of it): the chain starts after it.
	// Zero when nothing was purged.
	Anchor Anchor
}

// Count returns how many events were verified.
func (r Report) Count() int64 { return r.Events - r.Anchor.Seq }

// Uncovered returns how many events follow the latest checkpoint: a cut
// among those could not be noticed.
func (r Report) Uncovered() int64 { return r.Events - r.Latest.Seq }

// BreakError names the first event where the chain does not verify.
type BreakError = auditchain.BreakError

// FormatError is a file that is not an audit export: its header or a
// line that is neither an event nor a checkpoint.
type FormatError struct {
	Line   int
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("not a valid audit export: line %d: %s", e.Line, e.Reason)
}

// chain checks events in order (auditchain.Chain).
type chain = auditchain.Chain

func newChain() *chain { return auditchain.NewChain() }

// checkCheckpoint checks a checkpoint against the key and the hash of its
// event; after is the seq of the previous checkpoint.
func checkCheckpoint(cp Checkpoint, pub ed25519.PublicKey, eventHash string, after int64) *BreakError {
	if !cp.Verify(pub) {
		return &BreakError{Seq: cp.Seq, Reason: "the checkpoint of this event has a signature that does not verify with the device key"}
	}
	if cp.Hash != eventHash {
		which := "this event was changed"
		if after+1 < cp.Seq {
			which = fmt.Sprintf("an event from %d to %d was changed", after+1, cp.Seq)
		}
		return &BreakError{Seq: cp.Seq, Reason: fmt.Sprintf("differs from the checkpoint the device signed at %s: %s",
			cp.At.Format(time.RFC3339), which)}
	}
	return nil
}

// checkAnchor checks the checkpoints of the anchor and of the purged
// events before it: each signature, and that the checkpoint of the
// anchor's event holds its hash. cps are the checkpoints up to the
// anchor, oldest first.
func checkAnchor(a Anchor, cps []Checkpoint, pub ed25519.PublicKey) *BreakError {
	for _, cp := range cps {
		if !cp.Verify(pub) {
			return &BreakError{Seq: a.Seq + 1, Reason: fmt.Sprintf("the checkpoint of purged event %d has a signature that does not verify with the device key", cp.Seq)}
		}
	}
	if len(cps) == 0 || cps[len(cps)-1].Seq != a.Seq {
		return &BreakError{Seq: a.Seq + 1, Reason: fmt.Sprintf("it follows the purged event %d, but no signed checkpoint of that event vouches for its hash", a.Seq)}
	}
	if cps[len(cps)-1].Hash != a.Hash {
		return &BreakError{Seq: a.Seq + 1, Reason: fmt.Sprintf("it follows the purged event %d, whose recorded hash differs from the checkpoint the device signed of it", a.Seq)}
	}
	return nil
}

func truncated(last int64, cp Checkpoint) *BreakError {
	return &BreakError{Seq: last + 1, Reason: fmt.Sprintf("missing: the chain ends at event %d, but the device signed a checkpoint of event %d at %s",
		last, cp.Seq, cp.At.Format(time.RFC3339))}
}

// Verify is VerifyVault returning the number of events verified.
func Verify(ctx context.Context, db *sql.DB) (int64, error) {
	rep, err := VerifyVault(ctx, db)
	return rep.Events, err
}

// VerifyVault walks the whole chain in the vault db and checks every
// event's link and hash, the sequence from 1 (or, after a purge, from
// the event after the anchor, whose checkpoint must hold the anchor's
// hash), every checkpoint's signature and event, and that no checkpoint
// is of an event beyond the end. It returns a *BreakError for the first
// event that does not verify. A long chain is read in up to four ranges of seq at once (the
// reads decrypt every page, which one core does at about 300,000 events
// a second); the result is the same as reading it in one pass.
func VerifyVault(ctx context.Context, db *sql.DB) (Report, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return Report{}, fmt.Errorf("audit verify: %w", err)
	}
	defer tx.Rollback()
	var rep Report
	rep.Device, rep.PublicKey, err = PublicKey(ctx, tx)
	if err != nil && !errors.Is(err, ErrNoKey) {
		return Report{}, err
	}
	cps, err := Checkpoints(ctx, tx)
	if err != nil {
		return Report{}, err
	}
	if len(cps) > 0 && rep.PublicKey == nil {
		return Report{}, &BreakError{Seq: cps[0].Seq, Reason: "the vault holds signed checkpoints but no device key"}
	}
	if rep.Anchor, err = readAnchor(ctx, tx); err != nil {
		return Report{}, err
	}
	anchor := rep.Anchor
	rep.Events = anchor.Seq
	below, _ := slices.BinarySearchFunc(cps, anchor.Seq+1, func(c Checkpoint, seq int64) int { return cmp.Compare(c.Seq, seq) })
	if anchor.Seq > 0 {
		if berr := checkAnchor(anchor, cps[:below], rep.PublicKey); berr != nil {
			return rep, berr
		}
		rep.Checkpoints = below
	}
	var head sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT max(seq) FROM audit").Scan(&head); err != nil {
		return Report{}, fmt.Errorf("audit verify: %w", err)
	}
	// Ranges (lo, hi] of seq, over the events after the anchor; the first
	// and last are open, so that no row escapes, whatever its seq. Events
	// up to head never change, so each range may be read in a
	// transaction of its own.
	span := max(head.Int64-anchor.Seq, 0)
	n := int(min(parallel.most, span/parallel.from+1))
	if parallel.perCPU {
		n = min(n, runtime.GOMAXPROCS(0))
	}
	parts := make([]part, n)
	for i := range parts {
		parts[i].lo, parts[i].hi = anchor.Seq+span*int64(i)/int64(n), anchor.Seq+span*int64(i+1)/int64(n)
	}
	parts[0].lo, parts[n-1].hi = math.MinInt64, math.MaxInt64
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() {
			var q querier = tx
			if i > 0 {
				ptx, err := db.BeginTx(ctx, nil)
				if err != nil {
					parts[i].err = fmt.Errorf("audit verify: %w", err)
					return
				}
				defer ptx.Rollback()
				q = ptx
			}
			parts[i].verify(ctx, q, cps[below:], rep.PublicKey, anchor.Seq)
		})
	}
	wg.Wait()
	// Join the ranges as one pass would have met them.
	start := newChain().After(anchor.Seq, anchor.Hash)
	next, prev := start.Next, start.Prev
	for i := range parts {
		p := &parts[i]
		rep.Events = next - 1
		if p.count > 0 {
			if p.first <= anchor.Seq {
				return rep, &BreakError{Seq: p.first, Reason: fmt.Sprintf("stored, although the events up to %d were purged", anchor.Seq)}
			}
			if p.first != next {
				return rep, &BreakError{Seq: next, Reason: fmt.Sprintf("missing or out of order (event %d comes next)", p.first)}
			}
			if p.firstPrev != prev {
				return rep, &BreakError{Seq: p.first, Reason: "does not follow the previous event (its previous hash differs)"}
			}
		}
		if p.err != nil {
			if p.added > 0 {
				rep.Events = p.added
			}
			return rep, p.err
		}
		if p.count > 0 {
			next, prev = p.last+1, p.lastHash
		}
		rep.Checkpoints += p.checkpoints
	}
	rep.Events = next - 1
	if rep.Checkpoints < len(cps) {
		for _, cp := range cps {
			if cp.Seq > rep.Events {
				return rep, truncated(rep.Events, cp)
			}
		}
		return rep, &BreakError{Seq: cps[0].Seq, Reason: "a checkpoint names no stored event"}
	}
	if len(cps) > 0 {
		rep.Latest = cps[len(cps)-1]
	}
	return rep, nil
}

// parallel: a chain of from events or more is verified in two ranges at
// once (or more: one per from events, at most most, and no more than
// the processors). Tests change it.
var parallel = struct {
	from, most int64
	perCPU     bool
}{from: 20_000, most: 4, perCPU: true}

// part is one range of a vault's chain: the link of its first event to
// the range before is checked when the ranges are joined.
type part struct {
	lo, hi      int64 // seq in (lo, hi]
	count       int64
	first       int64 // the first event's seq
	firstPrev   string
	last        int64
	lastHash    string
	added       int64 // the last event whose link and hash verified
	checkpoints int   // checkpoints verified
	err         error
}

// verify checks the events of the range and the checkpoints of its
// events; cps are the checkpoints after the anchor, whose seq is anchor.
func (p *part) verify(ctx context.Context, q querier, cps []Checkpoint, pub ed25519.PublicKey, anchor int64) {
	k, _ := slices.BinarySearchFunc(cps, p.lo, func(c Checkpoint, seq int64) int { return cmp.Compare(c.Seq, seq+1) })
	ch := newChain()
	p.err = scanEvents(ctx, q, p.lo, p.hi, func(r *record, bad string) error {
		if p.count == 0 {
			p.first, p.firstPrev = r.Seq, r.PrevHash
			ch.Next, ch.Prev = r.Seq, r.PrevHash // joined later
		}
		p.count++
		if bad != "" {
			return &BreakError{Seq: r.Seq, Reason: bad}
		}
		if _, berr := ch.Add(r); berr != nil {
			return berr
		}
		p.added = r.Seq
		for ; k < len(cps) && cps[k].Seq <= r.Seq; k++ {
			if cps[k].Seq < r.Seq {
				return &BreakError{Seq: cps[k].Seq, Reason: "a checkpoint names no stored event"}
			}
			after := anchor
			if k > 0 {
				after = cps[k-1].Seq
			}
			if berr := checkCheckpoint(cps[k], pub, r.Hash, after); berr != nil {
				return berr
			}
			p.checkpoints++
		}
		p.last, p.lastHash = r.Seq, r.Hash
		return nil
	})
}

// scanEvents calls fn with every stored event with a seq in (lo, hi], in
// order. bad says why a row could not be read whole (its roles are not a
// JSON list); the record then lacks them.
func scanEvents(ctx context.Context, q querier, lo, hi int64, fn func(r *record, bad string) error) error {
	rows, err := q.QueryContext(ctx, `SELECT seq, at, username, roles, action, outcome, patient_id, record_id,
		device, workstation, session, detail, os_user, addresses, reason, on_behalf_of, prev_hash, hash
		FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq`, lo, hi)
	if err != nil {
		return fmt.Errorf("audit read: %w", err)
	}
	defer rows.Close()
	roleLists := map[string][]string{} // few distinct role sets
	var r record
	for rows.Next() {
		var roles, addresses string
		if err := rows.Scan(&r.Seq, &r.At, &r.Username, &roles, &r.Action, &r.Outcome, &r.PatientID, &r.RecordID,
			&r.Device, &r.Workstation, &r.Session, &r.Detail, &r.OSUser, &addresses, &r.Reason, &r.OnBehalfOf,
			&r.PrevHash, &r.Hash); err != nil {
			return fmt.Errorf("audit read: %w", err)
		}
		bad := ""
		list, ok := roleLists[roles]
		if !ok {
			if err := json.Unmarshal([]byte(roles), &list); err != nil {
				list, bad = nil, "its roles are not readable"
			} else if len(roleLists) < 256 {
				roleLists[roles] = list
			}
		}
		r.Roles = list
		r.Addresses = nil
		if addresses != "" {
			r.Addresses = strings.Fields(addresses)
		}
		if err := fn(&r, bad); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit read: %w", err)
	}
	return nil
}

// MaxLine is the longest line an export may have.
const MaxLine = 1 << 20

// VerifyFile checks an exported chain (docs/audit-format.md) with no
// vault and no key: the header, every event's canonical form, link and
// hash, the sequence from 1 (format 2: from the event after the anchor,
// following its hash), every checkpoint's signature with the header's
// public key and its match with the event at its seq (format 2: the
// first checkpoint is of the anchor and holds its hash), and that no
// checkpoint is of an event beyond the end. A file must hold at least one
// checkpoint when it holds events. When pin is not nil, the header's key
// must be pin. It keeps 32 bytes per event in memory.
func VerifyFile(in io.Reader, pin ed25519.PublicKey) (Report, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<16), MaxLine)
	var rep Report
	n := 0
	next := func() bool {
		n++
		return sc.Scan()
	}
	if !next() {
		if err := sc.Err(); err != nil {
			return rep, fmt.Errorf("audit verify: %w", err)
		}
		return rep, &FormatError{Line: 1, Reason: "the file is empty"}
	}
	h, err := parseHeader(sc.Bytes())
	if err != nil {
		return rep, &FormatError{Line: 1, Reason: err.Error()}
	}
	rep.Device, rep.PublicKey = h.Device, h.key
	if pin != nil && !bytes.Equal(pin, h.key) {
		return rep, &FormatError{Line: 1, Reason: "the public key is not the one expected for this device"}
	}
	anchored := h.Format == FormatAnchored
	if anchored {
		if !next() {
			if err := sc.Err(); err != nil {
				return rep, fmt.Errorf("audit verify: %w", err)
			}
			return rep, &FormatError{Line: 2, Reason: "the file ends before its anchor"}
		}
		if rep.Anchor, err = parseAnchorLine(sc.Bytes()); err != nil {
			return rep, &FormatError{Line: 2, Reason: err.Error()}
		}
	}
	anchor := rep.Anchor
	ch := newChain().After(anchor.Seq, anchor.Hash)
	var sums [][32]byte // of events anchor.Seq+1 on
	var buf []byte
	eventsDone, anchorSigned := false, false
	fail := func(e *BreakError) (Report, error) {
		rep.Events = ch.Next - 1
		e.Line = n
		return rep, e
	}
	for next() {
		line := sc.Bytes()
		if !eventsDone && bytes.HasPrefix(line, []byte(`{"action":`)) {
			var r record
			r, buf, err = auditchain.ParseLine(line, buf)
			if err != nil {
				return fail(&BreakError{Seq: ch.Next, Reason: "the line is not an event in canonical JSON"})
			}
			sum, berr := ch.Add(&r)
			if berr != nil {
				return fail(berr)
			}
			sums = append(sums, sum)
			continue
		}
		eventsDone = true
		cp, err := parseCheckpointLine(line, h.Device)
		if err != nil {
			rep.Events = ch.Next - 1
			return rep, &FormatError{Line: n, Reason: err.Error()}
		}
		last := ch.Next - 1
		if anchored && !anchorSigned {
			// The first checkpoint is the device's of the anchor's event.
			switch {
			case cp.Seq < anchor.Seq:
				rep.Events = last
				return rep, &FormatError{Line: n, Reason: "a checkpoint of an event before the anchor"}
			case cp.Seq > anchor.Seq:
				return fail(&BreakError{Seq: anchor.Seq + 1, Reason: fmt.Sprintf("it follows the purged event %d, but no signed checkpoint of that event vouches for its hash", anchor.Seq)})
			case !cp.Verify(h.key):
				return fail(&BreakError{Seq: anchor.Seq + 1, Reason: fmt.Sprintf("it follows the purged event %d, whose checkpoint has a signature that does not verify with the device key", anchor.Seq)})
			case cp.Hash != anchor.Hash:
				return fail(&BreakError{Seq: anchor.Seq + 1, Reason: fmt.Sprintf("it follows the purged event %d, whose hash in the anchor differs from the checkpoint the device signed of it", anchor.Seq)})
			}
			anchorSigned = true
			rep.Latest = cp
			rep.Checkpoints++
			continue
		}
		if cp.Seq <= rep.Latest.Seq || cp.Seq < 1 {
			rep.Events = last
			return rep, &FormatError{Line: n, Reason: "checkpoints out of order"}
		}
		if cp.Seq > last {
			if !cp.Verify(h.key) {
				return fail(&BreakError{Seq: cp.Seq, Reason: "the checkpoint of this event has a signature that does not verify with the device key"})
			}
			return fail(truncated(last, cp))
		}
		if berr := checkCheckpoint(cp, h.key, hex.EncodeToString(sums[cp.Seq-anchor.Seq-1][:]), rep.Latest.Seq); berr != nil {
			return fail(berr)
		}
		rep.Latest = cp
		rep.Checkpoints++
	}
	rep.Events = ch.Next - 1
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return rep, &FormatError{Line: n, Reason: "line too long"}
		}
		return rep, fmt.Errorf("audit verify: %w", err)
	}
	if anchored && !anchorSigned {
		return rep, &BreakError{Seq: anchor.Seq + 1, Line: n, Reason: fmt.Sprintf("it follows the purged event %d, but no signed checkpoint of that event vouches for its hash", anchor.Seq)}
	}
	if rep.Events > 0 && rep.Checkpoints == 0 {
		return rep, &BreakError{Seq: rep.Events, Reason: "the file holds no signed checkpoint, so its completeness cannot be checked"}
	}
	return rep, nil
}

// header is the first line of an export.
type header struct {
	Format     string `json:"format"`
	Device     string `json:"device"`
	PublicKey  string `json:"publicKey"`
	ExportedAt string `json:"exportedAt"`
	key        ed25519.PublicKey
}

// The export formats: Format for a chain from event 1, FormatAnchored
// for a chain after a purge, which starts after its anchor line.
const (
	Format         = "outpost-audit/1"
	FormatAnchored = "outpost-audit/2"
)

func (h header) appendJSON(b []byte) []byte {
	b = append(b, `{"device":`...)
	b = appendString(b, h.Device)
	b = append(b, `,"exportedAt":`...)
	b = appendString(b, h.ExportedAt)
	b = append(b, `,"format":`...)
	b = appendString(b, h.Format)
	b = append(b, `,"publicKey":`...)
	b = appendString(b, h.PublicKey)
	return append(b, '}')
}

func parseHeader(line []byte) (header, error) {
	var h header
	if err := strictJSON(line, &h); err != nil || !bytes.Equal(h.appendJSON(nil), line) {
		return h, errors.New("not an audit export header in canonical JSON")
	}
	if h.Format != Format && h.Format != FormatAnchored {
		return h, fmt.Errorf("format %q, this verifier reads %q and %q", h.Format, Format, FormatAnchored)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(h.PublicKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return h, errors.New("the public key is not 32 bytes of base64")
	}
	if h.Device == "" || strings.ContainsAny(h.Device, "\n\r") {
		return h, errors.New("no device id")
	}
	if _, err := time.Parse(timeFormat, h.ExportedAt); err != nil {
		return h, errors.New("exportedAt is not an RFC 3339 time")
	}
	h.key = key
	return h, nil
}

// anchorLine is the second line of a file of FormatAnchored: the last
// purged event.
type anchorLine struct {
	Type string `json:"type"`
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

func (a anchorLine) appendJSON(b []byte) []byte {
	b = append(b, `{"hash":`...)
	b = appendString(b, a.Hash)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, a.Seq, 10)
	b = append(b, `,"type":`...)
	b = appendString(b, a.Type)
	return append(b, '}')
}

func parseAnchorLine(line []byte) (Anchor, error) {
	var a anchorLine
	if err := strictJSON(line, &a); err != nil || a.Type != "anchor" || !bytes.Equal(a.appendJSON(nil), line) {
		return Anchor{}, errors.New("a file of format " + FormatAnchored + " has its anchor in canonical JSON on line 2")
	}
	if a.Seq < 1 || !isHash(a.Hash) {
		return Anchor{}, errors.New("the anchor needs a seq of 1 or more and a hash of 64 lower-case hex digits")
	}
	return Anchor{Seq: a.Seq, Hash: a.Hash}, nil
}

// isHash reports whether s is 64 lower-case hex digits.
func isHash(s string) bool { return auditchain.IsHash(s) }

// checkpointLine is a checkpoint as exported.
type checkpointLine struct {
	Type      string `json:"type"`
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
	At        string `json:"at"`
	Signature string `json:"signature"`
}

func (c checkpointLine) appendJSON(b []byte) []byte {
	b = append(b, `{"at":`...)
	b = appendString(b, c.At)
	b = append(b, `,"hash":`...)
	b = appendString(b, c.Hash)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, c.Seq, 10)
	b = append(b, `,"signature":`...)
	b = appendString(b, c.Signature)
	b = append(b, `,"type":`...)
	b = appendString(b, c.Type)
	return append(b, '}')
}

func exportCheckpoint(cp Checkpoint) checkpointLine {
	return checkpointLine{Type: "checkpoint", Seq: cp.Seq, Hash: cp.Hash, At: cp.At.UTC().Format(timeFormat),
		Signature: base64.StdEncoding.EncodeToString(cp.Signature)}
}

func parseCheckpointLine(line []byte, device string) (Checkpoint, error) {
	var c checkpointLine
	if err := strictJSON(line, &c); err != nil || c.Type != "checkpoint" || !bytes.Equal(c.appendJSON(nil), line) {
		return Checkpoint{}, errors.New("neither an event nor a checkpoint in canonical JSON (or an event after the checkpoints)")
	}
	at, err := time.Parse(timeFormat, c.At)
	if err != nil || at.UTC().Format(timeFormat) != c.At {
		return Checkpoint{}, errors.New("a checkpoint's time is not RFC 3339 UTC")
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(c.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Checkpoint{}, errors.New("a checkpoint's signature is not 64 bytes of base64")
	}
	return Checkpoint{Device: device, Seq: c.Seq, Hash: c.Hash, At: at, Signature: sig}, nil
}

// strictJSON decodes one object with no unknown members.
func strictJSON(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
