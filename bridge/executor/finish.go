package executor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
)

func (x *Executor) kickFinish() {
	select {
	case x.finishKick <- struct{}{}:
	default:
	}
}

// finishLoop runs the sources' dispositions for final events that have not
// had theirs. The store remembers each one that ran, so after a crash only
// the missing ones repeat (Finish is idempotent by contract).
func (x *Executor) finishLoop(ctx context.Context) {
	failing := map[string]retryAt{}
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		x.finishPending(ctx, failing)
		select {
		case <-ctx.Done():
			return
		case <-x.finishKick:
		case <-t.C:
		}
	}
}

// retryAt is when a failed disposition is tried again, and the delay that
// gave: it doubles from the loop's 5 s up to a minute, so a folder that
// appears soon (create_folders after a reconnect) is used soon, and one that
// never does costs one try a minute.
type retryAt struct {
	at    time.Time
	delay time.Duration
}

func (r retryAt) next(now time.Time) retryAt {
	d := min(max(2*r.delay, 5*time.Second), time.Minute)
	return retryAt{at: now.Add(d), delay: d}
}

func (x *Executor) finishPending(ctx context.Context, failing map[string]retryAt) {
	evs, err := x.o.Store.Unfinished(ctx, 256)
	if err != nil {
		if ctx.Err() == nil {
			x.log.Error("list events awaiting disposition", "err", err)
		}
		return
	}
	now := x.o.Now()
	for _, e := range evs {
		if ctx.Err() != nil {
			return
		}
		if r, ok := failing[e.ID]; ok && now.Before(r.at) {
			continue
		}
		if f := x.o.Finisher(e.Source); f != nil {
			state, reason := source.State(e.State), e.Reason
			if e.State == store.StateDuplicate {
				reason = "duplicate of " + e.DuplicateOf
				if state, err = x.duplicateOutcome(ctx, e); err != nil {
					x.log.Warn("read the original of a duplicate; will retry", "event", e.ID, "original", e.DuplicateOf, "err", err)
					continue
				}
			}
			err := f.Finish(ctx, source.Final{EventID: e.ID, State: state, Reason: reason, Origin: e.Origin, At: e.UpdatedAt})
			if errors.Is(err, source.ErrNotHere) {
				continue // the lease holder does it; this instance may be next
			}
			if err != nil {
				r := failing[e.ID].next(now)
				failing[e.ID] = r
				x.log.Warn("source disposition failed; will retry", "event", e.ID, "source", e.Source, "retry_in", r.delay, "err", err)
				continue
			}
		}
		delete(failing, e.ID)
		if e.State == store.StateDuplicate {
			x.m.Finished(e.Source, "", "duplicate")
		}
		if err := x.o.Store.MarkFinished(ctx, e.ID); err != nil {
			x.log.Error("record disposition", "event", e.ID, "err", err)
		}
	}
}

// duplicateOutcome is the state a duplicate's disposition follows: that of
// the event it duplicates (the store lists a duplicate only once that one
// is final). A dead-lettered original sends the duplicate to the failure
// folder as well; one no longer stored was final long ago.
func (x *Executor) duplicateOutcome(ctx context.Context, e *store.Event) (source.State, error) {
	if e.DuplicateOf == "" {
		return source.Duplicate, nil
	}
	o, err := x.o.Store.Event(ctx, e.DuplicateOf)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return source.Duplicate, nil
	case err != nil:
		return "", err
	case o.State == store.StateDead || o.State == store.StateDropped:
		return source.Dead, nil
	case !o.State.Final():
		return "", fmt.Errorf("original %s is still %s", o.ID, o.State)
	}
	return source.Duplicate, nil
}
