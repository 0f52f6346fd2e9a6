package rtapi

import (
	"errors"
	"strings"
	"testing"
)

func TestRTCreateShowEdit(t *testing.T) {
	c, _, _ := rtClient(t, nil)
	ctx := ctxT(t)
	key := unique("key")
	prio := 5
	id := mustCreate(t, c, TicketCreate{
		Subject:      "h2 create " + key,
		Requestors:   []string{"h2-req@example.com"},
		Cc:           []string{"h2-cc@example.com"},
		Priority:     &prio,
		Text:         "first line\n  second",
		CustomFields: map[string][]string{testCF: {key}, testMultiCF: {"a", "b, c", "it's"}},
	})
	tk, err := c.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID != id || tk.Queue != "General" || tk.Subject != "h2 create "+key || tk.Priority != 5 || tk.Status != "new" || tk.Owner != "Nobody" {
		t.Errorf("ticket = %+v", tk)
	}
	if strings.Join(tk.Requestors, ",") != "h2-req@example.com" || strings.Join(tk.Cc, ",") != "h2-cc@example.com" {
		t.Errorf("people = %q / %q", tk.Requestors, tk.Cc)
	}
	if got := tk.CustomFields[testCF]; len(got) != 1 || got[0] != key {
		t.Errorf("CF %s = %q, want [%q]", testCF, got, key)
	}
	if got := strings.Join(tk.CustomFields[testMultiCF], "|"); got != "a|b, c|it's" {
		t.Errorf("CF %s = %q", testMultiCF, got)
	}

	// An edit applies; the same edit again changes nothing (empty body) and is nil.
	for i := 0; i < 2; i++ {
		if err := c.EditTicket(ctx, id, TicketEdit{Fields: map[string]string{"Subject": "edited " + key}}); err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	// 409: an unknown queue and an unknown field; the subject still applies.
	err = c.EditTicket(ctx, id, TicketEdit{Fields: map[string]string{
		"Subject": "partial " + key, "Queue": unique("NoSuchQueue"), "spam": "1",
	}})
	var e *Error
	if !errors.As(err, &e) || e.Code != 409 || !e.Partial || !errors.Is(err, ErrSyntax) {
		t.Fatalf("409 edit: err = %#v", err)
	}
	fields := map[string]string{}
	for _, fe := range e.FieldErrors {
		fields[fe.Field] = fe.Message
	}
	if fields["spam"] != "Unknown field." || !strings.Contains(fields["queue"], "does not exist") {
		t.Errorf("field errors = %+v", e.FieldErrors)
	}
	tk, err = c.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Subject != "partial "+key || tk.Queue != "General" {
		t.Errorf("after partial edit: subject %q queue %q", tk.Subject, tk.Queue)
	}
	// People and multi-value CFs are replaced as a whole; an empty list clears.
	none := []string{}
	two := []string{"h2-x@example.com", "h2-y@example.com"}
	if err := c.EditTicket(ctx, id, TicketEdit{Requestors: &two, Cc: &none, CustomFields: map[string][]string{testMultiCF: {}}}); err != nil {
		t.Fatal(err)
	}
	tk, _ = c.Ticket(ctx, id)
	if strings.Join(tk.Requestors, ",") != "h2-x@example.com,h2-y@example.com" || len(tk.Cc) != 0 || len(tk.CustomFields[testMultiCF]) != 0 {
		t.Errorf("after set edit: %q %q %q", tk.Requestors, tk.Cc, tk.CustomFields[testMultiCF])
	}
}

func TestRTErrors(t *testing.T) {
	c, _, rt := rtClient(t, nil)
	ctx := ctxT(t)

	_, err := c.CreateTicket(ctx, TicketCreate{Subject: "no queue"})
	var e *Error
	if !errors.As(err, &e) || e.Code != 400 || e.Text != "Could not create ticket. Queue not set" || !errors.Is(err, ErrBadRequest) || e.Kind != Permanent {
		t.Errorf("missing queue: %#v", err)
	}
	_, err = c.CreateTicket(ctx, TicketCreate{Queue: unique("nosuchqueue"), Subject: "bad queue"})
	if !errors.As(err, &e) || e.Code != 400 || !strings.HasPrefix(e.Text, "Could not create ticket") {
		t.Errorf("unknown queue: %#v", err)
	}
	if _, err := c.Ticket(ctx, 999999999); !errors.Is(err, ErrNotFound) || KindOf(err) != Permanent {
		t.Errorf("missing ticket: %v", err)
	}
	if err := c.Comment(ctx, 999999999, Message{Text: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("comment on missing ticket: %v", err)
	}

	// A privileged user without rights on a fresh queue.
	qname := unique("h2-closed")
	if _, err := c.CreateQueue(ctx, QueueCreate{Name: qname, Description: "no rights for anyone"}); err != nil {
		t.Fatal(err)
	}
	uname, pw := unique("h2-user"), "pw-"+unique("x")
	if _, err := c.CreateUser(ctx, UserCreate{Name: uname, EmailAddress: uname + "@example.com", Password: pw, Privileged: true}); err != nil {
		t.Fatal(err)
	}
	weak, _, _ := rtClient(t, NewCookieAuth(uname, pw))
	_, err = weak.CreateTicket(ctx, TicketCreate{Queue: qname, Subject: "forbidden"})
	if !errors.As(err, &e) || e.Code != 400 || !errors.Is(err, ErrPermission) ||
		e.Text != "No permission to create tickets in the queue '"+qname+"'" {
		t.Errorf("no permission: %#v", err)
	}
	_ = rt
}

func TestRTInjectionRefusedOrFolded(t *testing.T) {
	c, _, _ := rtClient(t, nil)
	ctx := ctxT(t)
	trap := unique("h2-trap")
	if _, err := c.CreateQueue(ctx, QueueCreate{Name: trap}); err != nil {
		t.Fatal(err)
	}
	subject := "x\nQueue: " + trap + "\nOwner: root\nCF.{" + testCF + "}: injected"
	cfValue := "k\nQueue: " + trap + "\nOwner: root"
	text := "body\nQueue: " + trap + "\nOwner: root\n--\nid: ticket/1\n# comment\n"
	id := mustCreate(t, c, TicketCreate{Subject: subject, Text: text, CustomFields: map[string][]string{testCF: {cfValue}}})
	tk, err := c.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	wantSubject := "x Queue: " + trap + " Owner: root CF.{" + testCF + "}: injected"
	if tk.Queue != "General" || tk.Owner != "Nobody" || tk.Subject != wantSubject {
		t.Errorf("injected: queue %q owner %q subject %q", tk.Queue, tk.Owner, tk.Subject)
	}
	// RT stored the multi-line value in the one field (the decoder returns
	// its lines as separate values: RT's show output cannot tell a
	// multi-line value from several values).
	if got := strings.Join(tk.CustomFields[testCF], "\n"); got != cfValue {
		t.Errorf("CF = %q, want %q", got, cfValue)
	}
	hist, err := c.History(ctx, id, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) == 0 || hist[0].Type != "Create" || !strings.Contains(hist[0].Content, "Owner: root\n--\nid: ticket/1\n# comment") {
		t.Errorf("create content = %q", hist[0].Content)
	}

	// List items and identifiers with line ends are refused before sending.
	for _, tc := range []TicketCreate{
		{Queue: "General", Subject: trap, Requestors: []string{"a@example.com\nQueue: " + trap}},
		{Queue: "General", Subject: trap, Cc: []string{"a@example.com, b@example.com"}},
		{Queue: "General\nOwner: root", Subject: trap},
		{Queue: "General", Subject: trap, Owner: "Nobody\nQueue: " + trap},
	} {
		if _, err := c.CreateTicket(ctx, tc); err == nil || KindOf(err) != Permanent {
			t.Errorf("CreateTicket(%+v) = %v, want a permanent refusal", tc, err)
		}
	}
	res, err := c.SearchTickets(ctx, "Queue = '"+trap+"'", "", "i")
	if err != nil || len(res) != 0 {
		t.Errorf("tickets in the trap queue: %v, %v", res, err)
	}
}
