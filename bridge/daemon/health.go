package daemon

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// check is one cached check, so a probe answered often stays cheap.
type check struct {
	name string
	ttl  time.Duration
	fn   func(ctx context.Context) error

	mu   sync.Mutex
	at   time.Time
	last error
}

// run returns the cached result, or runs the check when it is older than ttl.
func (c *check) run(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < c.ttl && !c.at.IsZero() {
		return c.last
	}
	c.last = c.fn(ctx)
	c.at = time.Now()
	return c.last
}

// refresh runs the check when its result is older than ttl, unless a run
// is under way; the tick calls it in the background, so a slow RT never
// delays the main loop.
func (c *check) refresh(ctx context.Context) {
	if !c.mu.TryLock() {
		return
	}
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < c.ttl {
		return
	}
	c.last = c.fn(ctx)
	c.at = time.Now()
}

// result is the last result and when it was had (zero: never run).
func (c *check) result() (error, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.at
}

// RTState is the RT probe's last result, in /status: RT's state is shown,
// never a reason to refuse intake.
type RTState struct {
	Up        bool      `json:"up"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

func (d *daemon) rtState() *RTState {
	if d.rtProbe == nil {
		return nil
	}
	err, at := d.rtProbe.result()
	if at.IsZero() {
		return nil
	}
	s := &RTState{Up: err == nil, CheckedAt: at}
	if err != nil {
		s.Error = err.Error()
	}
	return s
}

type readyReport struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"` // name → "ok" or the problem
}

// readiness says whether the daemon can accept: the store takes writes
// and intake is open. RT's state does not count: accepting while RT is
// down is what the durable store is for.
func (d *daemon) readiness(ctx context.Context) readyReport {
	rep := readyReport{Ready: true, Checks: map[string]string{}}
	for _, c := range d.checks {
		if err := c.run(ctx); err != nil {
			rep.Ready = false
			rep.Checks[c.name] = err.Error()
		} else {
			rep.Checks[c.name] = "ok"
		}
	}
	return rep
}

// readinessChecks are /readyz's checks: a store write (the heartbeat) and
// whether intake is open.
func (d *daemon) readinessChecks(intake *atomic.Bool) []*check {
	return []*check{
		{name: "store", ttl: 5 * time.Second, fn: func(ctx context.Context) error {
			return d.st.SetInfo(ctx, "heartbeat", time.Now().UTC().Format(time.RFC3339))
		}},
		{name: "intake", fn: func(context.Context) error {
			if !intake.Load() {
				return errors.New("closed: the daemon is stopping")
			}
			return nil
		}},
	}
}
