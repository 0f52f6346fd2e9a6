package e2e_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
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
