package daemon

import (
	"context"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
)

// pruneLoop applies state.retention every state.retention.interval, and
// once shortly after start. The store deletes in short write transactions,
// so accepts keep committing between its batches. A reload's retention
// applies from the next pass.
func (d *daemon) pruneLoop(ctx context.Context) {
	var wait time.Duration // the first pass at start
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		d.prune(ctx)
		wait = d.cfg.Load().State.Retention.Interval
	}
}

func (d *daemon) prune(ctx context.Context) {
	keep := map[store.State]time.Duration{}
	for state, age := range d.cfg.Load().State.Retention.ByState() {
		keep[store.State(state)] = age
	}
	start := time.Now()
	n, err := d.st.Prune(ctx, store.Retention{Keep: keep})
	switch {
	case err != nil && ctx.Err() == nil:
		d.log.Error("retention: prune failed; trying again at the next interval", "err", err, "deleted", n)
	case n > 0:
		d.log.Info("retention: deleted finished events past their retention", "events", n, "took", time.Since(start).Round(time.Millisecond))
	}
}
