package sync

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	gosync "sync"
	"time"
)

// The background sync of an open, enrolled vault: a sync at start, every
// Every, Debounce after local changes, and whenever Kick asks; after a
// failure the next attempt waits Backoff (jitter, Retry-After). One sync
// runs at a time (the loop's goroutine is the only one that syncs).
//
// The loop reads its clock (Now) each time it wakes (every Poll of real
// time), so an injected clock moved forward — the test harness's
// /test/clock — makes the periodic sync come due without waiting.

// Step is work done after each successful sync, in order: audit shipping
// and the registration of sessions with the server are wired here.
type Step struct {
	Name string
	Run  func(ctx context.Context) error
}

// State is what the loop tells the status bar. It holds no patient data.
type State struct {
	Online      bool
	Syncing     bool
	Phase       string // "" | "push" | "pull" | "audit"
	Done, Total int64  // pull progress
	LastSync    time.Time
	LastAttempt time.Time
	NextAttempt time.Time
	ErrCode     string // "" after a success
	ErrMessage  string
	Incident    string // matches the log line holding the detail
	Failures    int    // in a row
	Pending     int    // versions in the outbox
	Conflicts   int    // records with more than one head (Counts decides which)
	Erased      bool   // the server said to erase this laptop
	Attempts    int    // syncs tried since the loop started
	Kicks       int    // syncs asked for by Kick
	Served      int    // Kicks asked before the last finished sync began
}

// Loop is the background sync of one open vault.
type Loop struct {
	Client *Client
	// Sync runs one sync; nil: Client.Sync (tests stand in for it).
	Sync     func(ctx context.Context) (Result, error)
	Now      func() time.Time
	Every    time.Duration                        // zero: 2 minutes
	Debounce time.Duration                        // zero: 10 seconds
	Poll     time.Duration                        // real time between looks at the clock; zero: 1 second
	Backoff  func(n int, err error) time.Duration // nil: Backoff
	// Changes returns a number that grows with every write to the vault
	// (the newest version's local sequence number): cheap, so it is read
	// at every wake; the counts are read again only when it moves.
	Changes func(ctx context.Context) (int64, error)
	// Counts returns the outbox size and the number of conflicts shown.
	Counts func(ctx context.Context) (pending, conflicts int, err error)
	// AfterSync runs after each successful sync (phase "audit").
	AfterSync []Step
	// OnErase is called, once the loop has stopped, when the server said
	// this laptop was revoked and must erase its vault.
	OnErase func()
	Log     *slog.Logger

	mu       gosync.Mutex
	state    State
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce gosync.Once
}

func (l *Loop) defaults() {
	if l.Now == nil {
		l.Now = time.Now
	}
	if l.Every == 0 {
		l.Every = 2 * time.Minute
	}
	if l.Debounce == 0 {
		l.Debounce = 10 * time.Second
	}
	if l.Poll == 0 {
		l.Poll = time.Second
	}
	if l.Backoff == nil {
		l.Backoff = Backoff
	}
	if l.Log == nil {
		l.Log = slog.New(slog.DiscardHandler)
	}
	if l.Sync == nil {
		l.Sync = l.Client.Sync
	}
}

// Start starts the loop; its first sync is due at once.
func (l *Loop) Start() {
	l.defaults()
	l.kick, l.stop, l.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	l.mu.Lock()
	l.state.NextAttempt = l.Now()
	l.mu.Unlock()
	if l.Client != nil {
		l.Client.Progress = func(done, total int64) {
			l.mu.Lock()
			l.state.Phase, l.state.Done, l.state.Total = "pull", done, total
			l.mu.Unlock()
		}
	}
	go l.run()
}

// Stop stops the loop, cancelling a sync in flight, and waits for it.
func (l *Loop) Stop() {
	if l.stop == nil {
		return
	}
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

// Kick asks for a sync now unless one runs; it returns at once.
func (l *Loop) Kick() {
	l.mu.Lock()
	if !l.state.Erased {
		l.state.Syncing = true
		l.state.Kicks++
	}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// State returns the loop's state.
func (l *Loop) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

func (l *Loop) run() {
	erase := l.loop()
	close(l.done)
	if erase && l.OnErase != nil {
		l.OnErase()
	}
}

// loop runs until Stop, or until the server says to erase (true).
func (l *Loop) loop() bool {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	tick := time.NewTicker(l.Poll)
	defer tick.Stop()
	mark := int64(-1)
	var changedAt time.Time
	kicked := false
	// The counts (the outbox, the conflicts) cost a scan: they are read
	// again when the vault changed, at most every countEvery wakes.
	const countEvery = 5
	dirty, sinceCount := true, countEvery
	for {
		now := l.Now()
		if m, err := l.changes(ctx); err == nil && m != mark {
			if mark >= 0 {
				changedAt = now
			}
			mark, dirty = m, true
		}
		if sinceCount++; dirty && sinceCount >= countEvery {
			l.count(ctx)
			dirty, sinceCount = false, 0
		}
		st := l.State()
		due := kicked || !now.Before(st.NextAttempt) ||
			(!changedAt.IsZero() && st.Failures == 0 && st.Pending > 0 && now.Sub(changedAt) >= l.Debounce)
		if due {
			kicked, changedAt = false, time.Time{}
			if l.once(ctx) {
				return true
			}
			if ctx.Err() != nil {
				return false
			}
			// What the sync itself wrote (pulled versions) is no local
			// change; what was written while it ran is.
			if m, err := l.changes(ctx); err == nil {
				mark = m
			}
			l.count(ctx)
			dirty, sinceCount = false, 0
			if l.State().Pending > 0 {
				changedAt = l.Now()
			}
		}
		select {
		case <-l.stop:
			return false
		case <-tick.C:
		case <-l.kick:
			kicked = true
		}
	}
}

func (l *Loop) changes(ctx context.Context) (int64, error) {
	if l.Changes == nil {
		return 0, nil
	}
	return l.Changes(ctx)
}

func (l *Loop) count(ctx context.Context) {
	if l.Counts == nil {
		return
	}
	p, c, err := l.Counts(ctx)
	if err != nil {
		if ctx.Err() == nil {
			l.Log.Warn("sync counts", "cause", err.Error())
		}
		return
	}
	l.mu.Lock()
	l.state.Pending, l.state.Conflicts = p, c
	l.mu.Unlock()
}

// once runs one sync and its after-sync steps, and records the outcome.
// It reports whether the laptop must be erased.
func (l *Loop) once(ctx context.Context) bool {
	start := l.Now()
	l.mu.Lock()
	l.state.Syncing, l.state.Phase, l.state.Done, l.state.Total, l.state.LastAttempt = true, "push", 0, 0, start
	kicks := l.state.Kicks
	l.mu.Unlock()
	res, err := l.Sync(ctx)
	var stepErr error
	if err == nil {
		for _, s := range l.AfterSync {
			l.mu.Lock()
			l.state.Phase = "audit"
			l.mu.Unlock()
			if e := s.Run(ctx); e != nil {
				stepErr = e
				l.Log.Warn("after-sync step failed", "step", s.Name, "cause", e.Error())
				break
			}
		}
	}
	now := l.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := &l.state
	st.Syncing, st.Phase = false, ""
	st.Attempts++
	if ctx.Err() == nil {
		st.Served = kicks
	}
	switch {
	case errors.Is(err, ErrErase):
		st.Erased, st.Online = true, true
		st.ErrCode, st.ErrMessage = Explain(err)
		st.NextAttempt = time.Time{}
		l.Log.Warn("sync: the server revoked this laptop; erasing its vault")
		return true
	case err != nil && ctx.Err() != nil:
		return false // stopped
	case err != nil:
		st.Failures++
		st.ErrCode, st.ErrMessage = Explain(err)
		st.Incident = newIncident()
		st.Online = reachedServer(err)
		st.NextAttempt = now.Add(l.Backoff(st.Failures-1, err))
		l.Log.Warn("sync failed", "code", st.ErrCode, "incident", st.Incident, "attempt", st.Failures, "cause", err.Error())
	default:
		st.Online, st.LastSync, st.Failures = true, now, 0
		st.ErrCode, st.ErrMessage, st.Incident = "", "", ""
		if stepErr != nil {
			st.ErrCode, st.ErrMessage = Explain(stepErr)
			st.Incident = newIncident()
			l.Log.Warn("after-sync step failed", "code", st.ErrCode, "incident", st.Incident, "cause", stepErr.Error())
		}
		st.NextAttempt = now.Add(l.Every)
		l.Log.Info("sync done", "pushed", res.Pushed, "pulled", res.Pulled, "conflicts", res.Conflicts, "cursor", res.Cursor,
			"blobs_sent", res.BlobsSent, "blobs_fetched", res.BlobsFetched, "blobs_waiting", res.BlobsWaiting)
	}
	return false
}

// reachedServer reports whether a failure came from the server (it was
// reached) rather than from the network.
func reachedServer(err error) bool {
	code, _ := Explain(err)
	return code != EOffline && code != ECertificate
}

const incidentAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newIncident is an id like the app's (4+4 Crockford characters) that
// ties a status message to its log line.
func newIncident() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "00000000"
	}
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, incidentAlphabet[int(c)%len(incidentAlphabet)])
	}
	return string(out)
}
