package imapsource

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
)

// Leaser is the store's named leases (both stores have them). With several
// instances on one store, one instance at a time holds a folder's lease:
// only it polls the folder and runs its dispositions.
type Leaser interface {
	AcquireLease(ctx context.Context, name string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name string) error
}

// errNotHolder: another instance holds the folder's lease (or this one
// could not confirm it holds it long enough); the holder does the work.
var errNotHolder = fmt.Errorf("mailbox lease not held by this instance: %w", source.ErrNotHere)

// lease is a source's mailbox lease. The lease is named after the source,
// so the store can tell which instance finishes which source's events.
//
// Timing, with step = ttl/5: the holder writes the lease for 4 steps and
// renews it every step; a standby tries every step. A holder that dies
// leaves at most 4 steps of lease, so a standby holds it within the TTL.
// Work on the server (a disposition) needs 2 steps left, so one missed
// renewal changes nothing and a lapsed lease never acts.
type lease struct {
	l    Leaser // nil: a single host; the lease is always held
	name string
	step time.Duration

	mu    sync.Mutex
	until time.Time // local clock; taken before the acquire, so never late
}

func newLease(l Leaser, name string, ttl time.Duration) *lease {
	return &lease{l: l, name: name, step: ttl / 5}
}

// held reports whether the lease is held for at least 2 more steps.
func (l *lease) held() bool {
	if l == nil || l.l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Until(l.until) >= 2*l.step
}

// heldUntil is when the lease lapses at the latest (zero: not held; a
// single host: zero as well, the lease is implicit).
func (l *lease) heldUntil() time.Time {
	if l == nil || l.l == nil {
		return time.Time{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Now().After(l.until) {
		return time.Time{}
	}
	return l.until
}

// acquire takes or renews the lease and reports whether it is held.
func (l *lease) acquire(ctx context.Context) (bool, error) {
	if l.l == nil {
		return true, nil
	}
	// Two steps: a slow database is not a lost lease, and the holder gives
	// up only when 2 steps are left.
	ctx, cancel := context.WithTimeout(ctx, 2*l.step)
	defer cancel()
	start := time.Now()
	ok, err := l.l.AcquireLease(ctx, l.name, 4*l.step)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil:
		return time.Until(l.until) >= 2*l.step, fmt.Errorf("mailbox lease %s: %w", l.name, err)
	case ok:
		l.until = start.Add(4 * l.step)
	default:
		l.until = time.Time{}
	}
	return ok, nil
}

// wait blocks until this instance holds the lease or ctx ends; it returns
// whether the lease is held. standby is called once when another instance
// holds it.
func (l *lease) wait(ctx context.Context, standby func(err error)) bool {
	told := false
	for {
		ok, err := l.acquire(ctx)
		if ok {
			return true
		}
		if !told || err != nil {
			standby(err)
			told = true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(l.step):
		}
	}
}

// keep renews the lease every step until ctx ends; it calls lost and
// returns when another instance took the lease or it could not be renewed
// in time.
func (l *lease) keep(ctx context.Context, lost func(err error)) {
	if l.l == nil {
		return
	}
	t := time.NewTicker(l.step)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := l.acquire(ctx)
		if ctx.Err() != nil {
			return
		}
		if !ok {
			if err == nil {
				err = errNotHolder
			}
			lost(err)
			return
		}
	}
}

// release gives the lease up (a clean stop), so a standby takes over at
// once instead of after the TTL.
func (l *lease) release(ctx context.Context) error {
	if l.l == nil {
		return nil
	}
	l.mu.Lock()
	l.until = time.Time{}
	l.mu.Unlock()
	// Even when not held as far as this instance knows: an acquire cut
	// off by its timeout may have committed all the same.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return l.l.ReleaseLease(ctx, l.name)
}
