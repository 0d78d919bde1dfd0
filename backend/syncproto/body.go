package syncproto

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Bodies are JSON compressed with gzip, both ways: a request with a body
// sends Content-Encoding: gzip, and a response is compressed when the
// request says Accept-Encoding: gzip (NewRequest always does). Record
// versions inside are opaque sealed bytes (base64 in JSON); the client
// compresses a record before it seals it, since ciphertext does not
// compress.
const (
	ContentType     = "application/json"
	ContentEncoding = "gzip"
)

// ErrTooLarge: a body is over its limit, before or after decompression.
var ErrTooLarge = errors.New("syncproto: body too large")

// ErrBadBody: a body is not gzip-compressed JSON of the expected shape.
var ErrBadBody = errors.New("syncproto: malformed body")

var gzWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// EncodeBody returns v as gzip-compressed JSON.
func EncodeBody(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteBody(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteBody writes v to w as gzip-compressed JSON.
func WriteBody(w io.Writer, v any) error {
	zw := gzWriters.Get().(*gzip.Writer)
	defer gzWriters.Put(zw)
	zw.Reset(w)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("syncproto: encode body: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("syncproto: encode body: %w", err)
	}
	return nil
}

// DecodeBody reads gzip-compressed JSON into v, refusing more than
// maxDecoded bytes once decompressed (ErrTooLarge), unknown fields and
// anything after the value (ErrBadBody).
func DecodeBody(gz []byte, maxDecoded int64, v any) error {
	br := bytes.NewReader(gz)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return ErrBadBody
	}
	zr.Multistream(false)
	if err := decodeJSON(zr, maxDecoded, v, true); err != nil {
		return err
	}
	if br.Len() != 0 { // bytes after the gzip member
		return ErrBadBody
	}
	return nil
}

func decodeJSON(r io.Reader, max int64, v any, strict bool) error {
	lr := &io.LimitedReader{R: r, N: max + 1}
	dec := json.NewDecoder(lr)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if lr.N <= 0 {
			return ErrTooLarge
		}
		return fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	// Only white space may follow the value; reading it also catches a
	// body that is over the limit or whose gzip trailer is damaged.
	rest, err := io.ReadAll(dec.Buffered())
	if err == nil {
		var tail []byte
		tail, err = io.ReadAll(lr)
		rest = append(rest, tail...)
	}
	if lr.N <= 0 {
		return ErrTooLarge
	}
	if err != nil || len(bytes.TrimSpace(rest)) != 0 {
		return ErrBadBody
	}
	return nil
}

// NewRequest returns a signed request for base (scheme and host, e.g.
// "https://clinic.example:8443") and uri (path and query), with payload
// as its gzip-compressed JSON body when not nil.
func NewRequest(ctx context.Context, method, base, uri string, payload any, s *Signer) (*http.Request, error) {
	var body []byte
	if payload != nil {
		var err error
		if body, err = EncodeBody(payload); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+uri, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("syncproto: request: %w", err)
	}
	if body == nil {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	} else {
		req.Header.Set("Content-Type", ContentType)
		req.Header.Set("Content-Encoding", ContentEncoding)
	}
	req.Header.Set("Accept-Encoding", ContentEncoding)
	if s != nil {
		if err := s.Sign(req, body); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// ReadResponse reads resp's body into v (unknown fields are ignored, so
// a newer server is understood), at most max bytes before and after
// decompression, and closes it. A refusal comes back as an *Error whose
// message is this package's for the code, never the server's text.
func ReadResponse(resp *http.Response, max int64, v any) error {
	defer resp.Body.Close()
	var r io.Reader = io.LimitReader(resp.Body, max+1)
	if resp.Header.Get("Content-Encoding") == ContentEncoding && !resp.Uncompressed {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return ErrBadBody
		}
		zr.Multistream(false)
		r = zr
	}
	if resp.StatusCode/100 != 2 {
		var er ErrorResponse
		if err := decodeJSON(r, 4<<10, &er, false); err != nil || !er.Code.Known() {
			er.Code = CodeInternal
			if resp.StatusCode == http.StatusRequestEntityTooLarge {
				er.Code = CodeTooLarge
			}
		}
		return &Error{Code: er.Code, Message: er.Code.Message(), Incident: cleanIncident(er.Incident),
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	}
	if v == nil {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	return decodeJSON(r, max, v, false)
}

// cleanIncident keeps an incident id only if it looks like one.
func cleanIncident(s string) string {
	if len(s) > 16 {
		return ""
	}
	for _, r := range s {
		if !strings.ContainsRune(crockford+"-", r) {
			return ""
		}
	}
	return s
}
