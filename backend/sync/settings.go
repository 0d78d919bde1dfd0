package sync

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/seal"
	"outpost/backend/syncproto"
)

// Settings are this laptop's enrollment with its clinic server, kept in
// the vault's meta table (inside the encrypted vault). The device key is
// the audit trail's (audit.DeviceSigner), so nothing secret is here.
type Settings struct {
	Server      string // https://host:port
	Fingerprint string // the pinned certificate's SHA-256, "AB:CD:…"
	DeviceID    string // this laptop's id at the server (from its key)
	DeviceName  string
	EnrolledAt  time.Time
}

// Enrolled reports whether the laptop is registered with a server.
func (s Settings) Enrolled() bool { return s.Server != "" && s.DeviceID != "" }

// The meta keys of the settings.
const (
	metaServer      = "sync_server"
	metaFingerprint = "sync_fingerprint"
	metaDevice      = "sync_device"
	metaDeviceName  = "sync_device_name"
	metaEnrolledAt  = "sync_enrolled_at"
)

// LoadSettings reads the settings; the zero Settings when the laptop was
// never enrolled.
func LoadSettings(ctx context.Context, db *sql.DB) (Settings, error) {
	rows, err := db.QueryContext(ctx, "SELECT key, value FROM meta WHERE key IN ('sync_server', 'sync_fingerprint', 'sync_device', 'sync_device_name', 'sync_enrolled_at')")
	if err != nil {
		return Settings{}, fmt.Errorf("sync settings: %w", err)
	}
	defer rows.Close()
	var s Settings
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return Settings{}, fmt.Errorf("sync settings: %w", err)
		}
		switch k {
		case metaServer:
			s.Server = v
		case metaFingerprint:
			s.Fingerprint = v
		case metaDevice:
			s.DeviceID = v
		case metaDeviceName:
			s.DeviceName = v
		case metaEnrolledAt:
			s.EnrolledAt, _ = time.Parse(time.RFC3339, v)
		}
	}
	if err := rows.Err(); err != nil {
		return Settings{}, fmt.Errorf("sync settings: %w", err)
	}
	return s, nil
}

// FormatFingerprint writes a certificate's SHA-256 as upper-case hex
// pairs joined by colons, as outpost-server and openssl print it.
func FormatFingerprint(fp [32]byte) string {
	const hexdigits = "0123456789ABCDEF"
	out := make([]byte, 0, 95)
	for i, b := range fp {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hexdigits[b>>4], hexdigits[b&15])
	}
	return string(out)
}

// Execer is a database or a transaction.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// SaveSettings writes the settings (all of them, in the caller's
// transaction when db is one).
func SaveSettings(ctx context.Context, db Execer, s Settings) error {
	for _, kv := range [][2]string{
		{metaServer, s.Server}, {metaFingerprint, s.Fingerprint}, {metaDevice, s.DeviceID},
		{metaDeviceName, s.DeviceName}, {metaEnrolledAt, s.EnrolledAt.UTC().Format(time.RFC3339)},
	} {
		if _, err := db.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			kv[0], kv[1]); err != nil {
			return fmt.Errorf("save sync settings: %w", err)
		}
	}
	return nil
}

// Sync error codes (Problem codes the app shows with a plain message).
const (
	EOffline     = "E_OFFLINE"     // the server could not be reached
	ECertificate = "E_CERTIFICATE" // the server's certificate is not the pinned one
	EEnroll      = "E_ENROLL"      // the enrollment token was refused
	EClock       = "E_CLOCK"       // this computer's clock is off
	EServer      = "E_SERVER"      // the server refused or failed
	ETampered    = "E_TAMPERED"    // a version does not open, or the server holds another under our id
	ERevoked     = "E_REVOKED"     // this laptop was revoked
)

// ErrPinMismatch is the TLS handshake's failure when the server presents
// another certificate than the pinned one: nothing was sent.
var ErrPinMismatch = errors.New("sync: the server's certificate is not the pinned one")

// PinnedClient is Pinned with a handshake failure of the pin that
// errors.Is ErrPinMismatch, so the app can say which it was.
func PinnedClient(fingerprint [32]byte, timeout time.Duration) *http.Client {
	cfg := syncproto.PinnedTLS(fingerprint)
	check := cfg.VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if err := check(cs); err != nil {
			return fmt.Errorf("%w: %w", ErrPinMismatch, err)
		}
		return nil
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: cfg, TLSHandshakeTimeout: 15 * time.Second}}
}

// NewClient makes the sync client of an open vault: the device key
// signs, the clinic key seals, the certificate is pinned.
func NewClient(ctx context.Context, s Settings, w *sql.DB, key seal.Key, store *records.Store, timeout time.Duration) (*Client, error) {
	fp, ok := syncproto.ParseFingerprint(s.Fingerprint)
	if !ok {
		return nil, errors.New("sync: the stored fingerprint is malformed")
	}
	signer, err := audit.NewDeviceSigner(ctx, w)
	if err != nil {
		return nil, err
	}
	pub, ok := signer.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("sync: the device key is not Ed25519")
	}
	return &Client{Base: strings.TrimRight(s.Server, "/"), HTTP: PinnedClient(fp, timeout), Key: key, Store: store,
		Signer: &syncproto.Signer{Device: syncproto.DeviceID(pub), Key: signer}}, nil
}

// ValidServer checks a server address typed by a person: https, a host,
// an optional port, nothing else (no user, path, query or fragment). It
// returns the address in the form stored, https://host[:port].
func ValidServer(s string) (string, bool) {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	host := u.Hostname()
	if host == "" || strings.ContainsAny(host, " \t/\\") {
		return "", false
	}
	if p := u.Port(); p != "" {
		if _, _, err := net.SplitHostPort(u.Host); err != nil {
			return "", false
		}
	}
	return "https://" + u.Host, true
}

// Explain turns a sync failure into a Problem code and a plain message
// for the person at the laptop. The technical detail stays in err, for
// the log only.
func Explain(err error) (code, message string) {
	var pe *syncproto.Error
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	var rh tls.RecordHeaderError
	switch {
	case err == nil:
		return "", ""
	case errors.Is(err, ErrErase):
		return ERevoked, "The clinic revoked this laptop; its data is erased."
	case errors.Is(err, ErrPinMismatch):
		return ECertificate, "The server's certificate does not match the fingerprint. Check the fingerprint with the administrator (outpost-server fingerprint); nothing was sent."
	case errors.Is(err, ErrTampered):
		return ETampered, "A record held by the clinic server does not open with the clinic key. Sync stopped; the security officer was alerted."
	case errors.Is(err, ErrBlobTampered):
		return ETampered, "The content of a document held by the clinic server does not open with the clinic key. It was not stored; the security officer was alerted."
	case errors.Is(err, ErrBlobMismatch):
		return ETampered, "The clinic server holds different content under the id of a document this laptop sent. Sync stopped; tell the administrator."
	case errors.As(err, &rh), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return EOffline, "What answers at that address is not the clinic server (it does not speak TLS). Check the address and port."
	case errors.As(err, &pe):
		switch pe.Code {
		case syncproto.CodeEnrollRefused:
			return EEnroll, "The server refused the enrollment token: it may be mistyped, already used or expired (tokens last 24 hours). Ask the administrator for a new one."
		case syncproto.CodeClockSkew:
			return EClock, "This computer's clock differs from the server's by more than 5 minutes. Correct the date and time, then sync again."
		case syncproto.CodeRevoked:
			return ERevoked, "The clinic revoked this laptop."
		case syncproto.CodeUnauthenticated:
			return EServer, "The server does not know this laptop. Ask the administrator whether it is still enrolled."
		}
		return EServer, pe.Code.Message()
	case ehr.ErrorCode(err) != ehr.EInternal:
		return ehr.ErrorCode(err), ehr.ErrorMessage(err)
	case errors.As(err, &de), errors.As(err, &oe), errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return EOffline, "The clinic server cannot be reached. Check the network and the server address; Outpost keeps working offline and tries again."
	case strings.HasSuffix(err.Error(), ": "+string(syncproto.PushMismatch)):
		return ETampered, "The clinic server holds a different version under an id this laptop wrote. Sync stopped; tell the administrator."
	}
	return EServer, "Sync failed. Outpost tries again later; if it keeps happening, give the incident id to the administrator."
}
