package executor

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rules"
)

// slowRT is a loopback proxy in front of the real RT that holds the first
// POST whose path matches for delay before forwarding it, whether or not
// the client is still waiting: RT then acts on a request its client already
// gave up on, as a busy RT does.
type slowRT struct {
	srv   *httptest.Server
	match *regexp.Regexp
	delay time.Duration
	mu    sync.Mutex
	held  int
}

func newSlowRT(t *testing.T, target string, match string, delay time.Duration) *slowRT {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &slowRT{match: regexp.MustCompile(match), delay: delay}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // writing to the client that left fails
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && p.match.MatchString(r.URL.Path) {
			p.mu.Lock()
			first := p.held == 0
			p.held++
			p.mu.Unlock()
			if first {
				body, err := io.ReadAll(r.Body) // the client has sent everything
				if err != nil {
					return
				}
				time.Sleep(p.delay)
				r = r.WithContext(context.WithoutCancel(r.Context()))
				r.Body = io.NopCloser(strings.NewReader(string(body)))
			}
		}
		// Hide CloseNotifier: the proxy must finish the request after the client left.
		rp.ServeHTTP(struct{ http.ResponseWriter }{w}, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// slowClient talks to RT through p with a short per-request timeout.
func slowClient(t *testing.T, p *slowRT, timeout time.Duration) *rtapi.Client {
	env := testenv.RequireRT(t)
	c, err := rtapi.New(rtapi.Config{URL: p.srv.URL + "/", Auth: rtapi.NewTokenAuth(env.Token), Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// settleExecutor is an executor whose Settle covers the proxy's delay.
func (h *harness) settleExecutor(t *testing.T, rt RT, idem string, settle time.Duration) *Executor {
	x, err := New(Options{Store: h.st, RT: rt, Workers: 1, IdempotencyField: idem,
		Rules:   func(event.Kind) plan.Planner { h.mu.Lock(); defer h.mu.Unlock(); return h.rules },
		Backoff: Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond},
		Breaker: BreakerConfig{Threshold: 1 << 20}, Poll: 20 * time.Millisecond, Settle: settle,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		h.t.Fatal(err)
	}
	return x
}

// A create that times out while RT is still working on it: the
// reconciliation waits until the attempt settled, finds the ticket by its
// idempotency value and adopts it. Reconciling at once (the old behaviour)
// found nothing and created a second ticket.
func TestAmbiguousCreateWaitsForRT(t *testing.T) {
	env := testenv.RequireRT(t)
	t.Parallel() // seconds of waiting for RT; own events and subjects
	cf := testenv.Require(t, "RT_TEST_CF")["RT_TEST_CF"]
	p := newSlowRT(t, env.URL, `/REST/1\.0/ticket/new$`, 2500*time.Millisecond)
	h := newHarness(t)
	g := group(t)
	id := h.accept(g, "General", "slow create")
	h.runUntil(h.settleExecutor(t, slowClient(t, p, 2*time.Second), cf, 6*time.Second), id)
	e := h.event(id)
	if e.State != store.StateDone {
		t.Fatalf("%s (%s) %s", e.State, e.DeadClass, e.Reason)
	}
	c := rtClient(t)
	res := ticketsWithSubject(t, c, g)
	if len(res) != 1 || res[0].ID != e.Steps[0].Ticket || e.Steps[0].Attempts != 1 {
		t.Fatalf("tickets %+v, create step %+v", res, e.Steps[0])
	}
	if n := commentsWith(t, c, res[0].ID, "follow-up: slow create"); n != 1 {
		t.Fatalf("%d follow-up comments", n)
	}
}

// The same for a comment: its reconciliation reads the ticket's history
// only after the attempt settled, and finds the comment RT made late.
func TestAmbiguousCommentWaitsForRT(t *testing.T) {
	env := testenv.RequireRT(t)
	t.Parallel() // seconds of waiting for RT; own events and subjects
	p := newSlowRT(t, env.URL, `/REST/1\.0/ticket/[0-9]+/comment$`, 2500*time.Millisecond)
	h := newHarness(t)
	g := group(t)
	id := h.accept(g, "General", "slow comment")
	h.runUntil(h.settleExecutor(t, slowClient(t, p, 2*time.Second), "", 6*time.Second), id)
	e := h.event(id)
	if e.State != store.StateDone {
		t.Fatalf("%s (%s) %s", e.State, e.DeadClass, e.Reason)
	}
	if s := e.Steps[1]; s.Attempts != 1 || s.Txn == 0 {
		t.Fatalf("comment step %+v: want one attempt, adopted from history", s)
	}
	if n := commentsWith(t, rtClient(t), e.Steps[0].Ticket, "follow-up: slow comment"); n != 1 {
		t.Fatalf("%d follow-up comments, want 1", n)
	}
}

// prepended plans like its rules, with one more step first (a comment on
// an existing ticket): a re-plan that moves the create to step 2.
type prepended struct {
	*rules.RuleSet
	ticket int
}

func (p prepended) Evaluate(ev *event.Event, f plan.Facts) (*plan.Plan, error) {
	pl, err := p.RuleSet.Evaluate(ev, f)
	if err != nil || pl.Ignore != nil {
		return pl, err
	}
	for i := range pl.Steps {
		if pl.Steps[i].Ticket.Step > 0 {
			pl.Steps[i].Ticket.Step++
		}
	}
	first := plan.Step{Action: plan.ActionComment, Ticket: plan.TicketRef{ID: p.ticket}, Message: &plan.Message{Text: "rtbridge executor test: prepended"}}
	pl.Steps = append([]plan.Step{first}, pl.Steps...)
	return pl, nil
}

// A create of unknown outcome whose checks keep failing dies after
// MaxReconciles checks, class ambiguous, telling the operator what to look
// for. The operator's retry re-plans with rules that move the create to
// step 2: the reconciliation searches for the value the first attempt
// sent, adopts that ticket, and makes no second one.
func TestUnknownCreateBoundedThenMovedByReplan(t *testing.T) {
	c := rtClient(t)
	cf := testenv.Require(t, "RT_TEST_CF")["RT_TEST_CF"]
	h := newHarness(t)
	g := group(t)
	id := h.accept(g, "General", "moved")
	b := Backoff{Base: 10 * time.Millisecond, Max: 20 * time.Millisecond, MaxReconciles: 3}
	h.runUntil(h.executorWith(reconcileDown{&lostAnswer{Client: c}}, cf, b, nil), id)
	e := h.event(id)
	if e.State != store.StateDead || e.DeadClass != ClassAmbiguous || e.DeadStep != 0 {
		t.Fatalf("dead letter: %s class %q step %d: %s", e.State, e.DeadClass, e.DeadStep, e.Reason)
	}
	s := e.Steps[0]
	if s.State != store.StepUnknown || s.Reconciles != 3 || s.Attempts != 1 || s.Idem != id+"/1" {
		t.Fatalf("create step %+v", s)
	}
	for _, want := range []string{"step 1 (create)", "'CF.{" + cf + "}' = '" + id + "/1'", "deadletter retry " + id, "3 failed checks"} {
		if !strings.Contains(e.Reason, want) {
			t.Fatalf("reason lacks %q: %s", want, e.Reason)
		}
	}
	made := ticketsWithSubject(t, c, g)
	if len(made) != 1 {
		t.Fatalf("%d tickets before the retry", len(made))
	}

	other, err := c.CreateTicket(context.Background(), rtapi.TicketCreate{Queue: "General", Subject: "rtbridge executor test other " + g})
	if err != nil {
		t.Fatal(err)
	}
	h.setRules(prepended{RuleSet: compile(t, ruleYAML), ticket: other})
	if err := h.st.Retry(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	h.runUntil(h.executorWith(c, cf, b, nil), id)
	e = h.event(id)
	if e.State != store.StateDone || len(e.Steps) != 3 {
		t.Fatalf("after the retry: %s (%s) %s, steps %+v", e.State, e.DeadClass, e.Reason, e.Steps)
	}
	res := ticketsWithSubject(t, c, g)
	if len(res) != 1 || res[0].ID != made[0].ID || e.Steps[1].Ticket != made[0].ID || e.Steps[1].Idem != id+"/1" {
		t.Fatalf("tickets %+v (before: %+v), create step %+v", res, made, e.Steps[1])
	}
	if n := commentsWith(t, c, made[0].ID, "follow-up: moved"); n != 1 {
		t.Fatalf("%d follow-up comments", n)
	}
}
