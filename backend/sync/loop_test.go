package sync_test

import (
	"context"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"outpost/backend/sync"
	"outpost/backend/syncproto"
)

// clock is a settable clock shared with the loop's goroutine.
type clock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeLaptop stands in for the vault and the server: a write counter, an
// outbox, and a sync whose answer the test sets.
type fakeLaptop struct {
	writes  atomic.Int64
	pending atomic.Int64
	syncs   atomic.Int64
	mu      gosync.Mutex
	err     error // what the next sync returns
}

func (f *fakeLaptop) fail(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeLaptop) loop(c *clock) *sync.Loop {
	return &sync.Loop{Now: c.Now, Poll: time.Millisecond,
		Backoff: func(n int, err error) time.Duration { return sync.Backoff(n, err) },
		Sync: func(ctx context.Context) (sync.Result, error) {
			f.syncs.Add(1)
			f.mu.Lock()
			err := f.err
			f.mu.Unlock()
			if err != nil {
				return sync.Result{}, err
			}
			f.pending.Store(0)
			return sync.Result{}, nil
		},
		Changes: func(context.Context) (int64, error) { return f.writes.Load(), nil },
		Counts:  func(context.Context) (int, int, error) { return int(f.pending.Load()), 0, nil },
	}
}

func (f *fakeLaptop) write() { f.pending.Add(1); f.writes.Add(1) }

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// idle lets the loop wake a few times without the clock moving.
func idle() { time.Sleep(30 * time.Millisecond) }

// A sync at start; after a local write, a sync only once the write is
// 10 s old on the loop's clock; then every 2 minutes.
func TestLoopSchedule(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	f := &fakeLaptop{}
	l := f.loop(c)
	l.Start()
	defer l.Stop()
	eventually(t, "the sync at start", func() bool { return f.syncs.Load() == 1 && !l.State().Syncing })
	f.write()
	eventually(t, "the pending count", func() bool { return l.State().Pending == 1 })
	c.Add(9 * time.Second)
	idle()
	if got := f.syncs.Load(); got != 1 {
		t.Fatalf("synced %d times before the debounce ended", got)
	}
	c.Add(2 * time.Second)
	eventually(t, "the debounced sync", func() bool { return f.syncs.Load() == 2 && l.State().Pending == 0 })
	next := l.State().NextAttempt
	if want := c.Now().Add(2 * time.Minute); !next.Equal(want) {
		t.Errorf("next attempt %v, want %v", next, want)
	}
	c.Add(119 * time.Second)
	idle()
	if got := f.syncs.Load(); got != 2 {
		t.Fatalf("synced before two minutes: %d", got)
	}
	c.Add(time.Second)
	eventually(t, "the periodic sync", func() bool { return f.syncs.Load() == 3 })
	// Kick syncs at once, whatever the schedule.
	l.Kick()
	eventually(t, "the kicked sync", func() bool { s := l.State(); return f.syncs.Load() == 4 && s.Served == s.Kicks && !s.Syncing })
}

// After a failure the next attempt waits the backoff, at least the
// server's Retry-After; local writes do not cut the wait short; a
// success clears the error.
func TestLoopBackoff(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	f := &fakeLaptop{}
	f.fail(&syncproto.Error{Code: syncproto.CodeRateLimited, RetryAfter: 90 * time.Second})
	l := f.loop(c)
	l.Start()
	defer l.Stop()
	eventually(t, "the failed sync", func() bool { return l.State().Failures == 1 })
	s := l.State()
	if s.ErrCode != sync.EServer || s.Incident == "" || !s.Online || s.NextAttempt.Sub(c.Now()) < 90*time.Second {
		t.Fatalf("after a refusal: %+v", s)
	}
	f.write()
	c.Add(30 * time.Second)
	idle()
	if got := f.syncs.Load(); got != 1 {
		t.Fatalf("retried during the backoff: %d syncs", got)
	}
	f.fail(nil)
	c.Add(61 * time.Second)
	eventually(t, "the retry", func() bool { return l.State().Failures == 0 && l.State().ErrCode == "" })
}

// Told to erase, the loop stops and calls OnErase once.
func TestLoopErase(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	f := &fakeLaptop{}
	f.fail(sync.ErrErase)
	var erased atomic.Int64
	l := f.loop(c)
	l.OnErase = func() { erased.Add(1); l.Stop() }
	l.Start()
	eventually(t, "the erase", func() bool { return erased.Load() == 1 })
	if s := l.State(); !s.Erased || s.ErrCode != sync.ERevoked {
		t.Errorf("state %+v", s)
	}
	c.Add(time.Hour)
	l.Kick()
	idle()
	if f.syncs.Load() != 1 || erased.Load() != 1 {
		t.Errorf("the loop went on after the erase: %d syncs, %d erases", f.syncs.Load(), erased.Load())
	}
	l.Stop()
}

// Stop cancels a sync in flight and returns.
func TestLoopStopCancels(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	started := make(chan struct{})
	l := &sync.Loop{Now: c.Now, Poll: time.Millisecond, Sync: func(ctx context.Context) (sync.Result, error) {
		close(started)
		<-ctx.Done()
		return sync.Result{}, ctx.Err()
	}}
	l.Start()
	<-started
	done := make(chan struct{})
	go func() { l.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not cancel the sync")
	}
	if s := l.State(); s.ErrCode != "" || s.Failures != 0 {
		t.Errorf("a cancelled sync counts as a failure: %+v", s)
	}
}
