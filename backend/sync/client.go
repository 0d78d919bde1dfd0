// Package sync is the laptop's side of sync: it pushes the outbox to the
// clinic server and pulls what other laptops wrote, sealing and opening
// every version with the clinic key (the server holds ciphertext only).
// Each pulled page is applied together with the cursor it advances, so a
// sync interrupted anywhere resumes where it stopped; versions are
// idempotent by id, so nothing is stored twice.
package sync

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/seal"
	"outpost/backend/syncproto"
)

// CursorKey is the name of the pull cursor in the vault's sync state.
const CursorKey = "server"

// Client syncs one laptop with its clinic server.
type Client struct {
	Base   string // https://host:port
	HTTP   *http.Client
	Signer *syncproto.Signer
	Key    seal.Key
	Store  *records.Store
	// Alert hears what a person must know: a version the server holds
	// that does not open with the clinic key (tampered ciphertext), a
	// version id the server holds with other contents.
	Alert func(kind, message string)
	// Progress, when set, hears after each pulled page how many versions
	// of this pull are applied and how many the server holds for it.
	Progress func(done, total int64)
	// Sleep, when set, stands in for waiting out a server's rate limit
	// between blob requests (blobs.go); a timer otherwise.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Pinned returns an HTTP client that trusts exactly the server
// certificate pinned at enrollment (its SHA-256 fingerprint).
func Pinned(fingerprint [32]byte, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: syncproto.PinnedTLS(fingerprint), ForceAttemptHTTP2: true}}
}

// Result is what one sync did.
type Result struct {
	Pushed    int
	Pulled    int // versions new to this laptop
	Conflicts int // records a pulled page left with two heads
	Cursor    int64
	// ServerRestored: the server held fewer versions than this laptop
	// had applied (restored from an older backup); this sync sent back
	// everything the laptop holds and pulled again from the start.
	ServerRestored bool
	// Document contents (blobs.go): sent to the server, fetched from
	// it, and still waiting for their writer to send them.
	BlobsSent, BlobsFetched, BlobsWaiting int
}

// Kinds of alert the client raises (Client.Alert).
const (
	// AlertTampered: a version the server holds does not open with the
	// clinic key.
	AlertTampered = "sync-tampered"
	// AlertMismatch: the server holds another version under an id this
	// laptop wrote.
	AlertMismatch = "sync-mismatch"
	// AlertServerRestored: the server holds fewer versions than this
	// laptop had applied; it was probably restored from an older backup.
	AlertServerRestored = "sync-server-restored"
)

// ErrTampered is returned (and alerted) when a pulled version does not
// open with the clinic key.
var ErrTampered = errors.New("sync: a version from the server does not open with the clinic key")

// errServerBehind: a pull found the server's head below the cursor; Sync
// recovers (Result.ServerRestored).
var errServerBehind = errors.New("sync: the server's head is below this laptop's cursor")

// ErrErase is returned when the server says this laptop was revoked and
// must erase its vault (vault.Erase): the caller closes the vault and
// erases it, and says so on the screen.
var ErrErase = errors.New("sync: this laptop was revoked by the clinic; its data must be erased")

// Sync pushes every queued version, then pulls every new one. A refusal
// because the laptop was revoked is checked with the server (a signed
// status request only this laptop's key can make) and comes back as
// ErrErase when the server says to erase.
//
// A server restored from an older backup holds fewer versions than this
// laptop already applied: its newest sequence number is below the
// laptop's cursor. Sync then alerts (AlertServerRestored), puts every
// version this laptop holds back into the outbox and its cursor back to
// 0 in one transaction (records.RequeueAll), pushes them all (the server
// keeps one copy of each: pushes are idempotent by id, so only what it
// lost is stored again) and pulls from the start (applying a version
// already held is a no-op). The result says so (ServerRestored); the
// recovery runs once per Sync, and a sync interrupted during it goes on
// where it stopped: the outbox and the cursor say what is left.
func (c *Client) Sync(ctx context.Context) (Result, error) {
	var res Result
	err := c.pushPull(ctx, &res)
	if errors.Is(err, errServerBehind) {
		res.ServerRestored = true
		c.alert(AlertServerRestored, "The clinic server is missing records this laptop already received from it: it was probably restored from an older backup. This laptop is sending back everything it holds, so nothing is lost; tell the administrator.")
		if _, err = c.Store.RequeueAll(ctx, CursorKey); err == nil {
			res.Cursor = 0
			err = c.pushPull(ctx, &res) // from cursor 0, never behind again
		}
	}
	var pe *syncproto.Error
	if errors.As(err, &pe) && pe.Code == syncproto.CodeRevoked {
		if st, serr := c.Status(ctx); serr == nil && st.Erase {
			return res, ErrErase
		}
	}
	return res, err
}

func (c *Client) pushPull(ctx context.Context, res *Result) error {
	n, err := c.push(ctx, res)
	res.Pushed += n
	if err != nil {
		return err
	}
	if err := c.pull(ctx, res); err != nil {
		return err
	}
	return c.pullBlobs(ctx, res)
}

func (c *Client) push(ctx context.Context, res *Result) (int, error) {
	pushed := 0
	sent, err := c.offerAllBlobs(ctx)
	res.BlobsSent += sent
	if err != nil {
		return pushed, err
	}
	for {
		vs, err := c.Store.Outgoing(ctx, syncproto.MaxBatch/2)
		if err != nil || len(vs) == 0 {
			return pushed, err
		}
		// A document's contents go before its version (blobs.go).
		sent, err := c.pushBlobs(ctx, vs)
		res.BlobsSent += sent
		if err != nil {
			return pushed, err
		}
		req := syncproto.PushRequest{Versions: make([]syncproto.Version, 0, len(vs))}
		for _, v := range vs {
			sealed, err := c.seal(v)
			if err != nil {
				return pushed, err
			}
			req.Versions = append(req.Versions, syncproto.Version{Record: v.RecordID, ID: v.VersionID, Parents: v.Parents, Sealed: sealed})
		}
		var resp syncproto.PushResponse
		if err := c.call(ctx, http.MethodPost, syncproto.PathPush, req, &resp); err != nil {
			return pushed, err
		}
		if len(resp.Results) != len(vs) {
			return pushed, errors.New("sync: the server answered a push with the wrong number of results")
		}
		done := make([]string, 0, len(vs))
		for i, r := range resp.Results {
			switch {
			case r.ID != vs[i].VersionID:
				return pushed, errors.New("sync: the server answered a push out of order")
			case r.Status == syncproto.PushStored || r.Status == syncproto.PushDuplicate:
				done = append(done, r.ID)
			default:
				c.alert(AlertMismatch, "The clinic server holds a different version under an id this laptop wrote. Sync stopped; tell the administrator.")
				return pushed, fmt.Errorf("sync: version %s: %s", r.ID, r.Status)
			}
		}
		if err := c.Store.Sent(ctx, done); err != nil {
			return pushed, err
		}
		pushed += len(done)
	}
}

// pulled is one page as the fetcher hands it to the applier: opened,
// checked to continue from the cursor it was asked after.
type pulled struct {
	page *records.RemotePage
	next int64
	more bool
	head int64
	docs bool // the page holds document versions
	err  error
}

// errTamperedPage: a version of a page did not open (the applier alerts,
// in order, and returns ErrTampered).
var errTamperedPage = errors.New("sync: tampered page")

// pull asks for pages after the cursor and applies them in order. Two
// steps overlap: while one page is applied (its versions stored and the
// cursor advanced, in one transaction), the next is downloaded, checked,
// opened and decoded (records.CheckRemote), so the network,
// decompression, decryption and parsing run beside the vault's writes. The applier still applies pages strictly in order,
// each with its own cursor, so an interruption anywhere leaves the
// cursor at the end of the last page stored.
func (c *Client) pull(ctx context.Context, res *Result) error {
	after, err := c.Store.Cursor(ctx, CursorKey)
	if err != nil {
		return err
	}
	anchor, err := c.Store.Cursor(ctx, records.AnchorKey(CursorKey))
	if err != nil {
		return err
	}
	res.Cursor = after
	start := after
	marked := false
	fctx, cancel := context.WithCancel(ctx)
	pages := make(chan pulled, 1)
	go c.fetch(fctx, after, anchor, pages)
	defer func() {
		cancel()
		for range pages { // wait for the fetcher to end
		}
	}()
	for p := range pages {
		switch {
		case errors.Is(p.err, errTamperedPage):
			c.alert(AlertTampered, "A version held by the clinic server does not open with the clinic key: it was altered, or comes from another clinic. Sync stopped; tell the security officer.")
			return ErrTampered
		case p.err != nil:
			return p.err
		}
		if p.docs && !marked {
			if err := c.markBlobsWanted(ctx); err != nil {
				return err
			}
			marked = true
		}
		applied, err := c.Store.ApplyPage(ctx, c.Signer.Device, p.page, CursorKey, p.next)
		if err != nil {
			return err
		}
		res.Pulled += applied.New
		res.Conflicts += applied.Conflicts
		res.Cursor = p.next
		if c.Progress != nil {
			c.Progress(p.next-start, max(p.head, p.next)-start)
		}
		if !p.more {
			return nil
		}
	}
	return ctx.Err()
}

// fetch downloads and opens the pages after the cursor, one ahead of the
// applier, until the last page or a failure (handed over as the last
// page). The first page starts one before the cursor when the vault
// knows the anchor of the version there (records.Anchor): the server
// must still hold that version under that number.
func (c *Client) fetch(ctx context.Context, after, anchor int64, out chan<- pulled) {
	defer close(out)
	for {
		p := c.fetchPage(ctx, after, anchor)
		anchor = 0
		select {
		case out <- p:
		case <-ctx.Done():
			return
		}
		if p.err != nil || !p.more {
			return
		}
		after = p.next
	}
}

func (c *Client) fetchPage(ctx context.Context, after, anchor int64) pulled {
	var page syncproto.PullResponse
	from := after
	if anchor != 0 && after > 0 {
		from = after - 1
	}
	uri := syncproto.PathPull + "?after=" + strconv.FormatInt(from, 10) + "&limit=" + strconv.Itoa(pullLimit)
	if err := c.call(ctx, http.MethodGet, uri, nil, &page); err != nil {
		return pulled{err: err}
	}
	if from < after {
		// The version at the cursor comes first. An answer to another
		// request is refused below (it does not continue from the
		// cursor); an answer to this one whose version there is another
		// comes from a server that renumbered its versions: restored from
		// an older backup, it took new versions since.
		switch {
		case len(page.Versions) == 0 || page.Versions[0].Seq != after:
			if page.Head < after && page.Next == from && len(page.Versions) == 0 {
				return pulled{err: errServerBehind}
			}
			return pulled{err: errors.New("sync: the server's page does not continue from the cursor")}
		case records.Anchor(page.Versions[0].ID) != anchor:
			return pulled{err: errServerBehind}
		}
		page.Versions = page.Versions[1:]
	}
	// A page must continue exactly from the cursor asked for (the
	// clinic's sequence numbers have no gaps): an answer meant for
	// another request, replayed by a faulty network or proxy, would
	// otherwise move the cursor past versions never applied.
	for i, sv := range page.Versions {
		if sv.Seq != after+1+int64(i) {
			return pulled{err: errors.New("sync: the server's page does not continue from the cursor")}
		}
	}
	if page.Next != after+int64(len(page.Versions)) || (page.More && len(page.Versions) == 0) {
		return pulled{err: errors.New("sync: the server's page does not continue from the cursor")}
	}
	// An answer to this very request whose clinic ends before the
	// cursor: the server has fewer versions than this laptop already
	// applied (restored from an older backup).
	if page.Head < after && from == after {
		return pulled{err: errServerBehind}
	}
	vs := make([]ehr.Version, len(page.Versions))
	docs := false
	for i, sv := range page.Versions {
		v, err := seal.Open(c.Key, sv.Record, sv.ID, sv.Parents, sv.Sealed)
		if err != nil {
			return pulled{err: errTamperedPage}
		}
		vs[i] = v
		docs = docs || v.Kind == ehr.KindDocument
	}
	checked, err := records.CheckRemote(vs)
	if err != nil {
		return pulled{err: fmt.Errorf("apply remote: %w", err)}
	}
	return pulled{page: checked, next: page.Next, more: page.More, head: page.Head, docs: docs}
}

// pullLimit is the page size asked for: the most a server serves, so a
// page's transaction (and its fsync) covers as many versions as it may.
const pullLimit = syncproto.MaxPullLimit

// seal seals v with a nonce derived from the clinic key and the version
// itself, so sealing the same version again gives the same bytes: a push
// retried after its answer was lost is then a duplicate to the server,
// not a mismatch (a random nonce made every retry a mismatch, and the
// laptop stuck with an alert). Only identical versions share a nonce,
// and they share the ciphertext too, which the version id already says.
func (c *Client) seal(v ehr.Version) ([]byte, error) { return seal.Stable(c.Key, v) }

// call makes one signed request and reads its answer; a refusal for the
// server's rate limit is waited out and the request made again (callMax).
func (c *Client) call(ctx context.Context, method, uri string, payload, out any) error {
	return c.callMax(ctx, method, uri, payload, out, syncproto.MaxDecodedBody)
}

func (c *Client) alert(kind, msg string) {
	if c.Alert != nil {
		c.Alert(kind, msg)
	}
}

// Backoff returns how long to wait before attempt n (0, 1, ...) after a
// failure: exponential from 5 s to 15 min, with full jitter, so laptops
// coming back online together do not all knock at once. A server's
// Retry-After is honoured when longer.
func Backoff(n int, err error) time.Duration {
	d := 5 * time.Second
	for i := 0; i < n && d < 15*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 15*time.Minute)
	d = time.Duration(rand.Int64N(int64(d)) + 1)
	var pe *syncproto.Error
	if errors.As(err, &pe) && pe.RetryAfter > d {
		d = pe.RetryAfter
	}
	return d
}

// Enroll registers this laptop's device key with the clinic server using
// a one-time token from the administrator.
func (c *Client) Enroll(ctx context.Context, token, name string) (syncproto.EnrollResponse, error) {
	pub, ok := c.Signer.Key.Public().(ed25519.PublicKey)
	if !ok {
		return syncproto.EnrollResponse{}, errors.New("sync: the device key is not Ed25519")
	}
	var out syncproto.EnrollResponse
	err := c.call(ctx, http.MethodPost, syncproto.PathEnroll, syncproto.EnrollRequest{Token: token, PublicKey: pub, Name: name}, &out)
	return out, err
}

// Status asks the server about this laptop; a revoked laptop is told to
// erase its vault.
func (c *Client) Status(ctx context.Context) (syncproto.StatusResponse, error) {
	var out syncproto.StatusResponse
	err := c.call(ctx, http.MethodGet, syncproto.PathStatus, nil, &out)
	return out, err
}
