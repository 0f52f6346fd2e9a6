package executor

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/plan"
)

// clockSkew widens the history window of a comment's reconciliation: RT's
// clock and ours may differ a little.
const clockSkew = 2 * time.Minute

// ClassAmbiguous: a step's outcome could not be established (its checks
// kept failing or RT refused them); the step stays unknown and the dead
// letter says what to look for in RT.
const ClassAmbiguous = "ambiguous"

// settling reports whether step ss's last attempt is too recent to
// reconcile: RT may still be processing it, and a search now would miss the
// ticket or comment it is about to commit. The event then waits until the
// attempt has settled.
func (r *run) settling(ctx context.Context, log *slog.Logger, ss *store.Step, now time.Time) bool {
	due := ss.StartedAt.Add(r.x.o.Settle)
	if ss.StartedAt.IsZero() || !now.Before(due) {
		return false
	}
	if err := r.x.o.Store.Defer(context.WithoutCancel(ctx), r.se.ID, due); err != nil {
		log.Error("defer reconciliation", "err", err)
		return true
	}
	log.Info("outcome unknown; waiting for RT to finish the attempt before reconciling",
		"attempt_started", ss.StartedAt.Format(time.RFC3339), "reconcile_at", due.Format(time.RFC3339))
	return true
}

// unresolved is the dead letter's message for step i whose outcome stays
// unknown: why, and what the operator should check in RT before a retry.
func (r *run) unresolved(i int, why string) string {
	st, ss := &r.plan.Steps[i], &r.se.Steps[i]
	ticket, _ := r.ticket(st.Ticket)
	since := ss.StartedAt.UTC().Format(time.RFC3339)
	var check string
	switch {
	case st.Action == plan.ActionCreate && r.x.o.IdempotencyField != "":
		f := r.x.o.IdempotencyField
		check = fmt.Sprintf("look in RT for a ticket whose %s is %q (search: 'CF.{%s}' = '%s'); a retry adopts it if it exists and creates it if not", f, r.idemValue(i), f, r.idemValue(i))
	case st.Action == plan.ActionCreate:
		check = fmt.Sprintf("look in RT for a ticket created since %s for this event (rt.idempotency_field is not set); a retry creates it again", since)
	case st.Action == plan.ActionComment || st.Action == plan.ActionCorrespond:
		check = fmt.Sprintf("look in ticket #%d's history for a %s since %s; a retry sends it only if it is not there", ticket, st.Action, since)
	case st.Action == plan.ActionGateway:
		check = "look in RT for the mail by its Message-ID; a retry searches for it the same way and posts only if RT lacks it"
	default:
		check = fmt.Sprintf("check ticket #%d; a retry repeats the %s (it is idempotent)", ticket, st.Action)
	}
	return fmt.Sprintf("step %d (%s): whether RT did it is unknown: %s. Before `rtbridge deadletter retry %s`: %s", i+1, st.Action, why, r.se.ID, check)
}

// reconcile decides whether step i, whose last attempt may have reached RT,
// in fact happened. found=true: res is its result and it must not be sent
// again. found=false: sending it (again) is right, or, for a create without
// an idempotency field, the accepted risk (counted).
func (r *run) reconcile(ctx context.Context, log *slog.Logger, i int, st *plan.Step, ss *store.Step, ticket int) (res store.Result, found bool, err error) {
	rt := r.x.rt()
	switch st.Action {
	case plan.ActionCreate:
		f := r.x.o.IdempotencyField
		if f == "" {
			r.x.m.AmbiguousRetry()
			log.Warn("create may have reached RT; retrying without rt.idempotency_field (a duplicate ticket is possible)")
			return res, false, nil
		}
		q := fmt.Sprintf("'CF.{%s}' = '%s'", f, r.idemValue(i))
		found, err := rt.SearchTickets(ctx, q, "id", "i")
		if err != nil {
			return res, false, fmt.Errorf("reconcile create: %w", err)
		}
		if len(found) == 0 {
			log.Info("reconciled: the create did not reach RT; creating", "query", q)
			return res, false, nil
		}
		id := found[0].ID
		log.Info("reconciled: adopting the ticket the interrupted create made", "ticket", id, "matches", len(found))
		return store.Result{Ticket: id, Reply: "adopted after reconciliation"}, true, nil
	case plan.ActionComment, plan.ActionCorrespond:
		if st.Message == nil {
			return res, false, nil
		}
		items, err := rt.History(ctx, ticket, true)
		if err != nil {
			return res, false, fmt.Errorf("reconcile %s: %w", st.Action, err)
		}
		typ := "Comment"
		if st.Action == plan.ActionCorrespond {
			typ = "Correspond"
		}
		want := contentHash(st.Message.Text)
		since := ss.StartedAt.Add(-clockSkew)
		for _, it := range items {
			if it.Type != typ || (!it.Created.IsZero() && !ss.StartedAt.IsZero() && it.Created.Before(since)) {
				continue
			}
			if contentHash(it.Content) == want {
				log.Info("reconciled: the message reached RT", "ticket", ticket, "transaction", it.ID)
				return store.Result{Ticket: ticket, Txn: it.ID, Reply: "found in history after reconciliation"}, true, nil
			}
		}
		log.Info("reconciled: the message is not in the ticket's history; sending", "ticket", ticket)
		return res, false, nil
	case plan.ActionGateway:
		return r.reconcileGateway(ctx, log) // gateway.go
	}
	// link, unlink, edit: idempotent; sending again is the reconciliation.
	return res, false, nil
}

// contentHash compares message texts as RT gives them back: line endings
// normalised, trailing blanks of lines and of the text ignored.
func contentHash(s string) [32]byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return sha256.Sum256([]byte(strings.TrimSpace(strings.Join(lines, "\n"))))
}
