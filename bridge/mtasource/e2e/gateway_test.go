package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// cutProxy forwards to RT, except that the first post to the mail gateway
// reaches RT whole and then loses its answer: the connection is closed
// after RT replied, as when a network drops it.
type cutProxy struct {
	URL  string
	cuts atomic.Int32
}

func newCutProxy(t testing.TB, target string) *cutProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/NoAuth/mail-gateway") || !p.cuts.CompareAndSwap(0, 1) {
			rp.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequest(r.Method, strings.TrimSuffix(target, "/")+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p.URL = "http://" + ln.Addr().String() + "/"
	return p
}

// deliver: gateway hands the raw mail to RT's own mail gateway: the ticket's
// creator is the sender (not the bridge's RT user); a post whose answer was
// lost is found by its Message-ID and not posted again; RT's refusal is a
// dead letter with RT's answer.
func TestPostfixGatewayDelivery(t *testing.T) {
	proxy := newCutProxy(t, testenv.RequireRT(t).URL)
	e := setupWith(t, proxy.URL, "  deliver: gateway\n",
		"      - { recipient: \"t@lmtp.rt.test\", queue: General, action: comment, extension: ticket }\n")
	e.start()
	u := tag("GW")
	sender := strings.ToLower(u) + "@example.org"
	pipe := e.pf["POSTFIX_PIPE_ADDRESS"]

	// The first post loses its answer after RT filed it.
	e.send(sender, pipe, mail(sender, pipe, u+" first", u+"-1@example.org", nil, "filed by RT's gateway", nil))
	e.send(sender, pipe, mail(sender, pipe, u+" second", u+"-2@example.org", nil, "filed by RT's gateway", nil))
	got := e.waitTickets(u, 2, 120*time.Second)
	// The event of the cut post stays unknown until RT must have finished
	// (rt.timeout and as long again); then it is reconciled, not re-posted.
	if !e.logSays("reconciled: RT filed the mail", 90*time.Second) {
		t.Errorf("the lost answer was not reconciled by Message-ID")
	}
	got = e.tickets(u)
	for _, s := range []string{u + " first", u + " second"} {
		ids := got[s]
		if len(ids) != 1 {
			t.Fatalf("%q: tickets %v, want exactly one (all: %v)", s, ids, got)
		}
		tk, err := e.rtc.Ticket(context.Background(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if tk.Creator != sender {
			t.Errorf("ticket %d: creator %q, want the sender %q", ids[0], tk.Creator, sender)
		}
	}
	if proxy.cuts.Load() != 1 {
		t.Errorf("the proxy cut %d answers, want 1", proxy.cuts.Load())
	}

	// A comment on a ticket RT does not have: RT refuses, a dead letter.
	bad := "t+99999999@lmtp.rt.test"
	e.send(sender, bad, mail(sender, bad, u+" refused", u+"-3@example.org", nil, "no such ticket", nil))
	var dead *store.Event
	for deadline := time.Now().Add(90 * time.Second); dead == nil && time.Now().Before(deadline); time.Sleep(time.Second) {
		dead = e.deadLetter(u + "-3@example.org")
	}
	if dead == nil {
		t.Fatal("the refused mail is not a dead letter")
	}
	t.Logf("dead letter: %s", dead.Reason)
	if !strings.Contains(dead.Reason, "operation unsuccessful") && !strings.Contains(dead.Reason, "not ok") {
		t.Errorf("dead letter reason %q does not carry RT's answer", dead.Reason)
	}
}

// logSays waits until the daemon's log holds text.
func (e *env) logSays(text string, within time.Duration) bool {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if log, _ := os.ReadFile(filepath.Join(e.dir, "daemon.log")); bytes.Contains(log, []byte(text)) {
			return true
		}
	}
	return false
}

// deadLetter finds the dead event of the mail with that Message-ID (a
// second handle on the running daemon's store, read only).
func (e *env) deadLetter(msgid string) *store.Event {
	st, err := store.Open(context.Background(), filepath.Join(e.dir, "state"), store.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.DeadLetters(context.Background(), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range evs {
		if strings.Contains(ev.DedupKey, msgid) {
			return ev
		}
	}
	return nil
}

// closedQueue is the test RT's queue on which no ordinary sender may
// create, reply or comment (test/servers/rt/ensure-queues.sh).
func closedQueue(t *testing.T, e *env) string {
	q, ok := testenv.Lookup("RT_CLOSED_QUEUE")
	if !ok {
		q = "rtbridge-closed"
	}
	if _, err := e.rtc.Queue(context.Background(), q); err != nil {
		t.Fatalf("queue %s: %v (run test/servers/rt/ensure-queues.sh)", q, err)
	}
	return q
}

// setupMailgate is a daemon of its own, without Postfix: its mailgate
// socket and binary in the test's directory, RT at rtURL, the mta section
// delivering with deliver, and rules. Mail goes in with mailgate, as an alias pipe
// would run it.
func setupMailgate(t *testing.T, rtURL, deliver, rules string) *env {
	rt := testenv.RequireRT(t)
	rtc, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, rt: rt, rtc: rtc, dir: t.TempDir()}
	e.bin = filepath.Join(e.dir, "rtbridge")
	e.build()
	tok := filepath.Join(e.dir, "rt-token")
	os.WriteFile(tok, []byte(rt.Token+"\n"), 0o600)
	e.addr = freePort(t)
	e.cfg = filepath.Join(e.dir, "rtbridge.yaml")
	cfg := fmt.Sprintf(`rt: { url: %s, auth: token, token_file: %s, timeout: 10s }
state: { dir: %s }
log: { level: debug }
http: { listen: %s }
executor: { workers: 2, backoff: { initial: 200ms, max: 1s } }
mta:
  mailgate: { socket: %s }
  rt_names: [example.com]
  deliver: %s
%s`, rtURL, tok, filepath.Join(e.dir, "state"), e.addr, e.socket(), deliver, rules)
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stopAndShowLog)
	return e
}

func (e *env) socket() string { return filepath.Join(e.dir, "mailgate.sock") }

// mailgate hands raw to the daemon as an alias line would: rtbridge
// mailgate --queue queue --action action, the mail on stdin.
func (e *env) mailgate(queue, action string, raw []byte) {
	e.t.Helper()
	cmd := exec.Command(e.bin, "mailgate", "--socket", e.socket(), "--queue", queue, "--action", action, "--url", "http://rt.invalid/")
	cmd.Stdin = bytes.NewReader(raw)
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("rtbridge mailgate: %v\n%s", err, out)
	}
}

// A rule's deliver: gateway sends its mail through RT's own mail gateway,
// which files it as the sender and checks the sender's rights: the sender
// opens a ticket in General (Creator: the sender; one ticket, though the
// post's answer was lost), but RT refuses the same
// sender's new ticket and reply to a ticket in a queue where ordinary
// senders have no rights, and each becomes a dead letter carrying RT's
// answer. RT's log shows the refusal was the rights check (RT names it
// only there).
func TestGatewayRuleRefusesSenderWithoutRights(t *testing.T) {
	rtLog := testenv.Require(t, "RT_LOG")["RT_LOG"]
	proxy := newCutProxy(t, testenv.RequireRT(t).URL)
	e := setupMailgate(t, proxy.URL, "rest", `rules:
  - name: closed queue through RT's mail gateway
    when: { mta: { queue: rtbridge-closed } }
    deliver: gateway
    thread: true
    if_exists: [ { correspond: { } } ]
    if_missing: [ { create: { queue: '{{ .MTA.Queue }}' } } ]
  - name: General through RT's mail gateway
    when: { mta: { queue: General } }
    deliver: gateway
    do: [ { create: { queue: General } } ]
`)
	queue := closedQueue(t, e)
	u := tag("GWR")
	stranger := strings.ToLower(u) + "-stranger@example.org"
	ticket, err := e.rtc.CreateTicket(context.Background(), rtapi.TicketCreate{Queue: queue, Subject: u + " staff ticket", Requestors: []string{"staff-" + stranger}})
	if err != nil {
		t.Fatal(err)
	}
	e.start()

	const to = "closed@rt.test"
	// The same sender may open a ticket in General: RT files it, as the
	// sender. The proxy cuts the answer off: the post is reconciled by its
	// Message-ID, not posted again.
	e.mailgate("General", "correspond", mail(stranger, to, u+" new in General", u+"-general@example.org", nil, "hello General", nil))
	if got := e.waitTickets(u+" new in General", 1, 180*time.Second); len(got[u+" new in General"]) != 1 {
		t.Fatalf("General: tickets %v, want one", got)
	} else if tk, err := e.rtc.Ticket(context.Background(), got[u+" new in General"][0]); err != nil {
		t.Fatal(err)
	} else if tk.Creator != stranger {
		t.Errorf("General ticket %d: creator %q, want the sender %q", tk.ID, tk.Creator, stranger)
	}
	if !e.logSays("reconciled: RT filed the mail", 180*time.Second) || proxy.cuts.Load() != 1 {
		t.Errorf("the cut answer (%d cuts) was not reconciled by Message-ID", proxy.cuts.Load())
	}
	e.mailgate(queue, "correspond", mail(stranger, to, u+" new from a stranger", u+"-new@example.org", nil, "may I open a ticket?", nil))
	tagged := fmt.Sprintf("Re: [example.com #%d] %s staff ticket", ticket, u)
	e.mailgate(queue, "correspond", mail(stranger, to, tagged, u+"-reply@example.org", nil, "may I reply?", nil))

	for _, c := range []struct{ msgid, rtSays string }{
		{u + "-new@example.org", fmt.Sprintf("Permission Denied: %s has no right to create tickets in queue %s", stranger, queue)},
		{u + "-reply@example.org", fmt.Sprintf("Permission Denied: %s has no right to reply to ticket %d in queue %s", stranger, ticket, queue)},
	} {
		var dead *store.Event
		for deadline := time.Now().Add(180 * time.Second); dead == nil && time.Now().Before(deadline); time.Sleep(time.Second) {
			dead = e.deadLetter(c.msgid)
		}
		if dead == nil {
			t.Fatalf("%s: not a dead letter", c.msgid)
		}
		t.Logf("%s: dead letter: %s", c.msgid, dead.Reason)
		if !strings.Contains(dead.Reason, "RT refused the mail: ") || !strings.Contains(dead.Reason, "mail-gateway error") {
			t.Errorf("%s: dead letter reason %q does not carry RT's answer", c.msgid, dead.Reason)
		}
		if log, err := os.ReadFile(rtLog); err != nil {
			t.Errorf("RT's log: %v", err)
		} else if !bytes.Contains(log, []byte("mail-gateway error: "+c.rtSays)) {
			t.Errorf("%s: RT's log has no %q", c.msgid, c.rtSays)
		}
	}
	if got := e.tickets(u); len(got) != 2 {
		t.Errorf("tickets %v, want only the staff ticket and the one in General", got)
	}
	items, err := e.rtc.History(context.Background(), ticket, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if strings.Contains(it.Content, "may I reply?") {
			t.Errorf("the refused reply reached ticket %d (transaction %d)", ticket, it.ID)
		}
	}
}
