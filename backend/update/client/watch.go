package client

import (
	"context"
	"time"

	"outpost/backend/update"
)

// Watch is the app's schedule: check at start and then every Interval
// while ctx lives; under PolicyAutoSecurity a security release is applied
// at once, any other release is handed to OnAvailable for the user to
// decide (the app calls Apply when they agree).
type Watch struct {
	Policy      update.Policy
	Interval    time.Duration                        // default update.CheckInterval (daily)
	After       func(time.Duration) <-chan time.Time // timer (default time.After), injected by tests
	OnAvailable func(update.Available)               // an update to show; Security ones prominently
	OnInstalled func(Installed)                      // applied: the app asks for a restart
	OnError     func(error)                          // a failed or refused check (errors.Is update.ErrRefused)
}

// Run blocks until ctx ends.
func (w Watch) Run(ctx context.Context, c *Client) {
	if w.Interval <= 0 {
		w.Interval = update.CheckInterval
	}
	if w.After == nil {
		w.After = time.After
	}
	for {
		w.once(ctx, c)
		select {
		case <-ctx.Done():
			return
		case <-w.After(w.Interval):
		}
	}
}

func (w Watch) once(ctx context.Context, c *Client) {
	a, err := c.Check(ctx)
	if err != nil {
		if w.OnError != nil && ctx.Err() == nil {
			w.OnError(err)
		}
		return
	}
	if !a.Found {
		return
	}
	if w.Policy.AutoInstall(a) {
		inst, err := c.Apply(ctx, a)
		if err == nil {
			if w.OnInstalled != nil {
				w.OnInstalled(inst)
			}
			return
		}
		if w.OnError != nil {
			w.OnError(err)
		}
	}
	if w.OnAvailable != nil {
		w.OnAvailable(a)
	}
}
