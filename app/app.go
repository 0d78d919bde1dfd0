// Package app is the boundary between the desktop window and the backend:
// every exported method of App is bound to the UI by Wails. It holds the
// sign-in session, checks it on every call, and turns errors into
// Problems that are safe to show. It is the only package that imports
// Wails.
package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"outpost/backend/auth"
	"outpost/backend/clinic"
	outsync "outpost/backend/sync"
	"outpost/backend/vault"
)

// Config wires an App. Time, randomness and the keyring are injected so
// tests can fix them.
type Config struct {
	DataDir     string
	Keyring     vault.Keyring
	Now         func() time.Time
	Rand        io.Reader
	Version     string
	Workstation string
	Log         *slog.Logger
	Argon2      vault.Argon2Params // passphrase key files; zero: vault.DefaultArgon2
	Passwords   auth.Params        // password hashes; zero: auth.DefaultParams
	// OnReady is called when the UI reports its first screen rendered.
	OnReady func(screen string)
	// Save writes a copy outside the vault where the user chooses; nil:
	// the window's native save dialog.
	Save Saver
	// SyncPoll is how often (real time) the background sync looks at the
	// clock and the outbox; zero: every second.
	SyncPoll time.Duration
	// Updates wires signed updates (app/update.go); Version is the
	// running release.
	Updates UpdateConfig
}

// Screens the UI can be asked to show.
const (
	ScreenSetup  = "setup"
	ScreenUnlock = "unlock"
	ScreenLogin  = "login"
	ScreenHome   = "home"
	ScreenFatal  = "fatal"
)

// App is bound to the UI. Its zero value is not usable: use New.
type App struct {
	cfg Config

	mu       sync.Mutex
	svc      *clinic.Services // nil until the vault is open
	sid      string           // the window's session id; "" when signed out
	state    string           // one of the Screen constants, before sign-in
	fatal    *Problem         // why the vault cannot be used
	readyOne sync.Once
	wctx     context.Context // the window's context, for its dialogs
	imports  imports         // FHIR imports started from the UI

	loop         *outsync.Loop    // the background sync; nil when not enrolled
	syncSettings outsync.Settings // the loop's enrollment
	joining      joinJob          // a join from an enrollment package (setup screen)
	updates      updater          // signed updates: the watcher and what it found
}

// New returns an App for cfg; Start opens the vault.
func New(cfg Config) *App {
	if cfg.Keyring == nil {
		cfg.Keyring = vault.SystemKeyring{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Passwords == (auth.Params{}) {
		cfg.Passwords = auth.DefaultParams
	}
	if cfg.Workstation == "" {
		cfg.Workstation = "unknown"
	}
	a := &App{cfg: cfg}
	if a.cfg.Save == nil {
		a.cfg.Save = wailsSaver(func() context.Context {
			a.mu.Lock()
			defer a.mu.Unlock()
			return a.wctx
		})
	}
	return a
}

var (
	probeKeyring = vault.ProbeKeyring
	keyringHelp  = vault.KeyringHelp
)

func (a *App) vaultOptions() vault.Options {
	return vault.Options{Dir: a.cfg.DataDir, Keyring: a.cfg.Keyring, Rand: a.cfg.Rand, Now: a.cfg.Now, Argon2: a.cfg.Argon2}
}

// start finds the vault and opens it when its key is in the keyring. It
// decides the first screen: setup, unlock, login, or fatal.
func (a *App) start(ctx context.Context) {
	a.startUpdates() // checks once a vault is open, then daily
	a.mu.Lock()
	defer a.mu.Unlock()
	a.wctx = ctx
	meta, err := vault.ReadMeta(a.cfg.DataDir)
	switch {
	case errors.Is(err, vault.ErrNoVault):
		a.state = ScreenSetup
		return
	case err != nil:
		a.setFatal("start", err)
		return
	case meta.KeyStore == vault.StorePassphrase:
		a.state = ScreenUnlock
		return
	}
	v, err := vault.Open(ctx, a.vaultOptions())
	if err != nil {
		a.setFatal("start", err)
		return
	}
	if err := a.attach(ctx, v); errors.Is(err, errJoinErased) {
		return
	} else if err != nil {
		v.Close()
		a.setFatal("start", err)
		return
	}
	a.state = ScreenLogin
}

func (a *App) setFatal(method string, err error) {
	a.state = ScreenFatal
	a.fatal = problem(a.cfg.Log, method, err)
}

// stop stops the background sync and closes the vault.
func (a *App) stop() {
	a.stopUpdates()
	a.stopSync()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sid = ""
	if a.svc != nil {
		a.svc.Close()
		a.svc = nil
	}
}

// Start opens the vault outside Wails (tests, the test harness). It is a
// function, not a method, so that it is not bound to the UI.
func Start(ctx context.Context, a *App) { a.start(ctx) }

// Stop closes the vault outside Wails.
func Stop(a *App) { a.stop() }
