package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"

	"github.com/rtbridge/rtbridge/bridge/decode"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// Failure classes recorded with dead letters and failed attempts, beside
// rtapi's kinds (permanent, transient, ambiguous, auth).
const (
	ClassParse     = "parse"     // the raw bytes could not be turned into an event
	ClassPlan      = "plan"      // the rules failed on this event (template error, missing ticket)
	ClassExhausted = "exhausted" // transient failures outlasted Backoff.MaxAttempts or MaxAge
	ClassInternal  = "internal"  // a stored plan could not be read
)

// load reads an event and decodes it (decode.Event, on every attempt, so a
// parser fix applies to retries and replays). The decoder gets an opener of the
// stored payload, not the bytes: a mail is streamed from its file, and its
// attachments are read again from there when sent, so a large mail never
// sits in memory.
func (x *Executor) load(ctx context.Context, id string) (*event.Event, *store.Event, error) {
	se, err := x.o.Store.Event(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	// Attachments open the payload later, during the steps; a shutdown
	// cancels their request, not the opening of a local file.
	rawCtx := context.WithoutCancel(ctx)
	open := func() (io.ReadCloser, error) {
		rc, err := x.o.Store.Raw(rawCtx, id)
		if err != nil {
			return nil, &rawError{err}
		}
		return rawReader{rc}, nil
	}
	ev, err := decodeSafely(decode.Stored{ID: se.ID, Source: se.Source, Kind: event.Kind(se.Kind), ReceivedAt: se.ReceivedAt, Meta: se.Meta, Open: open})
	var re *rawError
	switch {
	case errors.As(err, &re):
		// The store could not give the bytes: retried later, like any
		// storage failure, never dead-lettered as unparseable.
		return nil, se, fmt.Errorf("read raw payload: %w", re.err)
	case err != nil:
		return nil, se, &parseError{err}
	}
	return ev, se, nil
}

// rawError marks a failure to open or read the stored payload.
type rawError struct{ err error }

func (e *rawError) Error() string { return "read raw payload: " + e.err.Error() }
func (e *rawError) Unwrap() error { return e.err }

// rawReader marks the payload's read errors as rawError.
type rawReader struct{ rc io.ReadCloser }

func (r rawReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if err != nil && err != io.EOF {
		err = &rawError{err}
	}
	return n, err
}

func (r rawReader) Close() error { return r.rc.Close() }

// Stat passes a payload file's Stat through, so an upload of it can send
// its Content-Length.
func (r rawReader) Stat() (fs.FileInfo, error) {
	if f, ok := r.rc.(interface{ Stat() (fs.FileInfo, error) }); ok {
		return f.Stat()
	}
	return nil, errors.New("payload is not a file")
}

type parseError struct{ err error }

func (e *parseError) Error() string { return "parse event: " + e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

// work runs one event as far as it goes now: plan (once), then the steps.
// pre is the scheduler's decoding of it in this pass, or nil. probe: the
// breaker let this event through to test whether RT is back.
func (x *Executor) work(ctx context.Context, id string, pre *loaded, probe bool) {
	log := x.log.With("event", id)
	reachedRT := false
	defer func() {
		if probe && !reachedRT {
			x.br.release()
		}
	}()
	if pre == nil {
		pre = &loaded{}
		pre.ev, pre.se, pre.err = x.load(ctx, id)
	}
	ev, se, err := pre.ev, pre.se, pre.err
	if se != nil {
		log = log.With("source", se.Source)
	}
	var pe *parseError
	switch {
	case errors.As(err, &pe):
		logPanic(log, err)
		x.dead(ctx, log, se, -1, ClassParse, err.Error())
		return
	case err != nil:
		if ctx.Err() == nil {
			log.Error("load event", "err", err)
			x.o.Store.Defer(context.WithoutCancel(ctx), id, x.o.Now().Add(x.o.Backoff.Base))
		}
		return
	}
	if se.State.Final() {
		return
	}
	p, ok := x.plan(ctx, log, ev, se)
	if !ok {
		return
	}
	r := &run{x: x, log: log, ev: ev, se: se, plan: p}
	r.steps(ctx)
	reachedRT = r.reachedRT
}

// plan returns the event's stored plan, or makes, stores and returns one.
func (x *Executor) plan(ctx context.Context, log *slog.Logger, ev *event.Event, se *store.Event) (*plan.Plan, bool) {
	if se.Plan != nil && !se.Replan {
		var p plan.Plan
		if err := json.Unmarshal(se.Plan, &p); err != nil {
			x.dead(ctx, log, se, -1, ClassInternal, fmt.Sprintf("stored plan (version %d) unreadable: %v", se.PlanVersion, err))
			return nil, false
		}
		return &p, true
	}
	p, err := x.evaluate(ctx, x.o.Rules(ev.Kind), ev)
	if err == nil {
		x.countCapped(ev, se)
		return x.planned(ctx, log, se, p)
	}
	var pe planError
	var pp *panicError
	switch {
	case errors.As(err, &pp):
		logPanic(log, err)
		x.countCapped(ev, se)
		x.dead(ctx, log, se, -1, ClassPlan, err.Error())
		return nil, false
	case ctx.Err() != nil:
		return nil, false
	case errors.As(err, &pe), errors.Is(err, errTicketStatus) && rtapi.KindOf(err) == rtapi.Permanent:
		x.countCapped(ev, se)
		x.dead(ctx, log, se, -1, ClassPlan, err.Error())
		return nil, false
	}
	// The ledger or RT could not be read: plan again later, like a failed step.
	now := x.o.Now()
	next := now.Add(x.o.Backoff.delay(1, "", now))
	if errors.Is(err, errTicketStatus) {
		x.br.failure(now)
		x.m.Retry(rtapi.KindOf(err).String())
	}
	x.o.Store.Defer(context.WithoutCancel(ctx), se.ID, next)
	log.Warn("planning needs the ledger or RT; will retry", "err", err, "retry_at", next)
	return nil, false
}

// countCapped counts the parser caps a mail went over, when its planning
// is decided (planned, or dead-lettered by the rules): once per mail, not
// per decoding, and not again when an operator's retry plans it anew.
func (x *Executor) countCapped(ev *event.Event, se *store.Event) {
	if ev.Mail == nil || se.Replan {
		return
	}
	for _, c := range ev.Mail.Capped {
		x.m.Capped(c)
	}
}

// planned records a new plan: an ignore finishes the event, steps are
// stored before the first runs.
func (x *Executor) planned(ctx context.Context, log *slog.Logger, se *store.Event, p *plan.Plan) (*plan.Plan, bool) {
	p.EventID = se.ID
	logNotes(log, p)
	if p.Ignore != nil {
		if err := x.o.Store.Ignore(ctx, se.ID, p.Ignore.Rule, p.Ignore.Reason); err != nil {
			log.Error("record ignored event", "err", err)
			return nil, false
		}
		log.Info("event ignored", "rule", p.Ignore.Rule, "reason", p.Ignore.Reason)
		x.m.Finished(se.Source, p.Ignore.Rule, "ignored")
		x.kickFinish()
		return nil, false
	}
	body, err := json.Marshal(p)
	if err != nil {
		x.dead(ctx, log, se, -1, ClassInternal, "encode plan: "+err.Error())
		return nil, false
	}
	rec := store.PlanRecord{Version: p.Version, Body: body, Rule: p.Rule, Key: p.Key, Keys: p.Keys, Steps: carry(p.Steps, se)}
	if rec.Version == 0 {
		rec.Version = plan.Version
	}
	if err := x.o.Store.SavePlan(ctx, se.ID, rec); err != nil {
		log.Error("store plan", "err", err)
		return nil, false
	}
	log.Info("event planned", "rule", p.Rule, "key", p.Key, "steps", len(p.Steps), "replan", se.Replan)
	x.countStorm(p)
	// The run reads step states from the store's view of the event.
	se.Steps = nil
	for i, st := range rec.Steps {
		s := store.Step{Index: i, Action: st.Action, Key: st.Key, State: store.StepPending}
		if st.Carry != nil {
			s = *st.Carry
			s.Index, s.Action, s.Key = i, st.Action, st.Key
			s.State = st.Carry.CarriedState()
		}
		se.Steps = append(se.Steps, s)
	}
	se.Rule = p.Rule
	return p, true
}

// logNotes logs the plan's remarks (storm guard, skipped links, quiet
// repeats). They quote keys built from untrusted labels, so each goes in
// an attribute, never into the message.
func logNotes(log *slog.Logger, p *plan.Plan) {
	for _, n := range p.Notes {
		log.Info("plan note", "rule", p.Rule, "note", n)
	}
}

// countStorm counts the plan's storm diversions per rule; a re-plan counts
// its own decisions again, as the storm guard made them again.
func (x *Executor) countStorm(p *plan.Plan) {
	n := map[string]int{}
	var order []string
	for _, s := range p.Storm {
		if n[s.Rule] == 0 {
			order = append(order, s.Rule)
		}
		n[s.Rule]++
	}
	for _, r := range order {
		x.m.StormDiverted(r, n[r])
	}
}

// carry maps the new plan's steps to the store's, reusing the result of an
// earlier plan's step with the same action and key that succeeded (each
// old step at most once): a ticket created before a failure is never
// created again after an operator retry. An old step whose outcome is
// unknown is carried too, to be reconciled before it is sent again.
func carry(steps []plan.Step, se *store.Event) []store.NewStep {
	used := make([]bool, len(se.Steps))
	out := make([]store.NewStep, len(steps))
	for i, st := range steps {
		out[i] = store.NewStep{Action: string(st.Action), Key: st.Key}
		if !se.Replan {
			continue
		}
		for j, old := range se.Steps {
			carried := old.State == store.StepDone || old.State == store.StepUnknown || old.State == store.StepStarted
			if !used[j] && carried && old.Action == string(st.Action) && old.Key == st.Key {
				used[j] = true
				o := old
				out[i].Carry = &o
				break
			}
		}
	}
	return out
}

// dead dead-letters the event and counts it.
func (x *Executor) dead(ctx context.Context, log *slog.Logger, se *store.Event, step int, class, msg string) {
	ctx = context.WithoutCancel(ctx)
	// Only an ambiguous death leaves RT's side open: that step stays unknown.
	if err := x.o.Store.Dead(ctx, se.ID, step, store.Failure{Class: class, Message: msg, Unknown: class == ClassAmbiguous}); err != nil {
		log.Error("dead-letter event", "err", err)
		return
	}
	log.Error("event dead-lettered", "class", class, "reason", msg) // a step's log already names it (1-based)
	x.m.Finished(se.Source, se.Rule, "dead")
	x.kickFinish()
}
