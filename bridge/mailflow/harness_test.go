package mailflow_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rtbridge/rtbridge/bridge/daemon"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// mailbox is the test Dovecot account with folders private to one test.
type mailbox struct {
	t     testing.TB
	env   map[string]string
	base  string
	admin *imapclient.Client
}

func newMailbox(t testing.TB) *mailbox {
	t.Helper()
	env := testenv.Require(t, "IMAP_HOST", "IMAP_PORT", "IMAP_USER", "IMAP_PASSWORD", "IMAP_CA_CERT")
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	m := &mailbox{t: t, env: env, base: fmt.Sprintf("mf-%s-%d", name, time.Now().UnixNano()%1e9)}
	m.connect()
	t.Cleanup(func() { m.admin.Close() })
	return m
}

func (m *mailbox) connect() {
	c, err := imapclient.DialInsecure(net.JoinHostPort(m.env["IMAP_HOST"], m.env["IMAP_PORT"]), nil)
	if err != nil {
		m.t.Fatalf("imap dial: %v", err)
	}
	if err := c.Login(m.env["IMAP_USER"], m.env["IMAP_PASSWORD"]).Wait(); err != nil {
		m.t.Fatalf("imap login: %v", err)
	}
	m.admin = c
}

// folder creates a private folder and returns its full name.
func (m *mailbox) folder(name string) string {
	m.t.Helper()
	full := m.base + "-" + name
	if err := m.admin.Create(full, nil).Wait(); err != nil {
		m.t.Fatalf("create %s: %v", full, err)
	}
	m.t.Cleanup(func() {
		if m.admin.Delete(full).Wait() != nil {
			m.connect() // the connection died meanwhile: one more try
			m.admin.Delete(full).Wait()
		}
	})
	return full
}

// retry runs op, reconnecting once when the connection failed: the
// imapsource tests restart Dovecot, and packages' tests run in parallel.
func (m *mailbox) retry(what string, op func() error) {
	m.t.Helper()
	err := op()
	if err == nil {
		return
	}
	select {
	case <-m.admin.Closed():
	default:
		if !strings.Contains(err.Error(), "closed") && !strings.Contains(err.Error(), "EOF") {
			m.t.Fatalf("%s: %v", what, err)
		}
	}
	m.admin.Close()
	time.Sleep(time.Second)
	m.connect()
	if err := op(); err != nil {
		m.t.Fatalf("%s (after reconnecting): %v", what, err)
	}
}

func (m *mailbox) append(folder string, raw []byte) {
	m.t.Helper()
	m.retry("append", func() error {
		cmd := m.admin.Append(folder, int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		_, err := cmd.Wait()
		return err
	})
}

// count is the number of messages in folder.
func (m *mailbox) count(folder string) int {
	m.t.Helper()
	n := 0
	m.retry("status "+folder, func() error {
		st, err := m.admin.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
		if err == nil {
			n = int(*st.NumMessages)
		}
		return err
	})
	return n
}

// imapYAML is one imap: account entry on the test Dovecot (STARTTLS with
// the test CA); extra adds keys (indented four spaces).
func (m *mailbox) imapYAML(account string, folders []string, extra string) string {
	return fmt.Sprintf(`  - name: %s
    address: %s
    tls: starttls
    ca_file: %s
    server_name: localhost
    username: %s
    password: %q
    folders: [%s]
    poll_interval: 1s
    batch_size: 100
%s`, account, net.JoinHostPort(m.env["IMAP_HOST"], m.env["IMAP_PORT"]), m.env["IMAP_CA_CERT"],
		m.env["IMAP_USER"], m.env["IMAP_PASSWORD"], strings.Join(quoteAll(folders), ", "), extra)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// bridge is a real daemon (bridge/daemon.Run) for one test, plus a second
// handle on its store to watch events.
type bridge struct {
	t    testing.TB
	dir  string
	addr string
	st   *store.Store
}

// startBridge runs the daemon with the given imap: entries and rules:
// section against rtURL.
func startBridge(t testing.TB, rtURL, rtToken, imapEntries, rules string) *bridge {
	t.Helper()
	return startBridgeAPI(t, "rest1", rtURL, rtToken, imapEntries, rules)
}

// startBridgeAPI is startBridge talking to RT through api (rest1, rest2).
func startBridgeAPI(t testing.TB, api, rtURL, rtToken, imapEntries, rules string) *bridge {
	t.Helper()
	dir := t.TempDir()
	tok := filepath.Join(dir, "rt-token")
	if err := os.WriteFile(tok, []byte(rtToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "rtbridge.yaml")
	body := fmt.Sprintf(`rt:
  api: %s
  url: %s
  auth: token
  token_file: %s
  idempotency_field: RTBridgeKey
  timeout: 20s
state:
  dir: %s
log: {level: debug}
http:
  listen: 127.0.0.1:0
imap:
%sexecutor:
  workers: 4
  backoff: {initial: 200ms, max: 1s}
  breaker: {failures: 3, open_for: 1s}
%s`, api, rtURL, tok, filepath.Join(dir, "state"), imapEntries, rules)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Options{ConfigPath: cfg, LogOutput: logf, Version: "mailflow-test",
			Listening: func(a string) { addr <- a }})
	}()
	b := &bridge{t: t, dir: dir}
	select {
	case b.addr = <-addr:
	case err := <-done:
		logf.Close()
		log, _ := os.ReadFile(logf.Name())
		t.Fatalf("daemon did not start: %v\n%s", err, log)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start listening")
	}
	b.st, err = store.Open(ctx, filepath.Join(dir, "state"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.st.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		logf.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logf.Name())
			t.Logf("daemon log (tail):\n%s", log[max(0, len(log)-12000):])
		}
	})
	return b
}

// events returns the stored events of source.
func (b *bridge) events(source string) []*store.Event {
	b.t.Helper()
	all, err := b.st.Recent(context.Background(), 100000)
	if err != nil {
		b.t.Fatal(err)
	}
	var out []*store.Event
	for _, e := range all {
		if e.Source == source {
			out = append(out, e)
		}
	}
	// Recent lists only final events; add the ones still in work.
	pending, err := b.pending(source)
	if err != nil {
		b.t.Fatal(err)
	}
	out = append(out, pending...)
	slices.SortFunc(out, func(x, y *store.Event) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// pending lists source's events not yet final, through the store's
// runnable view and the dead/final lists.
func (b *bridge) pending(source string) ([]*store.Event, error) {
	work, err := b.st.Runnable(context.Background(), time.Now().Add(24*time.Hour), 100000)
	if err != nil {
		return nil, err
	}
	var out []*store.Event
	for _, w := range work {
		e, err := b.st.Event(context.Background(), w.ID)
		if err != nil {
			return nil, err
		}
		if e.Source == source && !e.State.Final() {
			out = append(out, e)
		}
	}
	return out, nil
}

// waitFinal waits until source has n events, all final and dispositioned
// on the server, and returns them in arrival order.
func (b *bridge) waitFinal(source string, n int, within time.Duration) []*store.Event {
	b.t.Helper()
	deadline := time.Now().Add(within)
	var evs []*store.Event
	for time.Now().Before(deadline) {
		evs = b.events(source)
		done := len(evs) == n
		for _, e := range evs {
			if !e.State.Final() || !e.Finished {
				done = false
			}
		}
		if done {
			for i, e := range evs {
				full, err := b.st.Event(context.Background(), e.ID)
				if err != nil {
					b.t.Fatal(err)
				}
				evs[i] = full
			}
			return evs
		}
		time.Sleep(200 * time.Millisecond)
	}
	var states []string
	for _, e := range evs {
		states = append(states, fmt.Sprintf("%s:%s(finished=%v,%s)", e.ID, e.State, e.Finished, e.Reason))
	}
	b.t.Fatalf("source %s: want %d final events within %s; have %d: %v", source, n, within, len(evs), states)
	return nil
}

// metric returns the text of /metrics.
func (b *bridge) metrics() string {
	b.t.Helper()
	resp, err := http.Get("http://" + b.addr + "/metrics")
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// ticketOf returns the ticket the event's first step created or acted on.
func ticketOf(t testing.TB, e *store.Event) int {
	t.Helper()
	for _, s := range e.Steps {
		if s.Ticket > 0 {
			return s.Ticket
		}
	}
	t.Fatalf("event %s (%s, %s) has no ticket", e.ID, e.State, e.Reason)
	return 0
}

func rtClient(t testing.TB, rt testenv.RT) *rtapi.Client {
	t.Helper()
	c, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rtContent returns the sha256 of an RT attachment's /content bytes.
func rtContent(t testing.TB, c *rtapi.Client, ticket, aid int) (string, string) {
	t.Helper()
	ct, body, err := c.AttachmentContent(context.Background(), ticket, aid)
	if err != nil {
		t.Fatalf("ticket %d attachment %d: %v", ticket, aid, err)
	}
	defer body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, body); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), ct
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// gate is a reverse proxy to RT that answers 503 while closed.
type gate struct {
	URL  string
	open atomic.Bool
}

func newGate(t testing.TB, target string) *gate {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{}
	rp := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.open.Load() {
			http.Error(w, "gate closed", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	g.URL = "http://" + ln.Addr().String() + "/"
	return g
}

// crlf turns a fixture written with LF line ends into wire format.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n"))
}

// readRaw returns the stored raw bytes of an event.
func readRaw(t testing.TB, b *bridge, id string) string {
	t.Helper()
	rc, err := b.st.Raw(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
