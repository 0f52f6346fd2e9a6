package executor

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/rtbridge/rtbridge/rtapi"
)

// Backoff is the retry schedule of a failing step: Base × 2^(n−1), ±20%
// jitter, at least the server's Retry-After, at most Max; after MaxAttempts
// attempts of one step, MaxReconciles failed checks of a step of unknown
// outcome, or once the event is MaxAge old it is dead. Defaults: 30s
// doubling to 1h, 20 attempts (about 13 hours), 10 checks (about 4 hours),
// 3 days.
type Backoff struct {
	Base          time.Duration
	Max           time.Duration
	MaxAttempts   int
	MaxReconciles int
	MaxAge        time.Duration
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = 30 * time.Second
	}
	if b.Max <= 0 {
		b.Max = time.Hour
	}
	if b.MaxAttempts <= 0 {
		b.MaxAttempts = 20
	}
	if b.MaxReconciles <= 0 {
		b.MaxReconciles = 10
	}
	if b.MaxAge <= 0 {
		b.MaxAge = 72 * time.Hour
	}
	return b
}

// delay is the wait after the n-th failed attempt (n ≥ 1). retryAfter is
// RT's (or a proxy's) Retry-After header: seconds or an HTTP date.
func (b Backoff) delay(n int, retryAfter string, now time.Time) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	if ra, ok := rtapi.ParseRetryAfter(retryAfter, now); ok && ra > d {
		d = ra
	}
	return min(d, b.Max)
}

// BreakerConfig: the breaker opens after Threshold consecutive transient
// failures across all workers, pauses dispatching for Cooldown, then lets
// one event through as a probe; its success closes it, its failure reopens
// it. Defaults: 5 failures, 30s.
type BreakerConfig struct {
	Threshold int
	Cooldown  time.Duration
}

// Breaker states.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half-open"
)

type breaker struct {
	cfg      BreakerConfig
	mu       sync.Mutex
	fails    int
	state    string
	openedAt time.Time
	probing  bool
	onChange func(state string)
}

func newBreaker(cfg BreakerConfig, onChange func(string)) *breaker {
	if cfg.Threshold <= 0 {
		cfg.Threshold = 5
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = 30 * time.Second
	}
	return &breaker{cfg: cfg, state: BreakerClosed, onChange: onChange}
}

// allow reports whether an event may be dispatched now; in half-open state
// exactly one (the probe) is allowed until it reports. wait is how long
// until asking again makes sense.
func (b *breaker) allow(now time.Time) (ok, probe bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true, false, 0
	case BreakerOpen:
		if left := b.openedAt.Add(b.cfg.Cooldown).Sub(now); left > 0 {
			return false, false, left
		}
		b.set(BreakerHalfOpen)
	}
	if b.probing {
		return false, false, b.cfg.Cooldown
	}
	b.probing = true
	return true, true, 0
}

// holding says how long no event may start (0: one may now), without
// taking the probe: while the breaker is open the scheduler need not even
// list the backlog, which every accept would otherwise make it do.
func (b *breaker) holding(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.state == BreakerOpen:
		return max(0, b.openedAt.Add(b.cfg.Cooldown).Sub(now))
	case b.state == BreakerHalfOpen && b.probing:
		return b.cfg.Cooldown // the probe's end wakes the scheduler sooner
	}
	return 0
}

// success: RT answered (even with a permanent refusal: it is up).
func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fails, b.probing = 0, false
	if b.state != BreakerClosed {
		b.set(BreakerClosed)
	}
}

// failure: RT was unreachable or overloaded.
func (b *breaker) failure(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fails++
	if b.state == BreakerHalfOpen || (b.state == BreakerClosed && b.fails >= b.cfg.Threshold) {
		b.openedAt, b.probing = now, false
		b.set(BreakerOpen)
	}
}

// release ends a probe that never reached RT (e.g. the event had no step).
func (b *breaker) release() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

func (b *breaker) set(s string) {
	b.state = s
	if b.onChange != nil {
		b.onChange(s)
	}
}

func (b *breaker) current() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}
