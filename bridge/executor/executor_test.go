package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rules"
	"gopkg.in/yaml.v3"
)

// ruleYAML: a JSON event {"group","queue","msg"} opens a ticket for its
// group and comments on it; later events of the group only comment.
const ruleYAML = `
- name: json groups
  when: { kind: json }
  key: 'grp:{{ get .JSON "group" }}'
  if_exists:
    - comment: { text: 'again: {{ get .JSON "msg" }}' }
  if_missing:
    - create: { queue: '{{ get .JSON "queue" }}', subject: 'rtbridge executor test {{ get .JSON "group" }}', text: 'first: {{ get .JSON "msg" }}' }
    - comment: { text: 'follow-up: {{ get .JSON "msg" }}' }
`

func compile(t *testing.T, src string) *rules.RuleSet {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Compile(rules.Source{File: "test.yaml", Rules: n.Content[0]})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// readPayload reads a small test payload whole.
func readPayload(open func() (io.ReadCloser, error)) ([]byte, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func rtClient(t *testing.T) *rtapi.Client {
	env := testenv.RequireRT(t)
	c, err := rtapi.New(rtapi.Config{URL: env.URL, Auth: rtapi.NewTokenAuth(env.Token), Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testSettle: the fake ambiguous answers in these tests come after RT
// finished the request, so reconciling may follow almost at once.
const testSettle = 50 * time.Millisecond

type harness struct {
	t     *testing.T
	st    *store.Store
	rules plan.Planner
	mu    sync.Mutex
}

func newHarness(t *testing.T) *harness {
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &harness{t: t, st: st, rules: compile(t, ruleYAML)}
}

func (h *harness) setRules(rs plan.Planner) { h.mu.Lock(); h.rules = rs; h.mu.Unlock() }

func (h *harness) executor(rt RT, idem string, workers int) *Executor {
	x, err := New(Options{Store: h.st, RT: rt, Workers: workers, IdempotencyField: idem,
		Rules:   func(event.Kind) plan.Planner { h.mu.Lock(); defer h.mu.Unlock(); return h.rules },
		Backoff: Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond},
		Poll:    20 * time.Millisecond, Settle: testSettle})
	if err != nil {
		h.t.Fatal(err)
	}
	return x
}

func (h *harness) accept(group, queue, msg string) string {
	body := fmt.Sprintf(`{"group":%q,"queue":%q,"msg":%q}`, group, queue, msg)
	acc, err := h.st.Accept(context.Background(), source.Incoming{Source: "hook", Kind: event.KindJSON, Raw: strings.NewReader(body)})
	if err != nil {
		h.t.Fatal(err)
	}
	return acc.ID
}

// runUntil runs x until every listed event is final (or the deadline).
func (h *harness) runUntil(x *Executor, ids ...string) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { x.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for _, id := range ids {
			e, err := h.st.Event(context.Background(), id)
			if err != nil {
				h.t.Fatal(err)
			}
			all = all && e.State.Final()
		}
		if all {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("events not final within the deadline")
}

func (h *harness) event(id string) *store.Event {
	e, err := h.st.Event(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

func group(t *testing.T) string { return fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano()) }

// ticketsWithSubject counts RT's tickets for a test group.
func ticketsWithSubject(t *testing.T, c *rtapi.Client, g string) []rtapi.SearchResult {
	t.Helper()
	res, err := c.SearchTickets(context.Background(), fmt.Sprintf("Subject = 'rtbridge executor test %s'", g), "id", "s")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func commentsWith(t *testing.T, c *rtapi.Client, ticket int, text string) int {
	t.Helper()
	items, err := c.History(context.Background(), ticket, true)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Type == "Comment" && strings.Contains(it.Content, text) {
			n++
		}
	}
	return n
}

// A create+comment plan, then a second event of the same group comments on
// the ticket the first created (the ledger).
func TestCreateCommentThenLedger(t *testing.T) {
	c := rtClient(t)
	h := newHarness(t)
	g := group(t)
	a := h.accept(g, "General", "disk full")
	h.runUntil(h.executor(c, "", 2), a)
	e := h.event(a)
	if e.State != store.StateDone || len(e.Steps) != 2 || e.Steps[0].Ticket == 0 || e.Steps[1].Ticket != e.Steps[0].Ticket {
		t.Fatalf("first event: %s %+v", e.State, e.Steps)
	}
	tk := e.Steps[0].Ticket
	if n := commentsWith(t, c, tk, "follow-up: disk full"); n != 1 {
		t.Fatalf("%d follow-up comments on ticket %d", n, tk)
	}
	b := h.accept(g, "General", "still full")
	h.runUntil(h.executor(c, "", 2), b)
	e = h.event(b)
	if e.State != store.StateDone || len(e.Steps) != 1 || e.Steps[0].Action != "comment" || e.Steps[0].Ticket != tk {
		t.Fatalf("second event: %s %+v", e.State, e.Steps)
	}
	if n := len(ticketsWithSubject(t, c, g)); n != 1 {
		t.Fatalf("%d tickets for one group", n)
	}
	le, ok, _ := h.st.Ledger(context.Background(), "grp:"+g)
	if !ok || le.Ticket != tk {
		t.Fatalf("ledger %+v", le)
	}
}

// Several notifications of one group accepted together, with several
// workers: one ticket, and every event's comment on it, in order.
func TestSameKeyConcurrentOneTicket(t *testing.T) {
	c := rtClient(t)
	h := newHarness(t)
	g := group(t)
	var ids []string
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := h.accept(g, "General", fmt.Sprintf("n%d", i))
			mu.Lock()
			ids = append(ids, id)
			mu.Unlock()
		}()
	}
	wg.Wait()
	h.runUntil(h.executor(c, "", 4), ids...)
	res := ticketsWithSubject(t, c, g)
	if len(res) != 1 {
		t.Fatalf("%d tickets for one group, want 1", len(res))
	}
	creates := 0
	for _, id := range ids {
		e := h.event(id)
		if e.State != store.StateDone {
			t.Fatalf("%s: %s (%s)", id, e.State, e.Reason)
		}
		for _, s := range e.Steps {
			if s.Action == "create" {
				creates++
			}
			if s.Ticket != res[0].ID {
				t.Fatalf("step on ticket %d, want %d", s.Ticket, res[0].ID)
			}
		}
	}
	if creates != 1 {
		t.Fatalf("%d creates", creates)
	}
}

// An unknown queue: dead at once with RT's message; the operator fixes the
// rule and retries: a ticket.
func TestPermanentDeadThenRetry(t *testing.T) {
	c := rtClient(t)
	h := newHarness(t)
	g := group(t)
	id := h.accept(g, "NoSuchQueue-rtbridge", "x")
	h.runUntil(h.executor(c, "", 1), id)
	e := h.event(id)
	if e.State != store.StateDead || e.DeadStep != 0 || e.DeadClass != "permanent" || !strings.Contains(strings.ToLower(e.Reason), "queue") {
		t.Fatalf("dead letter: %s step %d class %q reason %q", e.State, e.DeadStep, e.DeadClass, e.Reason)
	}
	// RT refused the create: the step failed (it is not of unknown outcome), with RT's words.
	if s := e.Steps[0]; s.State != store.StepFailed || s.Class != "permanent" || s.Message != e.Reason {
		t.Fatalf("refused step %+v", s)
	}
	h.setRules(compile(t, strings.ReplaceAll(ruleYAML, `queue: '{{ get .JSON "queue" }}'`, `queue: General`)))
	if err := h.st.Retry(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	h.runUntil(h.executor(c, "", 1), id)
	e = h.event(id)
	if e.State != store.StateDone || e.Steps[0].Ticket == 0 {
		t.Fatalf("after retry: %s %+v", e.State, e.Steps)
	}
	if n := len(ticketsWithSubject(t, c, g)); n != 1 {
		t.Fatalf("%d tickets", n)
	}
}

// hangComment is RT whose Comment never answers until the context ends:
// the process "crashes" (is stopped) between the create and the comment.
type hangComment struct{ *rtapi.Client }

func (h hangComment) Comment(ctx context.Context, id int, m rtapi.Message) error {
	<-ctx.Done()
	return &rtapi.Error{Op: "comment", Kind: rtapi.Ambiguous, Err: ctx.Err()}
}

// A plan interrupted after its create resumes at the comment: no second ticket.
func TestResumeAfterCrashNoSecondTicket(t *testing.T) {
	c := rtClient(t)
	h := newHarness(t)
	g := group(t)
	id := h.accept(g, "General", "crash")
	x := h.executor(hangComment{c}, "", 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { x.Run(ctx); close(done) }()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if e := h.event(id); len(e.Steps) == 2 && e.Steps[0].State == store.StepDone && e.Steps[1].Attempts > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("create did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	e := h.event(id)
	if e.State.Final() || e.Steps[1].State != store.StepUnknown {
		t.Fatalf("after the stop: %s, comment step %s", e.State, e.Steps[1].State)
	}
	h.runUntil(h.executor(c, "", 1), id)
	e = h.event(id)
	if e.State != store.StateDone {
		t.Fatalf("after restart: %s %s", e.State, e.Reason)
	}
	res := ticketsWithSubject(t, c, g)
	if len(res) != 1 || res[0].ID != e.Steps[0].Ticket {
		t.Fatalf("tickets %+v, step ticket %d", res, e.Steps[0].Ticket)
	}
	if n := commentsWith(t, c, res[0].ID, "follow-up: crash"); n != 1 {
		t.Fatalf("%d comments", n)
	}
}

// lostAnswer creates the ticket in RT, then reports the answer lost.
type lostAnswer struct {
	*rtapi.Client
	mu    sync.Mutex
	fired bool
}

func (l *lostAnswer) CreateTicket(ctx context.Context, tc rtapi.TicketCreate) (int, error) {
	l.mu.Lock()
	first := !l.fired
	l.fired = true
	l.mu.Unlock()
	id, err := l.Client.CreateTicket(ctx, tc)
	if err == nil && first {
		return 0, &rtapi.Error{Op: "create ticket", Kind: rtapi.Ambiguous, Err: errors.New("read: connection reset by peer")}
	}
	return id, err
}

// An ambiguous create with rt.idempotency_field: the retry finds the ticket
// by its key and adopts it instead of creating a second.
func TestIdempotencyFieldAdoptsTicket(t *testing.T) {
	c := rtClient(t)
	cf := testenv.Require(t, "RT_TEST_CF")["RT_TEST_CF"]
	h := newHarness(t)
	g := group(t)
	id := h.accept(g, "General", "lost")
	rt := &lostAnswer{Client: c}
	h.runUntil(h.executor(rt, cf, 1), id)
	e := h.event(id)
	if e.State != store.StateDone {
		t.Fatalf("%s: %s", e.State, e.Reason)
	}
	res := ticketsWithSubject(t, c, g)
	if len(res) != 1 || res[0].ID != e.Steps[0].Ticket || e.Steps[0].Attempts != 1 {
		t.Fatalf("tickets %+v, step %+v", res, e.Steps[0])
	}
	tk, err := c.Ticket(context.Background(), res[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := tk.CustomFields[cf]; len(got) != 1 || got[0] != id+"/1" {
		t.Fatalf("ticket's %s = %q, want %s/1", cf, got, id)
	}
}
