package clinic

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/backend/audit"
	"outpost/backend/ehr"
	"outpost/backend/sync"
	"outpost/backend/syncproto"
)

// Sync wiring over the services of an open vault: the laptop's enrollment
// with its clinic server (settings in the vault's meta table), the sync
// client (device key from the audit trail, clinic key from meta, alerts
// to the security officer's list) and the background loop.

// syncTimeout bounds one request to the clinic server.
const syncTimeout = 60 * time.Second

// SyncSettings returns this laptop's enrollment (zero when none).
func (s *Services) SyncSettings(ctx context.Context) (sync.Settings, error) {
	return sync.LoadSettings(ctx, s.Vault.R)
}

// SyncClient returns the sync client for st, its alerts raised in the
// vault's alert list (a tampered or mismatched version).
func (s *Services) SyncClient(ctx context.Context, st sync.Settings, rnd io.Reader) (*sync.Client, error) {
	key, err := ClinicKey(ctx, s.Vault, rnd)
	if err != nil {
		return nil, err
	}
	c, err := sync.NewClient(ctx, st, s.Vault.W, key, s.Records, syncTimeout)
	if err != nil {
		return nil, err
	}
	c.Alert = func(kind, message string) { s.raise(ctx, kind, message) }
	return c, nil
}

// raise records an alert for the security officer; a failure to raise it
// is only logged by the caller's Report (the sync itself stops anyway).
func (s *Services) raise(ctx context.Context, kind, message string) {
	tx, err := s.Vault.W.BeginTx(ctx, nil)
	if err != nil {
		return
	}
	defer tx.Rollback()
	if err := s.Alerts.Raise(ctx, tx, kind, message, "sync", ""); err != nil {
		return
	}
	tx.Commit()
}

// SyncLoop returns the background loop for an enrolled laptop (not yet
// started).
func (s *Services) SyncLoop(ctx context.Context, st sync.Settings, rnd io.Reader, now func() time.Time, log *slog.Logger) (*sync.Loop, error) {
	c, err := s.SyncClient(ctx, st, rnd)
	if err != nil {
		return nil, err
	}
	return &sync.Loop{Client: c, Now: now, Log: log,
		Changes: s.lastSeq,
		Counts: func(ctx context.Context) (int, int, error) {
			p, err := s.Records.Outbox(ctx)
			if err != nil {
				return 0, 0, err
			}
			n, err := s.Records.ClinicalConflicts(ctx)
			return p, n, err
		},
	}, nil
}

// lastSeq is the local sequence number of the newest version: it grows
// with every write, local or pulled.
func (s *Services) lastSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := s.Vault.R.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM versions").Scan(&n); err != nil {
		return 0, fmt.Errorf("last version: %w", err)
	}
	return n, nil
}

// ConnectRequest enrols this laptop with its clinic server.
type ConnectRequest struct {
	Server      string `json:"server"`
	Fingerprint string `json:"fingerprint"`
	Token       string `json:"token"`
	DeviceName  string `json:"deviceName"`
}

// tokenChars are the characters of an enrollment token once hyphens and
// spaces are gone (Crockford base 32, read leniently by the server).
func tokenOK(t string) bool {
	t = strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(t))
	if len(t) != 32 {
		return false
	}
	for _, r := range strings.ToUpper(t) {
		if !strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTVWXYZ", r) {
			return false
		}
	}
	return true
}

// ValidDeviceName checks the laptop's name as people read it in the
// server's device list.
func ValidDeviceName(s string) (string, bool) {
	s = strings.Join(strings.Fields(s), " ")
	n := utf8.RuneCountInString(s)
	return s, n >= 2 && n <= 60 && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// Validate checks the form and returns it cleaned (field messages keyed
// by the JSON names).
func (r ConnectRequest) Validate() (ConnectRequest, error) {
	v := ehr.Invalid{}
	var ok bool
	if r.Server, ok = sync.ValidServer(r.Server); !ok {
		v.Add("server", "Enter the server's address as https://host:port (given by outpost-server init).")
	}
	if fp, ok := syncproto.ParseFingerprint(r.Fingerprint); !ok {
		v.Add("fingerprint", "Enter the certificate fingerprint: 64 hexadecimal digits in pairs separated by colons (95 characters).")
	} else {
		r.Fingerprint = sync.FormatFingerprint(fp)
	}
	if !tokenOK(r.Token) {
		v.Add("token", "Enter the enrollment token from outpost-server enroll: eight groups of four characters.")
	}
	if r.DeviceName, ok = ValidDeviceName(r.DeviceName); !ok {
		v.Add("deviceName", "Name this laptop (2 to 60 characters), e.g. Front desk.")
	}
	return r, v.Err()
}

// Connect enrols this laptop (which holds the clinic key already) with
// the server and saves the settings; the caller then starts the loop.
// The certificate is pinned before anything is sent: a wrong fingerprint
// fails the handshake.
func (s *Services) Connect(ctx context.Context, req ConnectRequest, username string, now time.Time, rnd io.Reader) (sync.Settings, error) {
	req, err := req.Validate()
	if err != nil {
		return sync.Settings{}, err
	}
	if cur, err := s.SyncSettings(ctx); err != nil {
		return sync.Settings{}, err
	} else if cur.Enrolled() {
		return sync.Settings{}, ehr.Errorf(ehr.EConflict, "This laptop is already connected to a clinic server.")
	}
	st := sync.Settings{Server: req.Server, Fingerprint: req.Fingerprint, DeviceName: req.DeviceName}
	c, err := s.SyncClient(ctx, st, rnd)
	if err != nil {
		return sync.Settings{}, err
	}
	resp, err := c.Enroll(ctx, req.Token, req.DeviceName)
	if err != nil {
		return sync.Settings{}, syncError(err)
	}
	st.DeviceID, st.EnrolledAt = resp.Device, now.UTC()
	return st, s.saveEnrollment(ctx, st, username, "sync.connect")
}

// saveEnrollment stores the settings with their audit event.
func (s *Services) saveEnrollment(ctx context.Context, st sync.Settings, username, action string) error {
	tx, err := s.Vault.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save enrollment: %w", err)
	}
	defer tx.Rollback()
	if err := sync.SaveSettings(ctx, tx, st); err != nil {
		return err
	}
	if _, err := s.Audit.Append(ctx, tx, audit.Event{Username: username, Action: action, Outcome: audit.Success,
		Detail: "enrolled as device " + st.DeviceID + " with the clinic server"}); err != nil {
		return err
	}
	return tx.Commit()
}

// syncError gives a sync failure its code and plain message, keeping the
// technical cause for the log.
func syncError(err error) error {
	code, msg := sync.Explain(err)
	return &ehr.Error{Code: code, Message: msg, Err: err}
}

// SyncError is syncError for the app.
func SyncError(err error) error { return syncError(err) }
