// Package e2e_test runs the whole alert path with real parts: two
// unclustered Alertmanagers (an HA pair whose gossip failed) deliver to the
// real daemon (bridge/daemon.Run: webhook, store, rules, executor), which
// writes to the real RT. It checks RT after each phase.
package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/daemon"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/amtest"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

func TestHAPairFireChangeResolve(t *testing.T) {
	rt := testenv.RequireRT(t)
	testenv.Require(t, "ALERTMANAGER_BIN")
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	name := fmt.Sprintf("E2E%d", time.Now().UnixNano())
	hookTok := write("hook-token", "am-e2e-token\n")
	stateDir := filepath.Join(dir, "state")
	cfg := write("rtbridge.yaml", fmt.Sprintf(`rt:
  url: %s
  auth: token
  token_file: %s
state:
  dir: %s
log: {level: debug}
http:
  listen: 127.0.0.1:0
webhooks:
  - name: am
    path: /alertmanager
    kind: alertmanager
    auth:
      bearer:
        token_file: %s
executor:
  workers: 4
  backoff: {initial: 200ms, max: 2s}
rules:
  - name: e2e alerts
    when:
      kind: alertmanager
      labels: [ 'alertname="%s"' ]
    key: 'am:{{ .GroupKey }}'
    skip_repeats: true
    if_exists:
      - comment: { text: '{{ len .Alerts.Firing }} firing, {{ len .Alerts.Resolved }} resolved' }
    if_missing:
      - create: { queue: General, subject: '%s {{ len .Alerts.Firing }} firing', text: 'opened by the e2e test' }
  - name: default
    do: [ { ignore: 'not this test' } ]
`, rt.URL, write("rt-token", rt.Token+"\n"), stateDir, hookTok, name, name))

	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	logf, _ := os.Create(filepath.Join(dir, "daemon.log"))
	go func() {
		done <- daemon.Run(ctx, daemon.Options{ConfigPath: cfg, LogOutput: logf, Listening: func(a string) { addr <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "daemon.log"))
			t.Logf("daemon log (tail):\n%s", b[max(0, len(b)-6000):])
		}
	})
	var url string
	select {
	case a := <-addr:
		url = "http://" + a + "/alertmanager"
	case err := <-done:
		t.Fatalf("daemon did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start listening")
	}

	amCfg := amtest.Config{ReceiverURL: url, TokenFile: hookTok, GroupWait: 200 * time.Millisecond, GroupInterval: time.Second}
	pair := []*amtest.Instance{amtest.Start(t, amCfg), amtest.Start(t, amCfg)}
	post := func(as ...amtest.Alert) {
		for _, am := range pair {
			if err := am.Post(ctx, as...); err != nil {
				t.Fatal(err)
			}
		}
	}
	client, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	a := map[string]string{"alertname": name, "instance": "a\nQueue: Admin"}
	b := map[string]string{"alertname": name, "instance": "b", "note": "{{ .Secret }}"}

	// Phase 1: both fire on both Alertmanagers -> exactly one ticket.
	post(amtest.Alert{Labels: a}, amtest.Alert{Labels: b})
	id := waitTicket(t, client, name)
	settle(t, stateDir, 2)
	if ids := tickets(t, client, name); len(ids) != 1 {
		t.Fatalf("HA pair created %d tickets: %v", len(ids), ids)
	}
	tk, err := client.Ticket(ctx, id)
	if err != nil || tk.Queue != "General" || tk.Subject != name+" 2 firing" {
		t.Fatalf("ticket %+v %v", tk, err)
	}
	if n := comments(t, client, id); len(n) != 0 {
		t.Fatalf("comments after firing: %q", n)
	}

	// Phase 2: a resolves -> one comment, from two deliveries.
	post(amtest.Alert{Labels: a, EndsAt: time.Now().Add(-time.Second)})
	waitComments(t, client, id, 1)
	settle(t, stateDir, 4)
	if c := comments(t, client, id); len(c) != 1 || !strings.Contains(c[0], "1 firing, 1 resolved") {
		t.Fatalf("after the change: %q", c)
	}

	// Phase 3: b resolves -> one more comment.
	post(amtest.Alert{Labels: b, EndsAt: time.Now().Add(-time.Second)})
	waitComments(t, client, id, 2)
	settle(t, stateDir, 6)
	if c := comments(t, client, id); len(c) != 2 || !strings.Contains(c[1], "0 firing, 1 resolved") {
		t.Fatalf("after the resolution: %q", c)
	}
	if ids := tickets(t, client, name); len(ids) != 1 {
		t.Fatalf("%d tickets at the end", len(ids))
	}
	if tk, _ := client.Ticket(ctx, id); tk.Queue != "General" {
		t.Fatalf("hostile label moved the ticket to %q", tk.Queue)
	}
}

// settle waits until the daemon's store holds at least events events (each
// Alertmanager's delivery of every phase so far) and none has work left,
// so the counts read from RT afterwards are final. It opens the store as a
// second process would (SQLite WAL: the daemon keeps writing).
func settle(t *testing.T, stateDir string, events int) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, stateDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var last store.Stats
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if last, err = st.Stats(ctx); err != nil {
			t.Fatal(err)
		}
		total, open := 0, 0
		for state, n := range last.ByState {
			total += n
			if !state.Final() {
				open += n
			}
		}
		if total >= events && open == 0 {
			return
		}
	}
	t.Fatalf("the daemon did not settle on %d events: %v", events, last.ByState)
}

func tickets(t *testing.T, c *rtapi.Client, name string) []int {
	t.Helper()
	res, err := c.SearchTickets(context.Background(), fmt.Sprintf("Subject LIKE '%s'", name), "id", "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, r := range res {
		ids = append(ids, r.ID)
	}
	return ids
}

func waitTicket(t *testing.T, c *rtapi.Client, name string) int {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if ids := tickets(t, c, name); len(ids) > 0 {
			return ids[0]
		}
	}
	t.Fatal("no ticket appeared")
	return 0
}

func comments(t *testing.T, c *rtapi.Client, id int) []string {
	t.Helper()
	items, err := c.History(context.Background(), id, true)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.Type == "Comment" {
			out = append(out, it.Content)
		}
	}
	return out
}

func waitComments(t *testing.T, c *rtapi.Client, id, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if len(comments(t, c, id)) >= n {
			return
		}
	}
	t.Fatalf("ticket %d: fewer than %d comments", id, n)
}
