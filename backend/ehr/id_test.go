package ehr

import (
	"bytes"
	"testing"
	"time"
)

func TestIDsAreV7AndOrdered(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := &IDs{Now: func() time.Time { return clock }, Rand: bytes.NewReader(bytes.Repeat([]byte{0xff}, 1000))}
	a, err := g.New()
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Millisecond)
	b, _ := g.New()
	if !ValidID(a) || !ValidID(b) {
		t.Fatalf("invalid ids %s %s", a, b)
	}
	if a[14] != '7' || (a[19] != '8' && a[19] != '9' && a[19] != 'a' && a[19] != 'b') {
		t.Errorf("%s is not a version 7, RFC 9562 variant id", a)
	}
	if !(a < b) {
		t.Errorf("ids do not sort by time: %s, %s", a, b)
	}
	if _, err := g.New(); err != nil { // the reader still has bytes
		t.Fatal(err)
	}
	g.Rand = bytes.NewReader(nil)
	if _, err := g.New(); err == nil {
		t.Error("no error when randomness runs out")
	}
}

func TestClockNeverGoesBack(t *testing.T) {
	wall := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := NewClock(func() time.Time { return wall }, 0)
	a := c.Now()
	b := c.Now()
	wall = wall.Add(-time.Hour) // the laptop's clock is set back
	d := c.Now()
	if !(a < b && b < d) {
		t.Fatalf("readings %v %v %v do not increase", a, b, d)
	}
	if got, want := a.Time(), time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("time = %v, want %v", got, want)
	}
	c.Observe(MakeHLC(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 5))
	if e := c.Now(); e.Time().Year() != 2027 || e.Logical() != 6 {
		t.Errorf("after observing a later clock: %v (logical %d)", e.Time(), e.Logical())
	}
}
