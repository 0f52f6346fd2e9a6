package rest2_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
)

// RT's own mail gateway, against the real RT: a mail posted there becomes a
// ticket whose creator is the mail's sender, and is found again by its
// Message-ID (how an unanswered post is reconciled). RT's "not ok" is a
// permanent error carrying RT's reason; "temporary failure" is transient.
func TestMailGatewayAndMessageID(t *testing.T) {
	rt := testenv.RequireRT(t)
	c1, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := rest2.New(rest2.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctx(t)
	u := fmt.Sprintf("gw%d", time.Now().UnixNano())
	sender := u + "@example.org"
	raw := fmt.Sprintf("From: %s\nTo: support@rt.test\nSubject: %s via gateway\nMessage-ID: <%s@example.org>\n\nfiled by RT itself\n", sender, u, u)
	open := func(s string) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
	}

	if n, err := c2.TicketByMessageID(ctx, u+"@example.org"); err != nil || n != 0 {
		t.Fatalf("before the post: ticket %d, err %v; want none", n, err)
	}
	if _, err := c1.MailGateway(ctx, rtapi.GatewayMail{Queue: "General", Action: "correspond", Open: open(raw)}); err != nil {
		t.Fatalf("post: %v", err)
	}
	id, err := c2.TicketByMessageID(ctx, "<"+u+"@example.org>")
	if err != nil || id == 0 {
		t.Fatalf("find by Message-ID: ticket %d, err %v", id, err)
	}
	tk, err := c1.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Subject != u+" via gateway" || tk.Creator != sender {
		t.Errorf("ticket %d: subject %q creator %q; want the sender %s as creator", id, tk.Subject, tk.Creator, sender)
	}

	// A comment on a ticket RT does not have: RT refuses for good.
	_, err = c1.MailGateway(ctx, rtapi.GatewayMail{Queue: "General", Action: "comment", Ticket: 99999999,
		Open: open(strings.Replace(raw, u+"@example.org>", u+"-2@example.org>", 1))})
	var e *rtapi.Error
	if !errors.As(err, &e) || e.Kind != rtapi.Permanent || e.Text == "" {
		t.Errorf("comment on a missing ticket: %v; want a permanent error with RT's reason", err)
	} else {
		t.Logf("RT's refusal: %s", e.Text)
	}
	// An unknown queue is RT's "temporary failure".
	_, err = c1.MailGateway(ctx, rtapi.GatewayMail{Queue: "No such queue " + u, Action: "correspond",
		Open: open(strings.Replace(raw, u+"@example.org>", u+"-3@example.org>", 1))})
	if !errors.As(err, &e) || e.Kind != rtapi.Transient {
		t.Errorf("unknown queue: %v; want a transient error", err)
	}
}
