package syncproto

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Requests are authenticated by the device's Ed25519 signature, carried
// in four headers; there are no cookies and no bearer secrets (P6). The
// signature covers RequestMessage: the method, the request URI (path and
// query, as sent), the SHA-256 of the body as sent (compressed), the
// device id, the time and a random nonce. The server refuses a time more
// than MaxSkew from its clock and a nonce it has seen from that device
// within the window, so a captured request cannot be sent again.
//
// The key may be the device's audit key (backend/audit): the domain line
// that starts every message keeps a request signature from ever being
// read as a checkpoint signature, or the other way round.
const (
	HeaderDevice    = "Outpost-Device"
	HeaderTime      = "Outpost-Time"
	HeaderNonce     = "Outpost-Nonce"
	HeaderSignature = "Outpost-Signature"
)

// SignDomain starts every signed request message.
const SignDomain = "outpost-sync-request/1"

// nonceBytes is the size of a nonce before encoding.
const nonceBytes = 16

var b64 = base64.RawURLEncoding.Strict()

// Errors of verification. The server maps each to a code.
var (
	ErrUnsigned     = errors.New("syncproto: request not signed")
	ErrMalformed    = errors.New("syncproto: malformed signature headers")
	ErrBadSignature = errors.New("syncproto: signature does not verify")
	ErrClockSkew    = errors.New("syncproto: request time outside the allowed skew")
	ErrReplayed     = errors.New("syncproto: nonce already seen")
)

// RequestMessage returns the exact bytes a request signature covers:
// SignDomain, method, request URI, lower-case hex SHA-256 of the body,
// device, time and nonce, each followed by "\n" except the last.
func RequestMessage(method, uri string, bodyHash [32]byte, device, at, nonce string) []byte {
	b := make([]byte, 0, len(SignDomain)+len(method)+len(uri)+64+len(device)+len(at)+len(nonce)+6)
	b = append(b, SignDomain...)
	for _, s := range []string{method, uri} {
		b = append(b, '\n')
		b = append(b, s...)
	}
	b = append(b, '\n')
	b = hex.AppendEncode(b, bodyHash[:])
	for _, s := range []string{device, at, nonce} {
		b = append(b, '\n')
		b = append(b, s...)
	}
	return b
}

// Signer signs requests as one device. Key is usually an
// ed25519.PrivateKey; any crypto.Signer that makes Ed25519 signatures
// will do.
type Signer struct {
	Device string
	Key    crypto.Signer
	Now    func() time.Time // time.Now when nil
	Rand   io.Reader        // crypto/rand when nil
}

// Sign sets the signature headers of req, whose body is body (the bytes
// as sent; nil for none). Each call draws a new nonce, so a retry is a
// new request.
func (s *Signer) Sign(req *http.Request, body []byte) error {
	if s.Key == nil || s.Device == "" {
		return errors.New("syncproto: signer without key or device")
	}
	now, rnd := time.Now, s.Rand
	if s.Now != nil {
		now = s.Now
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	var nb [nonceBytes]byte
	if _, err := io.ReadFull(rnd, nb[:]); err != nil {
		return fmt.Errorf("syncproto: nonce: %w", err)
	}
	nonce := b64.EncodeToString(nb[:])
	at := now().UTC().Format(time.RFC3339)
	msg := RequestMessage(req.Method, req.URL.RequestURI(), sha256.Sum256(body), s.Device, at, nonce)
	sig, err := s.Key.Sign(rnd, msg, crypto.Hash(0))
	if err != nil {
		return fmt.Errorf("syncproto: sign: %w", err)
	}
	req.Header.Set(HeaderDevice, s.Device)
	req.Header.Set(HeaderTime, at)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, b64.EncodeToString(sig))
	return nil
}

// Signed is the signature of a request, as read from its headers.
type Signed struct {
	Device    string
	Time      time.Time
	Nonce     string
	Signature []byte
	at        string // the header exactly as signed
}

// ParseSigned reads the signature headers. A request with none of them
// is ErrUnsigned; one with some missing or malformed is ErrMalformed.
func ParseSigned(h http.Header) (Signed, error) {
	dev, at, nonce, sig := h.Get(HeaderDevice), h.Get(HeaderTime), h.Get(HeaderNonce), h.Get(HeaderSignature)
	if dev == "" && at == "" && nonce == "" && sig == "" {
		return Signed{}, ErrUnsigned
	}
	if !ValidDeviceID(dev) || len(at) > 40 || len(nonce) != b64.EncodedLen(nonceBytes) || len(sig) != b64.EncodedLen(ed25519.SignatureSize) {
		return Signed{}, ErrMalformed
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return Signed{}, ErrMalformed
	}
	// The decoder skips line ends: the decoded lengths are checked too.
	if n, err := b64.DecodeString(nonce); err != nil || len(n) != nonceBytes {
		return Signed{}, ErrMalformed
	}
	raw, err := b64.DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return Signed{}, ErrMalformed
	}
	return Signed{Device: dev, Time: t, Nonce: nonce, Signature: raw, at: at}, nil
}

// Message returns the bytes s must be a signature of.
func (s Signed) Message(method, uri string, bodyHash [32]byte) []byte {
	return RequestMessage(method, uri, bodyHash, s.Device, s.at, s.Nonce)
}

// Verifier checks signed requests: signature, then time, then nonce.
type Verifier struct {
	Now     func() time.Time // time.Now when nil
	MaxSkew time.Duration    // MaxSkew when zero
	Nonces  *NonceCache      // required
}

// Verify checks that s is pub's signature of the request, that its time
// is within the skew and that its nonce is new. The nonce is remembered
// only once the signature verifies, so nobody without the key can spend
// a device's nonces.
func (v *Verifier) Verify(s Signed, method, uri string, bodyHash [32]byte, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || len(s.Signature) != ed25519.SignatureSize ||
		!ed25519.Verify(pub, s.Message(method, uri, bodyHash), s.Signature) {
		return ErrBadSignature
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = MaxSkew
	}
	if d := now.Sub(s.Time); d > skew || d < -skew {
		return ErrClockSkew
	}
	return v.Nonces.Add(s.Device, s.Nonce, now)
}
