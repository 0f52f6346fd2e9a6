package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// run is one pass over an event's plan.
type run struct {
	x         *Executor
	log       *slog.Logger
	ev        *event.Event
	se        *store.Event
	plan      *plan.Plan
	reachedRT bool // an RT call got an answer (for the breaker's probe)
}

// errNoTicket: a step names a ticket that an earlier step has not produced.
var errNoTicket = errors.New("step refers to a ticket that is not known")

func (r *run) steps(ctx context.Context) {
	x, id := r.x, r.se.ID
	if len(r.se.Steps) != len(r.plan.Steps) {
		x.dead(ctx, r.log, r.se, -1, ClassInternal, fmt.Sprintf("stored plan has %d steps, results for %d", len(r.plan.Steps), len(r.se.Steps)))
		return
	}
	for i := range r.plan.Steps {
		st, ss := &r.plan.Steps[i], &r.se.Steps[i]
		if ss.State == store.StepDone {
			continue
		}
		if ctx.Err() != nil {
			return // resumed at this step on the next start
		}
		log := r.log.With("step", i+1, "action", string(st.Action))
		now := x.o.Now()
		unknown := ss.State == store.StepUnknown || ss.State == store.StepStarted
		if age, over := r.exhausted(ss, now); over {
			why := fmt.Sprintf("gave up after %d attempts and %d failed checks over %s; last error (%s): %s",
				ss.Attempts, ss.Reconciles, age.Round(time.Second), ss.Class, ss.Message)
			if unknown {
				x.dead(ctx, log, r.se, i, ClassAmbiguous, r.unresolved(i, why))
			} else {
				x.dead(ctx, log, r.se, i, ClassExhausted, why)
			}
			return
		}
		ticket, err := r.ticket(st.Ticket)
		if err != nil && st.Action != plan.ActionCreate && st.Action != plan.ActionGateway { // a gateway step may name no ticket
			x.dead(ctx, log, r.se, i, ClassPlan, err.Error())
			return
		}
		if unknown {
			if r.settling(ctx, log, ss, now) {
				return
			}
			res, found, err := r.reconcile(ctx, log, i, st, ss, ticket)
			if err != nil {
				r.failed(ctx, log, i, ss, err, true)
				return
			}
			if found {
				if !r.succeeded(ctx, log, i, st, ss, res) {
					return
				}
				continue
			}
		}
		idem := ""
		if st.Action == plan.ActionCreate && x.o.IdempotencyField != "" {
			idem = r.idemValue(i)
		}
		attempt, err := x.o.Store.StepStarted(ctx, id, i, x.o.Lease, idem)
		if err != nil {
			log.Error("record step start", "err", err)
			return
		}
		if ss.Idem == "" {
			ss.Idem = idem
		}
		log = log.With("attempt", attempt)
		ss.Attempts, ss.StartedAt = attempt, now
		res, err := r.call(ctx, i, st, ticket)
		if err != nil {
			r.failed(ctx, log, i, ss, err, false)
			return
		}
		if !r.succeeded(ctx, log, i, st, ss, res) {
			return
		}
	}
	if err := x.o.Store.Done(context.WithoutCancel(ctx), id); err != nil {
		r.log.Error("record event done", "err", err)
		return
	}
	r.log.Info("event done", "rule", r.se.Rule, "ticket", r.mainTicket())
	x.m.Finished(r.se.Source, r.se.Rule, "done")
	x.kickFinish()
}

// exhausted says whether a step has failed for too long. MaxAge counts
// from acceptance or from the latest operator retry, and only gives up on a
// step that has failed at least once: a backlog older than MaxAge (a daemon
// stopped for days) is tried, not dead-lettered unseen.
func (r *run) exhausted(ss *store.Step, now time.Time) (age time.Duration, over bool) {
	since := r.se.ReceivedAt
	if r.se.RetriedAt.After(since) {
		since = r.se.RetriedAt
	}
	age = now.Sub(since)
	failed := ss.Attempts > 0 || ss.State != store.StepPending
	b := r.x.o.Backoff
	return age, ss.Attempts >= b.MaxAttempts || ss.Reconciles >= b.MaxReconciles || (failed && age > b.MaxAge)
}

func (r *run) mainTicket() int {
	for _, s := range r.se.Steps {
		if s.Ticket != 0 {
			return s.Ticket
		}
	}
	return 0
}

// ticket resolves a reference to a ticket number.
func (r *run) ticket(ref plan.TicketRef) (int, error) {
	if ref.ID != 0 {
		return ref.ID, nil
	}
	if ref.Step > 0 && ref.Step <= len(r.se.Steps) {
		if s := r.se.Steps[ref.Step-1]; s.State == store.StepDone && s.Ticket != 0 {
			return s.Ticket, nil
		}
		return 0, fmt.Errorf("%w: step %d has no ticket", errNoTicket, ref.Step)
	}
	return 0, fmt.Errorf("%w (key %q)", errNoTicket, ref.Key)
}

// idemValue is what step i's ticket carries in the idempotency field: the
// value its first attempt sent (kept across re-plans, which may move the
// step), else "<event id>/<step>".
func (r *run) idemValue(i int) string {
	if v := r.se.Steps[i].Idem; v != "" {
		return v
	}
	return r.se.ID + "/" + strconv.Itoa(i+1)
}

// call performs step i in RT.
func (r *run) call(ctx context.Context, i int, st *plan.Step, ticket int) (store.Result, error) {
	rt := r.x.rt()
	switch st.Action {
	case plan.ActionCreate:
		if st.Create == nil {
			return store.Result{}, planError("create step without ticket fields")
		}
		tc := ticketCreate(st.Create)
		if f := r.x.o.IdempotencyField; f != "" {
			cfs := make(map[string][]string, len(tc.CustomFields)+1)
			for k, v := range tc.CustomFields {
				cfs[k] = v
			}
			cfs[f] = []string{r.idemValue(i)}
			tc.CustomFields = cfs
		}
		tc.Attachments = r.attachments(ctx, st.Attachments)
		id, err := rt.CreateTicket(ctx, tc)
		return store.Result{Ticket: id, Reply: fmt.Sprintf("# Ticket %d created.", id)}, err
	case plan.ActionComment, plan.ActionCorrespond:
		if st.Message == nil {
			return store.Result{}, planError("message step without a message")
		}
		m := message(st.Message)
		m.Attachments = r.attachments(ctx, st.Attachments)
		send := rt.Comment
		if st.Action == plan.ActionCorrespond {
			send = rt.Correspond
		}
		return store.Result{Ticket: ticket}, send(ctx, ticket, m)
	case plan.ActionLink, plan.ActionUnlink:
		if st.Link == nil {
			return store.Result{}, planError("link step without a link")
		}
		target, err := r.ticket(st.Link.Target)
		if err != nil {
			return store.Result{}, planError(err.Error())
		}
		do := rt.AddLink
		if st.Action == plan.ActionUnlink {
			do = rt.DeleteLink
		}
		return store.Result{Ticket: ticket}, do(ctx, ticket, rtapi.LinkType(st.Link.Type), strconv.Itoa(target))
	case plan.ActionEdit:
		if st.Edit == nil {
			return store.Result{}, planError("edit step without fields")
		}
		return store.Result{Ticket: ticket}, rt.EditTicket(ctx, ticket, ticketEdit(st.Edit))
	case plan.ActionGateway:
		return r.gateway(ctx, st) // gateway.go
	}
	return store.Result{}, planError(fmt.Sprintf("unknown action %q", st.Action))
}

// planError is a step the executor cannot perform whatever RT says.
type planError string

func (e planError) Error() string { return string(e) }

// succeeded records step i's result with its ledger entries.
func (r *run) succeeded(ctx context.Context, log *slog.Logger, i int, st *plan.Step, ss *store.Step, res store.Result) bool {
	r.reachedRT = true
	r.x.br.success()
	ctx = context.WithoutCancel(ctx) // RT did it: record it even while stopping
	led, err := r.ledger(ctx, st, res.Ticket)
	if err != nil {
		log.Error("read ledger", "err", err)
		return false
	}
	if err := r.x.o.Store.StepDone(ctx, r.se.ID, i, res, led); err != nil {
		log.Error("record step result", "err", err, "ticket", res.Ticket)
		return false
	}
	ss.State, ss.Ticket, ss.Txn = store.StepDone, res.Ticket, res.Txn
	log.Info("step done", "ticket", res.Ticket)
	return true
}

// failed classifies a failed attempt (or reconciliation) and records what
// happens next. duringReconcile: the step's outcome is still unknown.
func (r *run) failed(ctx context.Context, log *slog.Logger, i int, ss *store.Step, err error, duringReconcile bool) {
	x := r.x
	var pe planError
	if errors.As(err, &pe) {
		x.dead(ctx, log, r.se, i, ClassPlan, pe.Error())
		return
	}
	kind := rtapi.KindOf(err)
	var re *rtapi.Error
	errors.As(err, &re)
	msg := err.Error()
	if re != nil && re.Text != "" {
		msg = re.Text // RT's own words
	}
	wctx := context.WithoutCancel(ctx)
	now := x.o.Now()
	if ctx.Err() != nil {
		// Stopping: not RT's fault. Whatever may have been sent is reconciled on the next start.
		if err := x.o.Store.StepFailed(wctx, r.se.ID, i, store.Failure{Class: "stopped", Message: msg}, duringReconcile || kind != rtapi.Transient, now); err != nil {
			// The step stays "started": the next start treats it as unknown.
			log.Error("record interrupted attempt", "err", err)
		}
		return
	}
	switch kind {
	case rtapi.Permanent:
		r.reachedRT = true
		x.br.success()       // RT answered
		if duringReconcile { // the step's outcome stays unknown: the operator must look
			x.dead(ctx, log, r.se, i, ClassAmbiguous, r.unresolved(i, "RT refused the check: "+msg))
			return
		}
		x.dead(ctx, log, r.se, i, kind.String(), msg)
		return
	case rtapi.Ambiguous:
		r.reachedRT = true
		x.m.Retry("ambiguous")
	case rtapi.Auth:
		x.m.Retry("auth")
		x.br.failure(now)
	default:
		x.m.Retry("transient")
		x.br.failure(now)
	}
	retryAfter := ""
	if re != nil {
		retryAfter = re.RetryAfter
	}
	next := now.Add(x.o.Backoff.delay(max(ss.Attempts+ss.Reconciles, 1), retryAfter, now))
	unknown := duringReconcile || kind == rtapi.Ambiguous
	if due := ss.StartedAt.Add(x.o.Settle); unknown && due.After(next) {
		next = due // RT may still be working on the attempt: reconcile after it finished
	}
	f := store.Failure{Class: kind.String(), Message: msg, Reconcile: duringReconcile}
	if err := x.o.Store.StepFailed(wctx, r.se.ID, i, f, unknown, next); err != nil {
		log.Error("record failed attempt", "err", err)
		return
	}
	log.Warn("step failed; will retry", "class", kind.String(), "err", msg, "retry_at", next.Format(time.RFC3339), "reconcile", unknown)
}
