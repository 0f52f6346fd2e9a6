package executor

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/rules"
)

// clockSkew widens the history window of a comment's reconciliation: RT's
// clock and ours may differ a little.
const clockSkew = 2 * time.Minute

// reconcile decides whether step i, whose last attempt may have reached RT,
// in fact happened. found=true: res is its result and it must not be sent
// again. found=false: sending it (again) is right, or, for a create without
// an idempotency field, the accepted risk (counted).
func (r *run) reconcile(ctx context.Context, log *slog.Logger, i int, st *rules.Step, ss *store.Step, ticket int) (res store.Result, found bool, err error) {
	rt := r.x.o.RT
	switch st.Action {
	case rules.ActionCreate:
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
	case rules.ActionComment, rules.ActionCorrespond:
		if st.Message == nil {
			return res, false, nil
		}
		items, err := rt.History(ctx, ticket, true)
		if err != nil {
			return res, false, fmt.Errorf("reconcile %s: %w", st.Action, err)
		}
		typ := "Comment"
		if st.Action == rules.ActionCorrespond {
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
