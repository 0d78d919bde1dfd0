package syncproto

import (
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// ErrNonceCacheFull: the cache holds its maximum; the request is refused
// (the server answers "unavailable") rather than a nonce forgotten early.
var ErrNonceCacheFull = errors.New("syncproto: nonce cache full")

// DefaultNonceCapacity is the nonces a cache holds at most by default
// (about 40 MB): at the default per-device rate limit, enough for dozens
// of devices sending without pause for the whole window.
const DefaultNonceCapacity = 1 << 20

// NonceCache remembers the nonces of accepted requests long enough that
// a replay is caught: a request is accepted only while its time is within
// the skew of the clock, so a nonce needs keeping for twice the skew
// after it was seen. Two generations of that length are kept and rotated;
// memory is bounded by the capacity.
type NonceCache struct {
	mu        sync.Mutex
	window    time.Duration
	capacity  int
	cur, prev map[[16]byte]struct{}
	rotated   time.Time
}

// NewNonceCache returns a cache for requests within skew of the clock
// (MaxSkew when zero), holding at most capacity nonces
// (DefaultNonceCapacity when zero).
func NewNonceCache(skew time.Duration, capacity int) *NonceCache {
	if skew <= 0 {
		skew = MaxSkew
	}
	if capacity <= 0 {
		capacity = DefaultNonceCapacity
	}
	return &NonceCache{window: 2 * skew, capacity: capacity, cur: map[[16]byte]struct{}{}, prev: map[[16]byte]struct{}{}}
}

// Add records device's nonce seen at now. It returns ErrReplayed when
// the nonce was seen within the window, ErrNonceCacheFull when the cache
// cannot take it.
func (c *NonceCache) Add(device, nonce string, now time.Time) error {
	h := sha256.New()
	h.Write([]byte(device))
	h.Write([]byte{'\n'})
	h.Write([]byte(nonce))
	var key [16]byte
	copy(key[:], h.Sum(nil))

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rotated.IsZero() {
		c.rotated = now
	}
	if d := now.Sub(c.rotated); d >= 2*c.window {
		clear(c.prev)
		clear(c.cur)
		c.rotated = now
	} else if d >= c.window {
		c.prev, c.cur = c.cur, c.prev
		clear(c.cur)
		c.rotated = now
	}
	if _, ok := c.cur[key]; ok {
		return ErrReplayed
	}
	if _, ok := c.prev[key]; ok {
		return ErrReplayed
	}
	if len(c.cur)+len(c.prev) >= c.capacity {
		return ErrNonceCacheFull
	}
	c.cur[key] = struct{}{}
	return nil
}

// Len returns the nonces held.
func (c *NonceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.prev)
}
