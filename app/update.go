package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"outpost/backend/audit"
	"outpost/backend/auth"
	"outpost/backend/clinic"
	"outpost/backend/ehr"
	outsync "outpost/backend/sync"
	"outpost/backend/update"
	"outpost/backend/update/client"
	"outpost/backend/update/source"
)

// Updates in the app (docs/updates.md, "In the app"): a watcher checks
// the administrators' signed repository at start and daily, announces an
// available release to every signed-in user (a security release
// prominently, with its notes: S16) and, under the policy auto-security,
// installs a security release itself; otherwise an administrator installs
// it from Administration, Updates. The repository, its certificate pin and
// the policy are this laptop's settings, kept in the vault's meta table
// and changed (audited) by users with settings.manage. The update client's
// state (verified metadata, the highest version ever installed) lives in
// the data folder's "update" folder.

// UpdateConfig wires the updater. The zero value is the shipped behaviour:
// the root embedded at build time, the running program replaced, the
// product "outpost" for this build's platform.
type UpdateConfig struct {
	Root     []byte        // trusted root metadata; nil: the one embedded at build time
	Target   string        // the program to replace; "": the running executable
	Product  string        // the product in the repository; "": "outpost"
	Platform string        // GOOS-GOARCH; "": this build's
	Poll     time.Duration // real time between looks at the clock; zero: one second
}

// EUpdate is the code of a failed or refused check or install.
const EUpdate = "E_UPDATE"

// Meta keys of the update settings (the vault's meta table: this laptop's).
const (
	metaUpdateRepository = "update_repository"
	metaUpdatePin        = "update_pin"
	metaUpdatePolicy     = "update_policy"
)

// updateRetry is how soon a failed check is tried again (the laptop may
// have been offline, the USB stick out).
const updateRetry = time.Hour

// UpdateSettings are the administrator's update settings.
type UpdateSettings struct {
	// Repository is an https:// location or the absolute path of a folder
	// (a USB stick); "" turns checking off.
	Repository string `json:"repository"`
	// Pin is the SHA-256 fingerprint of the https server's certificate
	// ("AB:CD:…"); "": the system's certificate authorities.
	Pin string `json:"pin"`
	// Policy is "ask" or "auto-security".
	Policy string `json:"policy"`
}

// UpdateRelease is a release newer than the running program.
type UpdateRelease struct {
	Version  string `json:"version"`
	Security bool   `json:"security"`
	Notes    string `json:"notes"` // plain text: shown as text, never as markup
	Size     int64  `json:"size"`
}

// UpdateState is what the banner and Administration, Updates show. Users
// without settings.manage get the release and the restart only.
type UpdateState struct {
	Installed string         `json:"installed"` // the running version
	Available *UpdateRelease `json:"available,omitempty"`
	// RestartNeeded: InstalledVersion was installed; it runs once
	// Outpost is restarted.
	RestartNeeded    bool   `json:"restartNeeded"`
	InstalledVersion string `json:"installedVersion"`
	CanManage        bool   `json:"canManage"`

	// For administrators.
	Highest       string `json:"highest"`
	Repository    string `json:"repository"`
	Pin           string `json:"pin"`
	Policy        string `json:"policy"`
	LastRefreshed string `json:"lastRefreshed"` // RFC 3339; "": never
	Expires       string `json:"expires"`
	Expired       bool   `json:"expired"`
	LastCheck     string `json:"lastCheck"`
	Checking      bool   `json:"checking"`
	LastError     string `json:"lastError"` // the last check's or install's plain message
	Incident      string `json:"incident"`  // matches the log line holding its detail
}

// updater is the app's update state and its watcher.
type updater struct {
	run sync.Mutex // one check or install at a time

	mu        sync.Mutex
	available update.Available
	installed *client.Installed
	lastCheck time.Time
	next      time.Time // the watcher's next check; zero: at once
	checking  bool      // a check or install runs
	pending   bool      // the watcher was asked for a check it has not begun
	idle      bool      // no repository is set: the watcher waits for a kick (and reads no clock)
	lastErr   *Problem

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

func (a *App) stateDir() string { return filepath.Join(a.cfg.DataDir, "update") }

// startUpdates starts the watcher: it checks as soon as a vault is open
// (at start, or after the passphrase), then daily by the app's clock, so
// a clock moved forward (the harness's /test/clock) brings the next check.
func (a *App) startUpdates() {
	u := &a.updates
	if u.stop != nil {
		return
	}
	u.kick, u.stop, u.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	poll := a.cfg.Updates.Poll
	if poll <= 0 {
		poll = time.Second
	}
	go a.watchUpdates(poll)
}

// stopUpdates stops the watcher, cancelling a check in flight.
func (a *App) stopUpdates() {
	u := &a.updates
	if u.stop == nil {
		return
	}
	select {
	case <-u.stop:
	default:
		close(u.stop)
	}
	<-u.done
}

func (a *App) watchUpdates(poll time.Duration) {
	u := &a.updates
	defer close(u.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-u.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	kicked := false
	for {
		u.mu.Lock()
		idle, next := u.idle, u.next
		u.mu.Unlock()
		if kicked || (!idle && (next.IsZero() || !a.cfg.Now().Before(next))) {
			kicked = false
			a.updateCycle(ctx, nil)
		}
		select {
		case <-u.stop:
			return
		case <-u.kick:
			kicked = true
		case <-tick.C:
		}
	}
}

// kickUpdates asks the watcher for a check now.
func (a *App) kickUpdates() {
	u := &a.updates
	if u.kick == nil {
		return // not started (the app was never started)
	}
	u.mu.Lock()
	u.pending = true
	u.mu.Unlock()
	select {
	case u.kick <- struct{}{}:
	default:
	}
}

func (a *App) openServices() *clinic.Services {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.svc
}

// errNoRepository: no repository is set; nothing is checked.
var errNoRepository = ehr.Errorf(ehr.EConflict, "No update repository is set. An administrator sets one under Administration, Updates.")

// updateCycle is one check, and under auto-security the install of a
// security release. by is the user who asked (nil: the watcher). It
// records what it found for UpdateStatus and returns the check's error.
func (a *App) updateCycle(ctx context.Context, by *call) error {
	u := &a.updates
	u.run.Lock()
	defer u.run.Unlock()
	u.mu.Lock()
	u.checking, u.pending = true, false
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		u.checking = false
		u.mu.Unlock()
	}()
	svc := a.openServices()
	if svc == nil {
		return ehr.Errorf(ehr.ESession, "Please sign in.") // no vault open yet: the watcher tries again at its next look
	}
	st, err := loadUpdateSettings(ctx, svc.Vault.R)
	if err == nil && st.Repository == "" {
		u.mu.Lock()
		u.idle, u.available, u.lastErr, u.lastCheck = true, update.Available{}, nil, time.Time{}
		u.mu.Unlock()
		return errNoRepository
	}
	u.mu.Lock()
	u.idle = false
	u.mu.Unlock()
	now := a.cfg.Now()
	var c *client.Client
	if err == nil {
		c, err = a.updateClient(st)
	}
	if err != nil {
		a.recordCheck(now, update.Available{}, err, "check")
		return err
	}
	found, err := c.Check(ctx)
	if ctx.Err() != nil {
		return ctx.Err() // stopping: nothing to record
	}
	a.recordCheck(now, found, err, "check")
	if err != nil {
		return err
	}
	if policy, _ := update.ParsePolicy(st.Policy); policy.AutoInstall(found) {
		if _, err := a.install(ctx, svc, c, found, by, "installed automatically (policy auto-security)"); err != nil {
			u.mu.Lock()
			u.next = now.Add(updateRetry)
			u.mu.Unlock()
			return err
		}
	}
	return nil
}

// recordCheck keeps what a check found and schedules the next one: daily,
// or in an hour after a failure.
func (a *App) recordCheck(now time.Time, found update.Available, err error, method string) {
	u := &a.updates
	var p *Problem
	if err != nil {
		p = a.updateProblem(method, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lastErr, u.lastCheck = p, now
	if err != nil {
		// Nothing is offered from a repository that could not be verified.
		u.available, u.next = update.Available{}, now.Add(updateRetry)
		return
	}
	u.available, u.next = found, now.Add(update.CheckInterval)
}

// install applies a checked release, records it (the restart is due) and
// audits it.
func (a *App) install(ctx context.Context, svc *clinic.Services, c *client.Client, rel update.Available, by *call, how string) (client.Installed, error) {
	ev := audit.Event{Username: "update", Roles: []string{}, Action: "update.install", RecordID: rel.Version.String()}
	if by != nil {
		ev.Username, ev.Roles, ev.Session = by.actor.Username, by.actor.Roles, by.actor.Session
	}
	inst, err := c.Apply(ctx, rel)
	u := &a.updates
	if err != nil {
		p := a.updateProblem("install", err)
		u.mu.Lock()
		u.lastErr = p
		u.mu.Unlock()
		ev.Outcome, ev.Detail = audit.Failure, fmt.Sprintf("release %s not installed: %s (incident %s)", rel.Version, p.Message, p.Incident)
		if aerr := svc.Audit.Record(ctx, svc.Vault.W, ev); aerr != nil {
			a.cfg.Log.Error("audit of a failed update", "cause", aerr.Error())
		}
		return client.Installed{}, p
	}
	u.mu.Lock()
	u.installed, u.available, u.lastErr = &inst, update.Available{}, nil
	u.mu.Unlock()
	kind := "release"
	if rel.Security {
		kind = "security release"
	}
	a.cfg.Log.Warn("update installed: restart Outpost to run it", "version", inst.Version.String(), "previous", inst.Previous)
	ev.Outcome, ev.Detail = audit.Success, fmt.Sprintf("%s %s %s over %s; it runs after a restart", kind, rel.Version, how, a.cfg.Version)
	if err := svc.Audit.Record(ctx, svc.Vault.W, ev); err != nil {
		return inst, err
	}
	return inst, nil
}

// updateClient makes the update client for the settings.
func (a *App) updateClient(st UpdateSettings) (*client.Client, error) {
	var opts source.Options
	if st.Pin != "" {
		pin, err := source.ParsePin(st.Pin)
		if err != nil {
			return nil, fmt.Errorf("update pin: %w", err)
		}
		opts.Pin = pin
	}
	src, err := source.Parse(st.Repository, opts)
	if err != nil {
		return nil, fmt.Errorf("update repository: %w", err)
	}
	cfg := a.cfg.Updates
	product := cfg.Product
	if product == "" {
		product = "outpost"
	}
	return client.New(client.Config{Source: src, StateDir: a.stateDir(), Root: cfg.Root, Product: product,
		Platform: cfg.Platform, Running: a.cfg.Version, Target: cfg.Target, Now: a.cfg.Now})
}

// updateProblem turns a check's or an install's error into a plain
// message (never a path, a key or go-tuf's detail, which go to the log
// under the incident id).
func (a *App) updateProblem(method string, err error) *Problem {
	var msg string
	switch {
	case errors.Is(err, update.ErrRollbackFailed):
		msg = "The update failed and the previous program could not be put back. Do not close Outpost: tell the administrator now, with the incident number."
	case errors.Is(err, update.ErrNoRoot):
		msg = "This build of Outpost has no trusted update key built in, so it cannot update itself. Install a release build from the administrators."
	case errors.Is(err, update.ErrUnknownVersion):
		msg = "This build of Outpost carries no release version (a development build), so it cannot update itself."
	case errors.Is(err, update.ErrExpired):
		msg = "The update repository's signatures have expired, so updates are refused. The administrators must refresh the repository (outpost-release timestamp); then check again."
	case errors.Is(err, update.ErrUntrusted):
		msg = "The update repository is not signed by this clinic's release keys, so nothing was installed. Check the repository setting; tell the administrators if it is right."
	case errors.Is(err, update.ErrRollback):
		msg = "The update repository offers an older release than this computer already has, so nothing was installed. The administrators must publish a newer release."
	case errors.Is(err, update.ErrMismatch), errors.Is(err, update.ErrTooLarge):
		msg = "A file in the update repository was altered or does not match its signature, so nothing was installed. Tell the administrators."
	case errors.Is(err, update.ErrNoRelease):
		msg = "That release is not in the signed repository for this computer. Check for updates again."
	case errors.Is(err, update.ErrRefused):
		msg = "The update was refused because the repository could not be verified. Nothing was installed."
	case errors.Is(err, fs.ErrPermission) && method == "install":
		msg = "Outpost may not replace its own program file on this computer. Ask the computer's administrator to install the update (outpost-admin update apply), or to run Outpost from a folder it may write."
	case method == "install":
		msg = "The update could not be installed; the program was left as it was. Try again, or tell the administrators with the incident number."
	default:
		msg = "The update repository could not be read. Check that this computer is online or that the USB stick is inserted, then check again."
	}
	return problem(a.cfg.Log, "update "+method, ehr.Wrap(EUpdate, msg, err))
}

// loadUpdateSettings reads the settings; the policy is "ask" until set.
func loadUpdateSettings(ctx context.Context, db *sql.DB) (UpdateSettings, error) {
	rows, err := db.QueryContext(ctx, "SELECT key, value FROM meta WHERE key IN ('update_repository', 'update_pin', 'update_policy')")
	if err != nil {
		return UpdateSettings{}, fmt.Errorf("update settings: %w", err)
	}
	defer rows.Close()
	st := UpdateSettings{Policy: string(update.PolicyAsk)}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return UpdateSettings{}, fmt.Errorf("update settings: %w", err)
		}
		switch k {
		case metaUpdateRepository:
			st.Repository = v
		case metaUpdatePin:
			st.Pin = v
		case metaUpdatePolicy:
			if _, err := update.ParsePolicy(v); err == nil {
				st.Policy = v
			}
		}
	}
	if err := rows.Err(); err != nil {
		return UpdateSettings{}, fmt.Errorf("update settings: %w", err)
	}
	return st, nil
}

// maxRepository bounds the repository setting.
const maxRepository = 2000

// Validate checks and normalises the settings, with field messages.
func (s UpdateSettings) Validate() (UpdateSettings, error) {
	v := ehr.Invalid{}
	out := UpdateSettings{Repository: strings.TrimSpace(s.Repository), Pin: strings.TrimSpace(s.Pin), Policy: strings.TrimSpace(s.Policy)}
	https := strings.HasPrefix(strings.ToLower(out.Repository), "https://")
	switch r := out.Repository; {
	case len(r) > maxRepository || strings.IndexFunc(r, unicode.IsControl) >= 0:
		v.Add("repository", "Enter a shorter address or folder, on one line.")
	case r == "":
	case https:
		u, err := url.Parse(r)
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			v.Add("repository", "Enter the address as https://host/path, without a user name, query or #.")
		} else {
			u.Scheme = "https"
			out.Repository = u.String()
		}
	case strings.Contains(r, "://"):
		v.Add("repository", "Only https:// addresses are accepted (or a folder such as a USB stick).")
	case !filepath.IsAbs(r):
		v.Add("repository", "Enter the folder's full path, e.g. /media/usb/outpost-updates, or an https:// address.")
	default:
		out.Repository = filepath.Clean(r)
	}
	if out.Pin != "" {
		pin, err := source.ParsePin(out.Pin)
		switch {
		case err != nil:
			v.Add("pin", "Enter the certificate's SHA-256 fingerprint: 64 hexadecimal digits, in pairs separated by colons, as outpost-server fingerprint prints it.")
		case !https:
			v.Add("pin", "A certificate fingerprint applies to an https:// repository only; leave it empty for a folder.")
		default:
			out.Pin = outsync.FormatFingerprint(*pin)
		}
	}
	if _, err := update.ParsePolicy(out.Policy); err != nil {
		v.Add("policy", "Choose whether security updates install themselves or wait for an administrator.")
	}
	return out, v.Err()
}

// UpdateStatus reports the running version and an available release to
// any signed-in user; administrators also get the repository, its
// freshness, the policy and the last check's result.
func (a *App) UpdateStatus() (UpdateState, error) {
	c, err := a.begin("UpdateStatus")
	if err != nil {
		return UpdateState{}, err
	}
	return a.updateState(c), nil
}

func (a *App) updateState(c call) UpdateState {
	u := &a.updates
	u.mu.Lock()
	out := UpdateState{Installed: a.cfg.Version, Checking: u.checking || u.pending, LastCheck: rfc3339(u.lastCheck)}
	if av := u.available; av.Found {
		out.Available = &UpdateRelease{Version: av.Version.String(), Security: av.Security, Notes: av.Notes, Size: av.Size}
	}
	if u.installed != nil {
		out.RestartNeeded, out.InstalledVersion = true, u.installed.Version.String()
	}
	if u.lastErr != nil {
		out.LastError, out.Incident = u.lastErr.Message, u.lastErr.Incident
	}
	u.mu.Unlock()
	if !auth.Can(c.sess.User.Roles, auth.PermSettingsManage) {
		out.LastError, out.Incident, out.LastCheck, out.Checking = "", "", "", false
		return out
	}
	out.CanManage = true
	if st, err := loadUpdateSettings(c.ctx, c.svc.Vault.R); err == nil {
		out.Repository, out.Pin, out.Policy = st.Repository, st.Pin, st.Policy
	}
	if fst, err := client.ReadStatus(a.stateDir(), a.cfg.Version, a.cfg.Now()); err == nil {
		out.Highest, out.LastRefreshed, out.Expires, out.Expired = fst.Highest, rfc3339(fst.LastRefreshed), rfc3339(fst.Expires), fst.Expired
	} else {
		a.cfg.Log.Warn("update state unreadable", "cause", err.Error())
	}
	return out
}

// CheckForUpdates checks the repository now (and, under auto-security,
// installs a security release) and returns the state.
func (a *App) CheckForUpdates() (UpdateState, error) {
	c, err := a.begin("CheckForUpdates")
	if err != nil {
		return UpdateState{}, err
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Minute)
	defer cancel()
	if err := a.updateCycle(ctx, &c); errors.Is(err, errNoRepository) {
		return UpdateState{}, problem(a.cfg.Log, "CheckForUpdates", err)
	}
	// A refused or failed check is in the state's lastError.
	return a.updateState(c), nil
}

// InstallUpdate installs the release the last check found, if it is
// version; Outpost must then be restarted to run it.
func (a *App) InstallUpdate(version string) (UpdateState, error) {
	c, err := a.begin("InstallUpdate")
	if err != nil {
		return UpdateState{}, err
	}
	u := &a.updates
	u.run.Lock()
	defer u.run.Unlock()
	u.mu.Lock()
	rel, installed := u.available, u.installed
	u.mu.Unlock()
	switch {
	case installed != nil && !rel.Found:
		return UpdateState{}, problem(a.cfg.Log, "InstallUpdate", ehr.Errorf(ehr.EConflict, "Outpost %s is installed already: restart Outpost to finish.", installed.Version))
	case !rel.Found || rel.Version.String() != strings.TrimSpace(version):
		return UpdateState{}, problem(a.cfg.Log, "InstallUpdate", ehr.Errorf(ehr.EConflict, "That release is not the one available now. Check for updates again."))
	}
	st, err := loadUpdateSettings(c.ctx, c.svc.Vault.R)
	if err != nil {
		return UpdateState{}, problem(a.cfg.Log, "InstallUpdate", err)
	}
	if st.Repository == "" {
		return UpdateState{}, problem(a.cfg.Log, "InstallUpdate", errNoRepository)
	}
	cl, err := a.updateClient(st)
	if err != nil {
		return UpdateState{}, a.updateProblem("install", err)
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Minute)
	defer cancel()
	if _, err := a.install(ctx, c.svc, cl, rel, &c, "installed by an administrator"); err != nil {
		return UpdateState{}, problem(a.cfg.Log, "InstallUpdate", err)
	}
	return a.updateState(c), nil
}

// SetUpdateSettings saves the repository, its pin and the policy
// (audited), forgets what the previous repository offered and has the
// watcher check at once.
func (a *App) SetUpdateSettings(req UpdateSettings) (UpdateState, error) {
	c, err := a.begin("SetUpdateSettings")
	if err != nil {
		return UpdateState{}, err
	}
	st, err := req.Validate()
	if err != nil {
		return UpdateState{}, problem(a.cfg.Log, "SetUpdateSettings", err)
	}
	pin := "no pin"
	if st.Pin != "" {
		pin = "pin " + st.Pin
	}
	repo := st.Repository
	if repo == "" {
		repo = "none (no checks)"
	}
	err = inTx(c.ctx, c.svc.Vault.W, func(tx *sql.Tx) error {
		for _, kv := range [][2]string{{metaUpdateRepository, st.Repository}, {metaUpdatePin, st.Pin}, {metaUpdatePolicy, st.Policy}} {
			if _, err := tx.ExecContext(c.ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", kv[0], kv[1]); err != nil {
				return fmt.Errorf("save update settings: %w", err)
			}
		}
		_, err := c.svc.Audit.Append(c.ctx, tx, audit.Event{Username: c.actor.Username, Roles: c.actor.Roles, Session: c.actor.Session,
			Action: "update.settings", Outcome: audit.Success, Detail: fmt.Sprintf("update repository %s, %s, policy %s", repo, pin, st.Policy)})
		return err
	})
	if err != nil {
		return UpdateState{}, problem(a.cfg.Log, "SetUpdateSettings", err)
	}
	u := &a.updates
	u.mu.Lock()
	u.available, u.lastErr, u.lastCheck = update.Available{}, nil, time.Time{}
	u.mu.Unlock()
	if st.Repository != "" {
		a.kickUpdates()
	}
	return a.updateState(c), nil
}
