package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/rtbridge/rtbridge/bridge/decode"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// panicError is a panic in decoding or planning one event. It fails that
// event only: left to run, it would kill the daemon, and the same event
// would replay at the next start, in a crash loop.
type panicError struct {
	where string // "decode" or "plan"
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("%s panicked: %v", e.where, e.value) }

// catch, deferred, turns a panic into a *panicError in *err.
func catch(where string, err *error) {
	if v := recover(); v != nil {
		*err = &panicError{where: where, value: v, stack: debug.Stack()}
	}
}

// decodeSafely is decode.Event with a panic caught.
func decodeSafely(s decode.Stored) (ev *event.Event, err error) {
	defer catch("decode", &err)
	return decode.Event(s)
}

// keysSafely is the planner's Keys with a panic caught.
func keysSafely(p plan.Planner, ev *event.Event) (keys []string, err error) {
	defer catch("plan", &err)
	return p.Keys(ev)
}

// evaluate reads the facts the planner needs and plans ev, with a panic
// caught. A failure of the rules on this event is a planError.
func (x *Executor) evaluate(ctx context.Context, planner plan.Planner, ev *event.Event) (p *plan.Plan, err error) {
	defer catch("plan", &err)
	f, err := x.facts(ctx, planner, ev)
	if err != nil {
		return nil, err
	}
	if p, err = planner.Evaluate(ev, f); err != nil {
		return nil, planError(err.Error())
	}
	return p, nil
}

// logPanic logs the stack of a caught panic; the dead letter's reason
// carries only the panic's value.
func logPanic(log *slog.Logger, err error) {
	var pe *panicError
	if errors.As(err, &pe) {
		log.Error("event failed with a panic", "where", pe.where, "panic", fmt.Sprint(pe.value), "stack", string(pe.stack))
	}
}
