package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// Gateway is RT's own mail gateway, and the search that tells whether a
// post nobody answered was filed; the daemon provides it when a source
// or a rule delivers with `deliver: gateway`.
type Gateway interface {
	MailGateway(ctx context.Context, m rtapi.GatewayMail) (rtapi.GatewayResult, error)
	// TicketByMessageID returns the ticket RT filed the mail with that
	// Message-ID in, or 0.
	TicketByMessageID(ctx context.Context, id string) (int, error)
}

// gateway posts the event's raw mail to RT's mail gateway. RT does not
// name the ticket in its answer (outside DevelMode), so the ticket is
// looked up by the mail's Message-ID afterwards, for the ledger.
func (r *run) gateway(ctx context.Context, st *plan.Step) (store.Result, error) {
	gw := r.x.o.Gateway
	if gw == nil || st.Gateway == nil {
		return store.Result{}, planError("gateway step without a gateway (deliver: gateway needs REST2 access to RT: rt.auth token, basic or kerberos)")
	}
	target := st.Gateway.Ticket
	if target == 0 && !st.Ticket.IsZero() {
		// A rule's reply to the ticket an earlier step of the plan made.
		t, err := r.ticket(st.Ticket)
		if err != nil {
			return store.Result{}, planError(err.Error())
		}
		target = t
	}
	msgid, open := r.gatewayMail(ctx)
	res, err := gw.MailGateway(ctx, rtapi.GatewayMail{Queue: st.Gateway.Queue, Action: st.Gateway.Action, Ticket: target, Open: open})
	if err != nil {
		return store.Result{}, err
	}
	ticket := res.Ticket
	if ticket == 0 {
		if ticket, err = gw.TicketByMessageID(context.WithoutCancel(ctx), msgid); err != nil {
			r.log.Warn("mail gateway: filed, but the ticket was not found by Message-ID", "message_id", msgid, "err", err)
			ticket = 0
		}
	}
	return store.Result{Ticket: ticket, Reply: "mail gateway: " + res.Reply}, nil
}

// gatewayMail returns the mail's Message-ID and the raw mail to post. A
// mail without one gets a Message-ID made from the event id before the
// first post, so every post of this event carries the same one and an
// unanswered post can be found.
func (r *run) gatewayMail(ctx context.Context) (string, func() (io.ReadCloser, error)) {
	id, st := r.se.ID, r.x.o.Store
	var prefix string
	msgid := ""
	if m := r.ev.Mail; m != nil {
		msgid = m.MessageID
		if d := m.Delivery; d != nil && d.Extension != "" && !strings.ContainsAny(d.Extension, "\r\n") {
			prefix += "X-RT-Mail-Extension: " + d.Extension + "\r\n" // as rt-mailgate adds it
		}
	}
	if msgid == "" {
		msgid = "rtbridge-" + id + "@rtbridge.invalid"
		prefix += "Message-ID: <" + msgid + ">\r\n"
	}
	return msgid, func() (io.ReadCloser, error) {
		rc, err := st.Raw(context.WithoutCancel(ctx), id)
		if err != nil {
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{io.MultiReader(strings.NewReader(prefix), rc), rc}, nil
	}
}

// reconcileGateway decides whether an unanswered post was filed: RT keeps
// the Message-ID of every mail it files, so finding it means done.
func (r *run) reconcileGateway(ctx context.Context, log *slog.Logger) (store.Result, bool, error) {
	gw := r.x.o.Gateway
	if gw == nil {
		return store.Result{}, false, errors.New("reconcile gateway: no gateway")
	}
	msgid, _ := r.gatewayMail(ctx)
	ticket, err := gw.TicketByMessageID(ctx, msgid)
	if err != nil {
		return store.Result{}, false, fmt.Errorf("reconcile gateway: %w", err)
	}
	if ticket == 0 {
		log.Info("reconciled: RT has no mail with this Message-ID; posting", "message_id", msgid)
		return store.Result{}, false, nil
	}
	log.Info("reconciled: RT filed the mail", "ticket", ticket, "message_id", msgid)
	return store.Result{Ticket: ticket, Reply: "found by Message-ID after reconciliation"}, true, nil
}
