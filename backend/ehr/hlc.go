package ehr

import (
	"sync"
	"time"
)

// HLC is a hybrid logical clock reading: Unix milliseconds in the high 48
// bits and a logical counter in the low 16. Readings from one clock always
// increase, even when the wall clock steps back, and they order versions
// made on different devices close to real time.
type HLC int64

const hlcLogicalBits = 16

// MakeHLC returns the reading for wall time t with logical counter n.
func MakeHLC(t time.Time, n uint16) HLC {
	return HLC(t.UnixMilli()<<hlcLogicalBits | int64(n))
}

// Time returns the wall-clock part of h.
func (h HLC) Time() time.Time {
	return time.UnixMilli(int64(h) >> hlcLogicalBits).UTC()
}

// Logical returns the counter part of h.
func (h HLC) Logical() uint16 { return uint16(h & (1<<hlcLogicalBits - 1)) }

// Clock hands out increasing HLC readings. The zero value is not usable:
// construct with NewClock.
type Clock struct {
	mu   sync.Mutex
	now  func() time.Time
	last HLC
}

// NewClock returns a clock that reads wall time from now and never goes
// below last (the highest reading already stored).
func NewClock(now func() time.Time, last HLC) *Clock {
	return &Clock{now: now, last: last}
}

// Now returns a reading later than every earlier one of this clock.
func (c *Clock) Now() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := MakeHLC(c.now(), 0)
	if wall > c.last {
		c.last = wall
	} else {
		c.last++
	}
	return c.last
}

// Observe moves the clock past a reading received from another device.
func (c *Clock) Observe(remote HLC) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if remote > c.last {
		c.last = remote
	}
}
