package rtapi

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// Tests against the Basic-auth front (test/servers/rt/start-rt-basic.sh: a
// second web process of the test RT behind rt-basic-auth.psgi, which checks
// Basic credentials and sets REMOTE_USER) and with the extra users of
// test/servers/rt/ensure-users.sh.

func basicFrontClient(t testing.TB, user, password string) (*Client, *countingTransport) {
	t.Helper()
	v := testenv.Require(t, "RT_BASIC_URL")
	ct := &countingTransport{}
	c, err := New(Config{URL: v["RT_BASIC_URL"], Auth: NewBasicAuth(user, password),
		HTTPClient: &http.Client{Transport: ct}, Timeout: 30 * time.Second,
		Retry: RetryPolicy{Attempts: 2, Initial: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c, ct
}

func TestRTBasicFrontCreatesTicketAsUser(t *testing.T) {
	rt := rtClientEnv(t)
	c, ct := basicFrontClient(t, rt.User, rt.Password)
	ctx := ctxT(t)
	id, err := c.CreateTicket(ctx, TicketCreate{Queue: "General", Subject: unique("h11 basic"), Text: "via Basic"})
	if err != nil {
		t.Fatalf("create through the Basic front: %v", err)
	}
	tk, err := c.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Creator != rt.User {
		t.Errorf("creator = %q, want %q (the Basic user)", tk.Creator, rt.User)
	}
	// Pre-emptive: every request (create, show, the queue's custom field
	// kinds) carried the header, none was a 401 retry or a login form.
	if ct.total.Load() != 3 || ct.withAuthz.Load() != 3 || ct.logins.Load() != 0 || ct.withPass.Load() != 0 {
		t.Errorf("requests %d, with Basic %d, logins %d, with pass %d; want 3, 3, 0, 0",
			ct.total.Load(), ct.withAuthz.Load(), ct.logins.Load(), ct.withPass.Load())
	}
}

func TestRTBasicFrontWrongPassword(t *testing.T) {
	rt := rtClientEnv(t)
	c, ct := basicFrontClient(t, rt.User, "wrong-"+rt.Password)
	_, err := c.CreateTicket(ctxT(t), TicketCreate{Queue: "General", Subject: unique("h11 basic bad"), Text: "x"})
	if !errors.Is(err, ErrCredentials) || KindOf(err) != Auth {
		t.Fatalf("wrong Basic password: %v (kind %v), want ErrCredentials of kind auth", err, KindOf(err))
	}
	// One attempt and the one retry after Reset; no loop, no backoff retries.
	if n := ct.total.Load(); n != 2 {
		t.Errorf("wrong Basic password: %d requests, want 2", n)
	}
	if strings.Contains(err.Error(), "wrong-"+rt.Password) {
		t.Error("error text contains the password")
	}
}

func TestRTStealFromAnotherOwner(t *testing.T) {
	v := testenv.Require(t, "RT_OWNER_USER", "RT_OWNER_PASSWORD")
	root, _, rt := rtClient(t, nil)
	other, _, _ := rtClient(t, NewCookieAuth(v["RT_OWNER_USER"], v["RT_OWNER_PASSWORD"]))
	ctx := ctxT(t)
	id := mustCreate(t, root, TicketCreate{Subject: unique("h11 steal")})
	owner := func() string {
		t.Helper()
		tk, err := root.Ticket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return tk.Owner
	}
	if err := other.Take(ctx, id); err != nil {
		t.Fatalf("%s takes: %v", v["RT_OWNER_USER"], err)
	}
	if got := owner(); got != v["RT_OWNER_USER"] {
		t.Fatalf("owner after take = %q, want %q", got, v["RT_OWNER_USER"])
	}
	// Take refuses a ticket someone else owns; steal is the way.
	if err := root.Take(ctx, id); err == nil || KindOf(err) != Permanent {
		t.Errorf("root takes an owned ticket: %v, want RT's refusal", err)
	}
	if err := root.Steal(ctx, id); err != nil {
		t.Fatalf("root steals: %v", err)
	}
	if got := owner(); got != rt.User {
		t.Errorf("owner after steal = %q, want %q", got, rt.User)
	}
}
