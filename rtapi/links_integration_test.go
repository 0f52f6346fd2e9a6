package rtapi

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func hasSuffixIn(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

func TestRTLinks(t *testing.T) {
	c, _, _ := rtClient(t, nil)
	ctx := ctxT(t)
	a := mustCreate(t, c, TicketCreate{Subject: unique("h2 link a")})
	b := mustCreate(t, c, TicketCreate{Subject: unique("h2 link b")})
	cc := mustCreate(t, c, TicketCreate{Subject: unique("h2 link c")})
	bs, cs := fmt.Sprintf("/ticket/%d", b), fmt.Sprintf("/ticket/%d", cc)

	// Incremental links are idempotent: adding twice and deleting twice succeed.
	for i := 0; i < 2; i++ {
		if err := c.AddLink(ctx, a, DependsOn, fmt.Sprint(b)); err != nil {
			t.Fatalf("AddLink %d: %v", i, err)
		}
	}
	if err := c.AddLink(ctx, a, Members, fmt.Sprint(cc)); err != nil {
		t.Fatal(err)
	}
	l, err := c.Links(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if l.ID != a || !hasSuffixIn(l.Links[DependsOn], bs) || !hasSuffixIn(l.Links[Members], cs) {
		t.Errorf("links = %+v", l)
	}
	for i := 0; i < 2; i++ {
		if err := c.DeleteLink(ctx, a, DependsOn, fmt.Sprint(b)); err != nil {
			t.Fatalf("DeleteLink %d: %v", i, err)
		}
	}
	// SetLinks replaces the whole set of a type and leaves other types alone.
	if err := c.SetLinks(ctx, a, map[LinkType][]string{RefersTo: {"https://example.org/x", fmt.Sprint(b)}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetLinks(ctx, a, map[LinkType][]string{RefersTo: {"https://example.org/y"}}); err != nil {
		t.Fatal(err)
	}
	l, err = c.Links(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Links[RefersTo]; len(got) != 1 || got[0] != "https://example.org/y" {
		t.Errorf("RefersTo after replace = %q", got)
	}
	if len(l.Links[DependsOn]) != 0 || !hasSuffixIn(l.Links[Members], cs) {
		t.Errorf("other types changed: %+v", l.Links)
	}
	// Errors: an unknown ticket.
	err = c.AddLink(ctx, 999999999, DependsOn, fmt.Sprint(b))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("AddLink on missing ticket: %v", err)
	}
	err = c.SetLinks(ctx, a, map[LinkType][]string{DependsOn: {"999999999"}})
	var e *Error
	if !errors.As(err, &e) || e.Code != 409 {
		t.Errorf("SetLinks to a missing ticket: %#v", err)
	}
}

func TestRTOwnerAndMerge(t *testing.T) {
	c, _, rt := rtClient(t, nil)
	ctx := ctxT(t)
	id := mustCreate(t, c, TicketCreate{Subject: unique("h2 owner")})
	owner := func() string {
		tk, err := c.Ticket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return tk.Owner
	}
	if err := c.Take(ctx, id); err != nil || owner() != rt.User {
		t.Fatalf("Take: %v, owner %q", err, owner())
	}
	if err := c.Take(ctx, id); err == nil || KindOf(err) != Permanent {
		t.Errorf("Take again = %v, want RT's refusal", err)
	}
	if err := c.Untake(ctx, id); err != nil || owner() != "Nobody" {
		t.Fatalf("Untake: %v, owner %q", err, owner())
	}
	// RT only steals from another owner; the refusal shows the action reached
	// RT's steal logic (a real steal: TestRTStealFromAnotherOwner).
	err := c.Steal(ctx, id)
	var e *Error
	if !errors.As(err, &e) || e.Code != 400 || !strings.Contains(e.Text, "steal a ticket owned by someone else") {
		t.Errorf("Steal of an unowned ticket = %v", err)
	}

	into := mustCreate(t, c, TicketCreate{Subject: unique("h2 merge target")})
	if err := c.Merge(ctx, id, into); err != nil {
		t.Fatal(err)
	}
	tk, err := c.Ticket(ctx, id)
	if err != nil || tk.ID != into {
		t.Errorf("merged ticket shows %+v, %v; want ticket %d", tk, err, into)
	}
	if err := c.Merge(ctx, 999999999, into); err == nil || KindOf(err) != Permanent {
		t.Errorf("merge of a missing ticket: %v", err)
	}
}

func TestRTHistoryUserQueue(t *testing.T) {
	c, _, rt := rtClient(t, nil)
	ctx := ctxT(t)
	id := mustCreate(t, c, TicketCreate{Subject: unique("h2 history"), Text: "hello"})
	if err := c.Correspond(ctx, id, Message{Text: "reply", Status: "open", Cc: []string{"h2-once@example.com"}}); err != nil {
		t.Fatal(err)
	}
	short, err := c.History(ctx, id, false)
	if err != nil || len(short) < 2 || short[0].Description == "" {
		t.Fatalf("short history = %+v, %v", short, err)
	}
	long, err := c.History(ctx, id, true)
	if err != nil || len(long) != len(short) || long[0].Type != "Create" || long[0].Content != "hello" {
		t.Fatalf("long history = %+v, %v", long, err)
	}
	var sawCorrespond, sawStatus bool
	for _, h := range long {
		sawCorrespond = sawCorrespond || (h.Type == "Correspond" && h.Content == "reply")
		sawStatus = sawStatus || (h.Type == "Status" && h.NewValue == "open")
	}
	if !sawCorrespond || !sawStatus {
		t.Errorf("history lacks the reply or the status change: %+v", long)
	}
	other := mustCreate(t, c, TicketCreate{Subject: unique("h2 other")})
	if _, err := c.HistoryItem(ctx, other, long[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("foreign transaction: %v", err)
	}

	u, err := c.User(ctx, rt.User)
	if err != nil || u.Name != rt.User || u.ID <= 0 || !u.Privileged {
		t.Errorf("User = %+v, %v", u, err)
	}
	if _, err := c.User(ctx, unique("nobody-here")); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing user: %v", err)
	}
	q, err := c.Queue(ctx, "General")
	if err != nil || q.ID != 1 || q.Name != "General" {
		t.Errorf("Queue = %+v, %v", q, err)
	}
	if _, err := c.Queue(ctx, unique("noqueue")); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing queue: %v", err)
	}
	if _, err := c.User(ctx, "a/../b"); err == nil {
		t.Error("a name with / was accepted")
	}
}

func TestRTSearch(t *testing.T) {
	c, _, _ := rtClient(t, nil)
	ctx := ctxT(t)
	tag := unique("h2search")
	var ids []int
	for i := 0; i < 3; i++ {
		ids = append(ids, mustCreate(t, c, TicketCreate{Subject: fmt.Sprintf("%s n%d", tag, i)}))
	}
	q := "Subject LIKE '" + tag + "'"
	asc, err := c.SearchTickets(ctx, q, "+id", "s")
	if err != nil || len(asc) != 3 || asc[0].ID != ids[0] || asc[2].ID != ids[2] || asc[1].Subject != tag+" n1" {
		t.Fatalf("ascending = %+v, %v", asc, err)
	}
	desc, err := c.SearchTickets(ctx, q, "-id", "i")
	if err != nil || len(desc) != 3 || desc[0].ID != ids[2] {
		t.Fatalf("descending = %+v, %v", desc, err)
	}
	long, err := c.SearchTickets(ctx, q, "+id", "l")
	if err != nil || len(long) != 3 || long[0].Ticket == nil || long[0].Ticket.Queue != "General" {
		t.Fatalf("long = %+v, %v", long, err)
	}
	none, err := c.SearchTickets(ctx, "Subject = '"+unique("none")+"'", "", "")
	if err != nil || len(none) != 0 {
		t.Errorf("no match = %+v, %v", none, err)
	}
	if _, err := c.SearchTickets(ctx, "Subject = = 'x", "", "s"); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad query: %v", err)
	}
}
