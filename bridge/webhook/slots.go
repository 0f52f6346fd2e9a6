package webhook

import (
	"context"
	"time"
)

// slots bounds the bodies being read or held at once; nil means no bound.
type slots chan struct{}

func newSlots(n int) slots {
	if n <= 0 {
		return nil
	}
	return make(slots, n)
}

// acquire waits up to wait for a slot; false means none came free (or the
// request ended) and the caller must not release.
func (s slots) acquire(ctx context.Context, wait time.Duration) bool {
	if s == nil {
		return true
	}
	select {
	case s <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (s slots) release() {
	if s != nil {
		<-s
	}
}
