package syncserver

import (
	"math"
	"sync"
	"time"
)

// Rate is a token bucket: PerSecond requests on average, Burst at once.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Default limits (S11). A device syncing flat out sends a request every
// 50 ms or so (a push of up to 1,000 versions, or a pull page); a clinic
// behind one address may have dozens of laptops.
var (
	DefaultPerDevice = Rate{PerSecond: 20, Burst: 40}
	DefaultPerIP     = Rate{PerSecond: 100, Burst: 200}
)

// maxBuckets bounds a limiter's memory: when every bucket is in use, new
// keys are refused (fail closed) until idle buckets age out.
const maxBuckets = 100_000

type bucket struct {
	tokens float64
	at     time.Time
}

// limiter keeps one token bucket per key (a device id, an address).
type limiter struct {
	mu      sync.Mutex
	rate    Rate
	now     func() time.Time
	buckets map[string]*bucket
	swept   time.Time
}

func newLimiter(r Rate, now func() time.Time) *limiter {
	return &limiter{rate: r, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket; when there is none it returns
// false and how long until there is one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l.rate.PerSecond <= 0 { // no limit configured
		return true, 0
	}
	burst := float64(max(l.rate.Burst, 1))
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) > time.Minute || len(l.buckets) >= maxBuckets {
		l.sweep(now, burst)
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			return false, time.Second
		}
		b = &bucket{tokens: burst, at: now}
		l.buckets[key] = b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = math.Min(burst, b.tokens+d.Seconds()*l.rate.PerSecond)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate.PerSecond * float64(time.Second))
	return false, wait
}

// sweep drops buckets that have refilled: they hold nothing a new
// bucket would not.
func (l *limiter) sweep(now time.Time, burst float64) {
	full := time.Duration(burst / l.rate.PerSecond * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.at) >= full {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}
