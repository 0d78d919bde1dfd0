// Package clinic sets up an installation (the vault, the clinic, its
// device identity and first administrator) and wires the services that
// work over an open vault. The desktop app and outpost-admin share it.
package clinic

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os/user"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/ehr"
	"outpost/backend/records"
	"outpost/backend/seal"
	"outpost/backend/vault"
)

// Info is what the vault's meta table says about this installation.
type Info struct {
	Name       string
	DeviceID   string
	DeviceCode string
	Notice     string
}

// Deps are the injected clock, randomness and identity of this computer.
type Deps struct {
	Now         func() time.Time
	Rand        io.Reader // nil: crypto/rand
	Workstation string
	Passwords   auth.Params // zero: auth.DefaultParams
	// OSUser is the operating-system account running Outpost, recorded in
	// every audit event; empty: read from the system at Attach.
	OSUser string
	// Addresses returns the network addresses recorded in audit events
	// (at most once a minute); nil: audit.InterfaceAddresses.
	Addresses func() []string
	// Report hears failures nobody else can be told of (an alert that
	// could not be raised); nil: dropped.
	Report func(error)
}

func (d Deps) withDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	if d.Passwords == (auth.Params{}) {
		d.Passwords = auth.DefaultParams
	}
	if d.Workstation == "" {
		d.Workstation = "unknown"
	}
	if d.OSUser == "" {
		if u, err := user.Current(); err == nil {
			d.OSUser = u.Username
		}
	}
	if d.Addresses == nil {
		d.Addresses = audit.InterfaceAddresses
	}
	return d
}

// Services are the backend services over one open vault.
type Services struct {
	Vault   *vault.Vault
	Info    Info
	Audit   *audit.Log
	Alerts  *audit.Alerts
	Records *records.Store
	Users   *auth.Service
}

// Close closes the vault.
func (s *Services) Close() error { return s.Vault.Close() }

// DefaultNotice is the usage and privacy notice until an administrator
// sets the clinic's own.
const DefaultNotice = `This system holds confidential health information. Use it only for the care of patients and the work of this clinic, and only as your role allows.

Every access is recorded with your name, the time and this computer. Records may be reviewed by the clinic's security officer and auditors.

Patients' information is private: do not copy, share or discuss it outside the care team. Misuse may lead to disciplinary action and legal penalties.`

func readInfo(ctx context.Context, db *sql.DB) (Info, error) {
	var c Info
	rows, err := db.QueryContext(ctx, "SELECT key, value FROM meta WHERE key IN ('clinic_name', 'device_id', 'device_code', 'notice')")
	if err != nil {
		return c, fmt.Errorf("read clinic: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return c, fmt.Errorf("read clinic: %w", err)
		}
		switch k {
		case "clinic_name":
			c.Name = v
		case "device_id":
			c.DeviceID = v
		case "device_code":
			c.DeviceCode = v
		case "notice":
			c.Notice = v
		}
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("read clinic: %w", err)
	}
	if c.DeviceID == "" || c.DeviceCode == "" {
		return c, ehr.Errorf(ehr.EVault, "The vault has no clinic set up. Restore it from a backup, or set up a new data folder.")
	}
	if c.Notice == "" {
		c.Notice = DefaultNotice
	}
	return c, nil
}

// Attach wires the services over an open vault.
func Attach(ctx context.Context, v *vault.Vault, d Deps) (*Services, error) {
	d = d.withDefaults()
	c, err := readInfo(ctx, v.R)
	if err != nil {
		return nil, err
	}
	alerts := &audit.Alerts{Now: d.Now, IDs: &ehr.IDs{Now: d.Now, Rand: d.Rand}}
	log := &audit.Log{Device: c.DeviceID, Workstation: d.Workstation, Now: d.Now, OSUser: d.OSUser, Addresses: d.Addresses,
		OnFailure: audit.FailureAlarm(v.W, alerts, d.Report)}
	// The device key (made now for a vault older than the audit trail) and
	// a checkpoint of the events since the last one.
	if err := log.Open(ctx, v.W); err != nil {
		return nil, err
	}
	alerts.Log = log // the alerts raised through the services are audited
	users, err := auth.New(v.W, v.R, log, d.Now, d.Rand, d.Passwords)
	if err != nil {
		return nil, err
	}
	// Accounts sync as versions (auth/account.go): the store projects
	// pulled ones through auth, auth writes local changes through the store.
	store, err := records.New(ctx, v.W, v.R, records.Config{Device: c.DeviceID, DeviceCode: c.DeviceCode, Now: d.Now, Rand: d.Rand,
		Audit: log, Alerts: alerts, BreakGlass: auth.DefaultPolicy.BreakGlass, Accounts: users})
	if err != nil {
		return nil, err
	}
	users.SetAccountLog(store)
	if _, err := users.BackfillAccounts(ctx); err != nil {
		return nil, err
	}
	return &Services{Vault: v, Info: c, Audit: log, Alerts: alerts, Records: store, Users: users}, nil
}

// SetupRequest is the first-run form.
type SetupRequest struct {
	Clinic        string `json:"clinic"`
	AdminUsername string `json:"adminUsername"`
	AdminName     string `json:"adminName"`
	Password      string `json:"password"`
	KeyStore      string `json:"keyStore"` // "keyring" or "passphrase"
	Passphrase    string `json:"passphrase"`
}

// validate returns field messages keyed by SetupRequest's JSON names.
func (r SetupRequest) Validate() error {
	v := ehr.Invalid{}
	name := strings.Join(strings.Fields(r.Clinic), " ")
	if n := utf8.RuneCountInString(name); n < 2 || n > 100 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		v.Add("clinic", "Enter the clinic's name (2 to 100 characters).")
	}
	err := auth.ValidateNewUser(auth.NewUser{Username: r.AdminUsername, Name: r.AdminName, Password: r.Password, Roles: []string{auth.RoleAdmin}})
	for field, msg := range ehr.ErrorFields(err) {
		switch field {
		case "username":
			v.Add("adminUsername", msg)
		case "name":
			v.Add("adminName", msg)
		default:
			v.Add(field, msg)
		}
	}
	switch r.KeyStore {
	case vault.StoreKeyring:
	case vault.StorePassphrase:
		if utf8.RuneCountInString(r.Passphrase) < vault.MinPassphrase {
			v.Add("passphrase", fmt.Sprintf("Use at least %d characters.", vault.MinPassphrase))
		} else if r.Passphrase == r.Password {
			v.Add("passphrase", "Use a passphrase that differs from the administrator's password.")
		}
	default:
		v.Add("keyStore", "Choose where the vault key is kept.")
	}
	return v.Err()
}

// Setup creates the vault in o.Dir, the clinic and its first
// administrator, who also holds the clinician role so that a one-person
// clinic can work. It returns the services and the recovery key, shown
// once. When anything fails after the vault was made, the new vault is
// erased again: nothing is in it yet.
func Setup(ctx context.Context, o vault.Options, d Deps, req SetupRequest) (*Services, string, error) {
	d = d.withDefaults()
	if err := noVaultYet(o); err != nil {
		return nil, "", err
	}
	if err := req.Validate(); err != nil {
		return nil, "", err
	}
	v, recovery, err := vault.Create(ctx, o, req.KeyStore, []byte(req.Passphrase))
	if err != nil {
		return nil, "", err
	}
	if err := initClinic(ctx, v, d, req); err != nil {
		v.Close()
		vault.Erase(o)
		return nil, "", err
	}
	s, err := Attach(ctx, v, d)
	if err != nil {
		v.Close()
		return nil, "", err
	}
	return s, recovery, nil
}

// noVaultYet refuses a data folder that already holds a vault: setting
// up or joining never replaces one.
func noVaultYet(o vault.Options) error {
	_, err := vault.ReadMeta(o.Dir)
	switch {
	case errors.Is(err, vault.ErrNoVault):
		return nil
	case err == nil:
		return &ehr.Error{Code: ehr.EVault, Message: "This data folder already holds a vault; it is never replaced.", Err: vault.ErrExists}
	default:
		return err
	}
}

func initClinic(ctx context.Context, v *vault.Vault, d Deps, req SetupRequest) error {
	ids := &ehr.IDs{Now: d.Now, Rand: d.Rand}
	deviceID, err := ids.New()
	if err != nil {
		return err
	}
	code, err := deviceCode(d.Rand)
	if err != nil {
		return err
	}
	key, err := seal.NewKey(d.Rand)
	if err != nil {
		return err
	}
	log := &audit.Log{Device: deviceID, Workstation: d.Workstation, Now: d.Now, OSUser: d.OSUser, Addresses: d.Addresses}
	users, err := auth.New(v.W, v.R, log, d.Now, d.Rand, d.Passwords)
	if err != nil {
		return err
	}
	tx, err := v.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for k, val := range map[string]string{
		"clinic_name": strings.Join(strings.Fields(req.Clinic), " "),
		"device_id":   deviceID,
		"device_code": code,
		"notice":      DefaultNotice,
		"clinic_key":  key.String(), // seals versions for sync; inside the encrypted vault only
	} {
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?)", k, val); err != nil {
			return fmt.Errorf("setup: %w", err)
		}
	}
	// The device's audit signing key, made with the vault: the first
	// event below is checkpointed with it at once.
	if _, err := audit.EnsureKey(ctx, tx, deviceID, d.Now()); err != nil {
		return err
	}
	if _, err := log.Append(ctx, tx, audit.Event{Username: auth.NormalizeUsername(req.AdminUsername), Action: "clinic.setup", Outcome: audit.Success,
		Detail: "key store " + req.KeyStore}); err != nil {
		return err
	}
	if _, err := users.CreateUser(ctx, tx, auth.NormalizeUsername(req.AdminUsername), auth.NewUser{
		Username: req.AdminUsername, Name: req.AdminName, Password: req.Password,
		Roles: []string{auth.RoleAdmin, auth.RoleClinician},
	}); err != nil {
		return err
	}
	return tx.Commit()
}

// deviceCode returns three random characters of Crockford's base32 that
// prefix this device's clinic numbers.
func deviceCode(r io.Reader) (string, error) {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 3)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("device code: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// ClinicKey returns the clinic key that seals versions for sync, making
// one for a vault set up before sync existed.
func ClinicKey(ctx context.Context, v *vault.Vault, rnd io.Reader) (seal.Key, error) {
	var s string
	err := v.R.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'clinic_key'").Scan(&s)
	if err == nil {
		return seal.ParseKey(s)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return seal.Key{}, fmt.Errorf("clinic key: %w", err)
	}
	k, err := seal.NewKey(rnd)
	if err != nil {
		return seal.Key{}, err
	}
	// INSERT OR IGNORE: a key another caller made meanwhile wins.
	if _, err := v.W.ExecContext(ctx, "INSERT OR IGNORE INTO meta (key, value) VALUES ('clinic_key', ?)", k.String()); err != nil {
		return seal.Key{}, fmt.Errorf("clinic key: %w", err)
	}
	if err := v.R.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'clinic_key'").Scan(&s); err != nil {
		return seal.Key{}, fmt.Errorf("clinic key: %w", err)
	}
	return seal.ParseKey(s)
}
