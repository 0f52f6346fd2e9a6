package executor

import "context"

// claim takes the event and its keys for this instance when the store is
// shared by several (Claimer); false: another instance has them.
func (x *Executor) claim(ctx context.Context, id string, keys []string) bool {
	c, ok := x.o.Store.(Claimer)
	if !ok {
		return true
	}
	got, err := c.Claim(ctx, id, keys)
	if err != nil && ctx.Err() == nil {
		x.log.Error("claim event", "event", id, "err", err)
	}
	return err == nil && got
}

// release gives a claimed event up after its run; should that fail, its
// lease lapses instead.
func (x *Executor) release(ctx context.Context, id string) {
	if c, ok := x.o.Store.(Claimer); ok {
		if err := c.Release(context.WithoutCancel(ctx), id); err != nil {
			x.log.Warn("release event", "event", id, "err", err)
		}
	}
}
