package executor

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// Options configures an Executor. Store, RT and Rules are required.
type Options struct {
	Store Store
	RT    RT
	// Rules returns the current planner of an event kind (the daemon swaps
	// the rules on reload; mail goes through the mail guard). A plan
	// already stored is never re-planned by a reload.
	Rules func(kind event.Kind) plan.Planner
	// Finisher returns the source's Finisher by source name, or nil when
	// the source has no disposition to run.
	Finisher func(source string) source.Finisher
	// Workers is how many events run at once (default 1: RT on SQLite
	// gains nothing from more writers).
	Workers int
	// IdempotencyField is rt.idempotency_field: the ticket custom field in
	// which every created ticket records "<event id>/<step>".
	IdempotencyField string
	Backoff          Backoff
	Breaker          BreakerConfig
	// Settle is how long after an attempt started RT may still act on it
	// (RT keeps processing a request its client gave up on): a step of
	// unknown outcome is reconciled no earlier, or reconciling could miss
	// what RT is about to commit and send it twice. Default
	// SettleFor(30s); the daemon uses SettleFor(rt.timeout).
	Settle time.Duration
	// Gateway is RT's own mail gateway, for gateway steps (deliver:
	// gateway); nil when no source delivers that way.
	Gateway Gateway
	// Lease is how long a running event is not picked again (should this
	// process hang mid-step); default 10 minutes.
	Lease time.Duration
	// Poll is the longest the scheduler sleeps without a wake (an operator
	// retry from another process is noticed within it); default 2s.
	Poll    time.Duration
	Logger  *slog.Logger
	Metrics Metrics
	Now     func() time.Time
}

// Executor runs stored events; see the package comment.
type Executor struct {
	o       Options
	log     *slog.Logger
	m       Metrics
	br      *breaker
	brDirty atomic.Bool           // breaker state changed since last written to the store
	rtc     atomic.Pointer[rtBox] // the latest SetRT; nil: Options.RT

	mu         sync.Mutex
	inflight   map[string][]string // event id → keys it holds
	heldByKey  map[string]int      // key → in-flight events holding it
	keyCache   map[string][]string // unplanned event id → keys from the planner's Keys
	finishKick chan struct{}
	doneCh     chan string
}

// New checks the options and returns an executor; Run starts it.
func New(o Options) (*Executor, error) {
	if o.Store == nil || o.RT == nil || o.Rules == nil {
		return nil, errors.New("executor: Store, RT and Rules are required")
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Settle <= 0 {
		o.Settle = SettleFor(30 * time.Second)
	}
	if o.Lease <= 0 {
		o.Lease = 10 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = nopMetrics{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Finisher == nil {
		o.Finisher = func(string) source.Finisher { return nil }
	}
	o.Backoff = o.Backoff.withDefaults()
	x := &Executor{
		o: o, log: o.Logger, m: o.Metrics,
		inflight:   map[string][]string{},
		heldByKey:  map[string]int{},
		keyCache:   map[string][]string{},
		finishKick: make(chan struct{}, 1),
		doneCh:     make(chan string, o.Workers),
	}
	x.br = newBreaker(o.Breaker, func(s string) {
		x.m.Breaker(s == BreakerOpen)
		x.brDirty.Store(true)
		x.log.Warn("RT circuit breaker "+s, "breaker", s)
	})
	return x, nil
}

// SettleFor is Options.Settle for an RT request timeout: the timeout plus
// as much again (at least 10s) for a request RT was still working on when
// the client gave up.
func SettleFor(rtTimeout time.Duration) time.Duration {
	return rtTimeout + max(rtTimeout, 10*time.Second)
}

// BreakerState returns "closed", "open" or "half-open".
func (x *Executor) BreakerState() string { return x.br.current() }

// InFlight returns how many events are being worked on now.
func (x *Executor) InFlight() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.inflight)
}

// Run works until ctx ends, then waits for in-flight events: a step in
// progress finishes (its RT call gets the cancelled context, which the
// store records as an unknown outcome to reconcile on the next start).
// Call it once per process; it first recovers events a crash left running.
func (x *Executor) Run(ctx context.Context) error {
	if n, err := x.o.Store.RecoverRunning(ctx); err != nil {
		return err
	} else if n > 0 {
		x.log.Info("resuming events interrupted by a stop or crash", "events", n)
	}
	x.o.Store.SetInfo(ctx, "breaker", x.br.current())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		x.finishLoop(ctx)
	}()
	x.kickFinish()
	for {
		wait := x.dispatch(ctx, &wg)
		if x.brDirty.Swap(false) {
			if err := x.o.Store.SetInfo(context.WithoutCancel(ctx), "breaker", x.br.current()); err != nil {
				x.log.Warn("record breaker state", "err", err)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			wg.Wait()
			return nil
		case <-x.o.Store.Wake():
		case <-x.doneCh:
		case <-t.C:
		}
		t.Stop()
	}
}

// dispatch starts every runnable event it may, and returns how long to
// sleep before looking again.
func (x *Executor) dispatch(ctx context.Context, wg *sync.WaitGroup) time.Duration {
	now := x.o.Now()
	wait := x.o.Poll
	x.mu.Lock()
	free := x.o.Workers - len(x.inflight)
	x.mu.Unlock()
	if free <= 0 {
		return wait
	}
	if h := x.br.holding(now); h > 0 {
		return min(wait, max(h, 10*time.Millisecond))
	}
	limit := 256
	work, err := x.o.Store.Runnable(ctx, now, limit)
	if err != nil {
		if ctx.Err() == nil {
			x.log.Error("list runnable events", "err", err)
		}
		return wait
	}
	fresh := x.prepare(ctx, work, len(work) < limit)
	held, err := x.o.Store.HeldKeys(ctx, x.candidateKeys(work))
	if err != nil {
		if ctx.Err() == nil {
			x.log.Error("list held keys", "err", err)
		}
		return wait
	}
	taken := map[string]bool{} // keys claimed by an earlier event of this pass
	remote := false            // a due event waits for another instance
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, w := range work {
		if _, busy := x.inflight[w.ID]; busy {
			continue
		}
		keys := x.keysOf(w)
		blocked := false
		for _, k := range keys {
			if x.heldByKey[k] > 0 || taken[k] {
				blocked = true
			} else if held[k] != "" && held[k] < w.ID {
				blocked, remote = true, true
			}
			taken[k] = true
		}
		if blocked {
			continue
		}
		ok, probe, brWait := x.br.allow(now)
		if !ok {
			return min(wait, max(brWait, 10*time.Millisecond))
		}
		if !x.claim(ctx, w.ID, keys) {
			if probe {
				x.br.release()
			}
			remote = true
			continue
		}
		x.inflight[w.ID] = keys
		for _, k := range keys {
			x.heldByKey[k]++
		}
		wg.Add(1)
		go func(id string, pre *loaded, probe bool) {
			defer wg.Done()
			x.work(ctx, id, pre, probe)
			x.release(ctx, id)
			x.mu.Lock()
			for _, k := range x.inflight[id] {
				if x.heldByKey[k]--; x.heldByKey[k] <= 0 {
					delete(x.heldByKey, k)
				}
			}
			delete(x.inflight, id)
			delete(x.keyCache, id)
			x.mu.Unlock()
			select { // a wake for the scheduler; one pending is enough
			case x.doneCh <- id:
			default:
			}
		}(w.ID, fresh[w.ID], probe)
		if free--; free == 0 {
			return wait
		}
	}
	if len(work) == limit {
		return wait
	}
	if next, err := x.o.Store.NextDue(ctx); err == nil && !next.IsZero() {
		switch d := next.Sub(now); {
		case d > 0:
			wait = min(wait, max(d, 5*time.Millisecond))
		case remote:
			// Another instance holds a key (or the event): nothing here
			// wakes this loop when it lets go, so look again soon.
			wait = min(wait, remotePoll)
		default:
			// Every due event is running here or waits behind one that
			// is: its worker's end wakes the loop (doneCh). Polling
			// every few milliseconds meanwhile only burnt CPU.
		}
	}
	return wait
}

// keysOf is an event's keys: its stored plan's, or for an event not
// planned yet the keys prepare found. x.mu is held.
func (x *Executor) keysOf(w store.Work) []string {
	if w.Planned {
		return w.Keys
	}
	return x.keyCache[w.ID]
}

// candidateKeys is every key of work.
func (x *Executor) candidateKeys(work []store.Work) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, w := range work {
		for _, k := range x.keysOf(w) {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// remotePoll is how often the scheduler looks again for an event that
// waits for another instance's key, which sends this one no wake.
const remotePoll = 100 * time.Millisecond

// loaded is an event decoded by the scheduler to learn its keys, handed to
// the worker that runs it in the same pass, so one attempt decodes once.
type loaded struct {
	ev  *event.Event
	se  *store.Event
	err error
}

// prepare decodes the unplanned events of work whose keys are not known
// yet, outside the scheduler's lock, and caches their keys (an event that
// cannot be decoded has none: its worker dead-letters it). An event that
// must wait keeps only its keys and is decoded again when it runs. When
// work is every runnable event (complete), keys of events not in it are
// dropped.
func (x *Executor) prepare(ctx context.Context, work []store.Work, complete bool) map[string]*loaded {
	x.mu.Lock()
	if complete {
		// An event no longer runnable here (done, or run by another
		// instance on a shared store) never reaches our worker's cleanup.
		listed := make(map[string]bool, len(work))
		for _, w := range work {
			listed[w.ID] = true
		}
		for id := range x.keyCache {
			if _, busy := x.inflight[id]; !busy && !listed[id] {
				delete(x.keyCache, id)
			}
		}
	}
	var todo []string
	for _, w := range work {
		_, busy := x.inflight[w.ID]
		if _, known := x.keyCache[w.ID]; !w.Planned && !busy && !known {
			todo = append(todo, w.ID)
		}
	}
	x.mu.Unlock()
	out := make(map[string]*loaded, len(todo))
	for _, id := range todo {
		l := &loaded{}
		l.ev, l.se, l.err = x.load(ctx, id)
		var keys []string
		if l.err == nil {
			keys, _ = keysSafely(x.o.Rules(l.ev.Kind), l.ev) // an error (or panic) shows again when planning
		}
		var pe *parseError
		if l.err == nil || errors.As(l.err, &pe) { // a storage failure is tried again
			x.mu.Lock()
			x.keyCache[id] = keys
			x.mu.Unlock()
		}
		out[id] = l
	}
	return out
}
