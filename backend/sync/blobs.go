package sync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/seal"
	"outpost/backend/syncproto"
)

// Document contents (docs/sync-protocol.md, "Document contents"). A
// document version names its bytes by their SHA-256; the bytes travel
// apart, as a blob sealed with the clinic key under an opaque id
// (seal.BlobID), so the server learns neither the file nor whether a
// file it knows is stored.
//
// Push: before a batch of versions goes, the contents of its document
// versions that are on this laptop and that the server lacks are
// uploaded, one at a time; so the server takes a document version only
// after its contents (when its writer has them). What to send is derived
// from the outbox: a sync interrupted anywhere sends them at the next.
//
// Pull: after the pages are applied, the contents of current documents
// that are not on this laptop are fetched one at a time, opened, checked
// against the SHA-256 their version names, and stored. One the server
// does not hold yet is no error: it is fetched at a later sync, and the
// document says meanwhile that its content is not here yet. A blob that
// does not open, or opens to other contents, is refused and alerted
// (AlertTampered) and the sync ends with ErrBlobTampered once the
// others are fetched.
//
// Two sync-state values keep this cheap: stateBlobsWanted is 1 while
// documents may lack their contents here (set before a page holding
// document versions is applied, so a crash after it still fetches), 0
// once none do; the chart is searched only while it is not 0 (or unset).
// stateBlobsOffered is set once every document's contents held here
// were offered to the server: a laptop that wrote documents before
// contents travelled sends them at its first sync with this version.
const (
	stateBlobsWanted  = "blobs/wanted"
	stateBlobsOffered = "blobs/offered"
)

// ErrBlobTampered is returned (and alerted) when a document's content
// from the server does not open with the clinic key, or opens to other
// contents than its version names.
var ErrBlobTampered = errors.New("sync: a document's content from the server does not open with the clinic key")

// ErrBlobMismatch: the server holds other contents under the id of
// contents this laptop sent.
var ErrBlobMismatch = errors.New("sync: the server holds other content under a document's id")

// pushBlobs uploads the contents of the document versions in vs that are
// here and the server lacks; it returns how many it sent.
func (c *Client) pushBlobs(ctx context.Context, vs []ehr.Version) (int, error) {
	var shas []string
	seen := map[string]bool{}
	for _, v := range vs {
		if sha := records.BlobOf(v); sha != "" && !seen[sha] {
			seen[sha] = true
			shas = append(shas, sha)
		}
	}
	return c.offerBlobs(ctx, shas)
}

// offerBlobs asks the server which of the contents shas it lacks and
// uploads those that are on this laptop, one at a time.
func (c *Client) offerBlobs(ctx context.Context, shas []string) (int, error) {
	sent := 0
	for len(shas) > 0 {
		n := min(len(shas), syncproto.MaxBlobQuery)
		chunk := shas[:n]
		shas = shas[n:]
		byID := make(map[string]string, n)
		q := syncproto.BlobsMissingRequest{IDs: make([]string, n)}
		for i, sha := range chunk {
			q.IDs[i] = seal.BlobID(c.Key, sha)
			byID[q.IDs[i]] = sha
		}
		var resp syncproto.BlobsMissingResponse
		if err := c.call(ctx, http.MethodPost, syncproto.PathBlobsMissing, q, &resp); err != nil {
			return sent, err
		}
		for _, id := range resp.Missing {
			sha, ok := byID[id]
			if !ok {
				return sent, errors.New("sync: the server answered about a blob not asked for")
			}
			data, here, err := c.Store.Blob(ctx, sha)
			if err != nil {
				return sent, err
			}
			if !here {
				continue // this laptop lacks them too: whoever has them sends them
			}
			bid, sealed, err := seal.SealBlob(c.Key, sha, data)
			if err != nil {
				return sent, fmt.Errorf("sync: seal a document's content: %w", err)
			}
			data = nil
			var pr syncproto.BlobPutResponse
			if err := c.callMax(ctx, http.MethodPost, syncproto.PathBlobs, syncproto.BlobPut{ID: bid, Sealed: sealed}, &pr, syncproto.MaxSmallBody); err != nil {
				return sent, err
			}
			switch {
			case pr.ID != bid:
				return sent, errors.New("sync: the server answered an upload of another blob")
			case pr.Status == syncproto.BlobStored || pr.Status == syncproto.BlobDuplicate:
				sent++
			default:
				c.alert(AlertMismatch, "The clinic server holds different content under the id of a document this laptop sent. Sync stopped; tell the administrator.")
				return sent, ErrBlobMismatch
			}
		}
	}
	return sent, nil
}

// offerAllBlobs, once per laptop, offers the server the contents of
// every current document held here (see stateBlobsOffered).
func (c *Client) offerAllBlobs(ctx context.Context) (int, error) {
	done, _, err := c.Store.State(ctx, stateBlobsOffered)
	if err != nil || done != 0 {
		return 0, err
	}
	shas, err := c.Store.HeldBlobs(ctx)
	if err != nil {
		return 0, err
	}
	n, err := c.offerBlobs(ctx, shas)
	if err != nil {
		return n, err
	}
	return n, c.Store.SetState(ctx, stateBlobsOffered, 1)
}

// markBlobsWanted notes, before a page with document versions is
// applied, that contents may be missing here.
func (c *Client) markBlobsWanted(ctx context.Context) error {
	return c.Store.SetState(ctx, stateBlobsWanted, 1)
}

// pullBlobs fetches the contents of current documents missing here.
func (c *Client) pullBlobs(ctx context.Context, res *Result) error {
	wanted, set, err := c.Store.State(ctx, stateBlobsWanted)
	if err != nil || (set && wanted == 0) {
		return err
	}
	missing, err := c.Store.MissingBlobs(ctx)
	if err != nil {
		return err
	}
	waiting, tampered := 0, false
	for _, sha := range missing {
		id := seal.BlobID(c.Key, sha)
		var br syncproto.BlobResponse
		if err := c.callMax(ctx, http.MethodGet, syncproto.PathBlobs+"?id="+url.QueryEscape(id), nil, &br, syncproto.MaxBlobDecoded); err != nil {
			return err
		}
		if br.ID != id {
			return errors.New("sync: the server answered with another blob")
		}
		if !br.Found {
			waiting++ // its writer has not sent it yet
			continue
		}
		data, err := seal.OpenBlob(c.Key, sha, br.Sealed)
		br.Sealed = nil
		if err != nil {
			tampered = true
			waiting++
			continue
		}
		if err := c.Store.PutBlob(ctx, sha, data); err != nil {
			return err
		}
		res.BlobsFetched++
	}
	res.BlobsWaiting = waiting
	if err := c.Store.SetState(ctx, stateBlobsWanted, int64(min(waiting, 1))); err != nil {
		return err
	}
	if tampered {
		c.alert(AlertTampered, "The content of a document held by the clinic server does not open with the clinic key: it was altered, or comes from another clinic. It was not stored; tell the security officer.")
		return ErrBlobTampered
	}
	return nil
}

// callMax makes one signed request and reads its answer, bounded by
// limit bytes (before and after decompression). Blobs go one request
// each, so a laptop sending or fetching many small ones at once runs into
// the server's per-device rate limit (20 a second, bursts of 40), and the
// versions' push or pull right after them too; and several laptops moving
// 20 MB blobs at once fill the server's push slots. A refusal for the
// rate (rate_limited) or for busy slots (unavailable) is waited out (Retry-After, at least a second, at most blobRateWait) and
// the request made again, signed anew, up to blobRateRetries times in a
// row, rather than failing the sync. Anything else is returned.
func (c *Client) callMax(ctx context.Context, method, uri string, payload, out any, limit int64) error {
	for attempt := 0; ; attempt++ {
		req, err := syncproto.NewRequest(ctx, method, c.Base, uri, payload, c.Signer)
		if err != nil {
			return err
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		err = syncproto.ReadResponse(resp, limit, out)
		var pe *syncproto.Error
		busy := errors.As(err, &pe) && (pe.Code == syncproto.CodeRateLimited || pe.Code == syncproto.CodeUnavailable)
		if !busy || attempt >= blobRateRetries {
			return err
		}
		wait := min(max(pe.RetryAfter, time.Second), blobRateWait)
		if err := c.wait(ctx, wait); err != nil {
			return err
		}
	}
}

// How often and how long a blob request waits out the rate limit.
const (
	blobRateRetries = 20
	blobRateWait    = 30 * time.Second
)

// wait pauses for d (c.Sleep when set), or until ctx ends.
func (c *Client) wait(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
