package rtapi

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds the client's own retries of transient failures within
// one call. Longer waits (an RT outage) are the caller's business: the error
// then carries Kind Transient and RetryAfter.
//
// Backoff is exponential with jitter: attempt n waits a random duration in
// [d/2, d] with d = Initial·2^(n-1), capped at Max. Hand-written (a dozen
// lines) rather than cenkalti/backoff because it must honour Retry-After and
// the caller's deadline in the same decision.
type RetryPolicy struct {
	// Attempts is the total number of tries of one call (1 = no retry).
	// Default 4.
	Attempts int
	// Initial is the first backoff; default 500ms.
	Initial time.Duration
	// Max caps one backoff; default 10s.
	Max time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for itself;
	// a longer one is returned to the caller. Default 30s.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy is what the zero RetryPolicy means.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: 4, Initial: 500 * time.Millisecond, Max: 10 * time.Second, MaxRetryAfter: 30 * time.Second}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.Attempts <= 0 {
		p.Attempts = d.Attempts
	}
	if p.Initial <= 0 {
		p.Initial = d.Initial
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	return p
}

// backoff returns the wait before attempt n+1 after attempt n failed.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.Initial
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	half := d / 2
	return half + rand.N(d-half+1)
}

// wait decides whether another attempt may follow failure e of attempt n and
// sleeps before it. It returns false when the error must be returned: not
// transient, attempts used up, Retry-After too long, or the deadline would
// pass before the next attempt could start.
func (p RetryPolicy) wait(ctx context.Context, n int, e *Error) bool {
	if e.Kind != Transient || n >= p.Attempts {
		return false
	}
	d := p.backoff(n)
	if ra, ok := ParseRetryAfter(e.RetryAfter, time.Now()); ok {
		if ra > p.MaxRetryAfter {
			return false
		}
		d = max(d, ra)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (a past date is 0). ok is false for an empty or unreadable value.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
