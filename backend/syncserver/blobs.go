package syncserver

import (
	"errors"
	"fmt"
	"net/http"

	"outpost/backend/syncproto"
)

// Document contents (docs/sync-protocol.md, "Document contents"): a
// laptop uploads each document's bytes sealed with the clinic key under
// an opaque id it derives with that key, and other laptops fetch them by
// that id. The server checks the signature, the size and the id's form,
// and stores the ciphertext; it learns neither the file, its name, its
// type nor its checksum.

// blobRoutes are the routes of blobs. An upload holds one of the push
// slots while its body is read, as a push does.
func (s *Server) blobRoutes() map[string]route {
	return map[string]route{
		syncproto.PathBlobs:                        {http.MethodPost, s.maxBlob, (*Server).putBlob},
		http.MethodGet + " " + syncproto.PathBlobs: {http.MethodGet, 0, (*Server).getBlob},
		syncproto.PathBlobsMissing:                 {http.MethodPost, syncproto.MaxSmallBody, (*Server).missingBlobs},
	}
}

// putBlob: POST /v1/blobs.
func (s *Server) putBlob(w http.ResponseWriter, r *http.Request, d Device, body []byte) {
	var req syncproto.BlobPut
	if err := syncproto.DecodeBody(body, syncproto.MaxBlobDecoded, &req); err != nil {
		s.failDecode(w, r, err)
		return
	}
	if err := req.Validate(); err != nil {
		s.fail(w, r, syncproto.CodeBadRequest, err, "device", d.ID)
		return
	}
	status, err := s.store.PutBlob(r.Context(), Blob{Clinic: d.Clinic, ID: req.ID, Device: d.ID, Stored: s.now().UTC(), Sealed: req.Sealed})
	switch {
	case errors.Is(err, ErrRevoked):
		s.fail(w, r, syncproto.CodeRevoked, err, "device", d.ID)
		return
	case errors.Is(err, ErrNotFound):
		s.fail(w, r, syncproto.CodeUnauthenticated, err, "device", d.ID)
		return
	case err != nil:
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	if status == syncproto.BlobMismatch {
		s.log.Warn("blob upload mismatched", "device", d.ID, "clinic", d.Clinic)
	}
	s.log.Debug("blob", "device", d.ID, "clinic", d.Clinic, "status", status, "size", len(req.Sealed))
	s.reply(w, r, syncproto.BlobPutResponse{ID: req.ID, Status: status})
}

// getBlob: GET /v1/blobs?id=X. A blob the server does not hold is an
// answer (Found false), not a refusal. A fetch holds a push slot while
// it reads and answers.
func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, d Device, _ []byte) {
	q := r.URL.Query()
	ids := q["id"]
	if len(q) != 1 || len(ids) != 1 || !syncproto.ValidBlobID(ids[0]) {
		s.fail(w, r, syncproto.CodeBadRequest, fmt.Errorf("blob: bad query"), "device", d.ID)
		return
	}
	// A blob is up to 20 MB in memory, and more while it is encoded: an
	// answer holds a push slot as an upload does, which bounds them all.
	release, ok := s.acquirePush(r.Context())
	if !ok {
		s.fail(w, r, syncproto.CodeUnavailable, errors.New("too many pushes at once"), "device", d.ID)
		return
	}
	defer release()
	b, err := s.store.Blob(r.Context(), d.Clinic, ids[0])
	if errors.Is(err, ErrNotFound) {
		s.reply(w, r, syncproto.BlobResponse{ID: ids[0]})
		return
	}
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	s.reply(w, r, syncproto.BlobResponse{ID: ids[0], Found: true, Sealed: b.Sealed})
}

// missingBlobs: POST /v1/blobs/missing.
func (s *Server) missingBlobs(w http.ResponseWriter, r *http.Request, d Device, body []byte) {
	var req syncproto.BlobsMissingRequest
	if err := syncproto.DecodeBody(body, 4*syncproto.MaxSmallBody, &req); err != nil {
		s.failDecode(w, r, err)
		return
	}
	if err := req.Validate(); err != nil {
		s.fail(w, r, syncproto.CodeBadRequest, err, "device", d.ID)
		return
	}
	missing, err := s.store.MissingBlobs(r.Context(), d.Clinic, req.IDs)
	if err != nil {
		s.fail(w, r, syncproto.CodeInternal, err, "device", d.ID)
		return
	}
	s.reply(w, r, syncproto.BlobsMissingResponse{Missing: missing})
}
