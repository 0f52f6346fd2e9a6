package daemon

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// testConfig writes a config for the test RT: token auth, one bearer
// webhook, one rule creating a ticket in General from a JSON event.
func testConfig(t *testing.T, dir, rtURL, token, extraRules string) string {
	t.Helper()
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte(token+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "hook-token"), []byte("hook-secret\n"), 0o600)
	cfg := fmt.Sprintf(`rt:
  url: %s
  auth: token
  token_file: rt-token
  idempotency_field: RTBridgeKey
  timeout: 10s
state:
  dir: state
log:
  level: debug
http:
  listen: 127.0.0.1:0
webhooks:
  - name: deploys
    path: /hooks/deploy
    auth:
      bearer:
        token_file: hook-token
executor:
  workers: 2
  backoff: {initial: 200ms, max: 2s}
  breaker: {failures: 3, open_for: 1s}
rules:
%s  - name: deploy tickets
    when: { kind: json, source: deploys }
    do:
      - create:
          queue: General
          subject: 'deploy {{ .JSON.service }} {{ .JSON.marker }}'
          text: 'version {{ .JSON.version }}'
`, rtURL, extraRules)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type running struct {
	addr   string
	reload chan os.Signal
	cancel context.CancelFunc
	done   chan error
	log    *testenv.LogBuffer
	once   sync.Once
}

func start(t *testing.T, cfgPath string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{reload: make(chan os.Signal, 1), cancel: cancel, done: make(chan error, 1), log: &testenv.LogBuffer{}}
	addr := make(chan string, 1)
	go func() {
		r.done <- Run(ctx, Options{ConfigPath: cfgPath, Reload: r.reload, LogOutput: r.log, Version: "test",
			Listening: func(a string) { addr <- a }})
	}()
	select {
	case r.addr = <-addr:
	case err := <-r.done:
		t.Fatalf("daemon did not start: %v\n%s", err, r.log)
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon did not start in 20s\n%s", r.log)
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("daemon exited with %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Errorf("daemon did not stop")
		}
	})
}

func (r *running) post(t *testing.T, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+r.addr+"/hooks/deploy", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer hook-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func rtClient(t *testing.T, rt testenv.RT) *rtapi.Client {
	t.Helper()
	c, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitTickets polls RT until exactly want tickets have the subject (and
// stays there for a moment, so a late duplicate would be seen).
func waitTickets(t *testing.T, c *rtapi.Client, subject string, want int, within time.Duration) []rtapi.SearchResult {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := c.SearchTickets(context.Background(), fmt.Sprintf("Subject = '%s'", subject), "id", "s")
		if err == nil && len(res) >= want {
			if len(res) > want {
				t.Fatalf("%d tickets with subject %q, want %d", len(res), subject, want)
			}
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d tickets with subject %q (err %v), want %d", within, len(res), subject, err, want)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// The daemon end to end against the real RT: a JSON event becomes a
// ticket; health, readiness, metrics and status answer; a bad reload keeps
// the running config and a good one applies.
func TestDaemonEndToEnd(t *testing.T) {
	rt := testenv.RequireRT(t)
	t.Parallel() // own state, port and subjects; only RT is shared
	dir := t.TempDir()
	cfgPath := testConfig(t, dir, rt.URL, rt.Token, "")
	r := start(t, cfgPath)
	marker := fmt.Sprintf("e2e-%d", time.Now().UnixNano())

	code, body := r.post(t, fmt.Sprintf(`{"service":"api","version":"1.2","marker":%q}`, marker))
	if code != 202 || !strings.Contains(body, `"id"`) {
		t.Fatalf("post: %d %s", code, body)
	}
	c := rtClient(t, rt)
	tickets := waitTickets(t, c, "deploy api "+marker, 1, 30*time.Second)
	tk, err := c.Ticket(context.Background(), tickets[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Queue != "General" || len(tk.CustomFields["RTBridgeKey"]) != 1 {
		t.Errorf("ticket %+v", tk)
	}
	if code, body := r.get(t, "/healthz"); code != 200 {
		t.Errorf("healthz %d %s", code, body)
	}
	if code, body := r.get(t, "/readyz"); code != 200 || !strings.Contains(body, `"store": "ok"`) || !strings.Contains(body, `"intake": "ok"`) {
		t.Errorf("readyz %d %s", code, body)
	}
	waitFor(t, "RT up in /status", r, func() bool {
		_, body := r.get(t, "/status")
		return strings.Contains(body, `"up": true`)
	})
	_, metrics := r.get(t, "/metrics")
	for _, want := range []string{`rtbridge_events_accepted_total{source="deploys"} 1`,
		`rtbridge_events_finished_total{outcome="done",rule="deploy tickets",source="deploys"} 1`,
		`rtbridge_rt_request_duration_seconds_count{code="200",endpoint="rest1 ticket/new"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, body := r.get(t, "/status"); code != 200 || !strings.Contains(body, `"breaker": "closed"`) || !strings.Contains(body, `"deploys": "ok"`) {
		t.Errorf("status %d %s", code, body)
	}
	if !strings.Contains(r.log.String(), "event=") {
		t.Errorf("log lines carry no event id:\n%s", r.log)
	}

	// A broken file: the reload fails, the old config keeps working.
	good, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append(good, []byte("bogus_key: 1\n")...), 0o600)
	r.reload <- nil
	waitFor(t, "failed reload", r, func() bool {
		_, m := r.get(t, "/metrics")
		return strings.Contains(m, `rtbridge_config_reloads_total{result="failure"} 1`) && strings.Contains(m, "rtbridge_config_last_reload_successful 0")
	})
	if code, _ := r.post(t, `{"service":"after-bad-reload","version":"2","marker":"`+marker+`"}`); code != 202 {
		t.Errorf("webhook after failed reload: %d", code)
	}
	if len(waitTicketsLog(t, r, c, "deploy after-bad-reload "+marker)) != 1 {
		t.Fatal("no ticket after a failed reload")
	}
	// A good file with a new rule in front: it applies to the next event.
	testConfig(t, dir, rt.URL, rt.Token, `  - name: quiet
    when: { kind: json, json: { service: quiet } }
    do: [ { ignore: 'quiet service' } ]
`)
	r.reload <- nil
	waitFor(t, "good reload", r, func() bool {
		_, m := r.get(t, "/metrics")
		return strings.Contains(m, `rtbridge_config_reloads_total{result="success"} 2`) && strings.Contains(m, "rtbridge_config_last_reload_successful 1")
	})
	r.post(t, `{"service":"quiet"}`)
	waitFor(t, "ignored by the new rule", r, func() bool {
		_, m := r.get(t, "/metrics")
		return strings.Contains(m, `rtbridge_events_finished_total{outcome="ignored",rule="quiet",source="deploys"} 1`)
	})
}

func waitFor(t *testing.T, what string, r *running, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			_, m := r.get(t, "/metrics")
			t.Fatalf("%s: not seen in 20s\nmetrics:\n%s\nlog:\n%s", what, grepLines(m, "rtbridge_"), r.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func waitTicketsLog(t *testing.T, r *running, c *rtapi.Client, subject string) []rtapi.SearchResult {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := c.SearchTickets(context.Background(), fmt.Sprintf("Subject = '%s'", subject), "id", "s")
		if err == nil && len(res) > 0 {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ticket %q (err %v); log:\n%s", subject, err, r.log)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// rt.api: rest2 runs the same plan through RT's JSON API.
func TestDaemonREST2(t *testing.T) {
	rt := testenv.RequireRT(t)
	t.Parallel()
	dir := t.TempDir()
	cfgPath := testConfig(t, dir, rt.URL, rt.Token, "")
	b, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, []byte(strings.Replace(string(b), "  auth: token\n", "  api: rest2\n  auth: token\n", 1)), 0o600)
	r := start(t, cfgPath)
	marker := fmt.Sprintf("rest2-%d", time.Now().UnixNano())
	if code, body := r.post(t, fmt.Sprintf(`{"service":"api","version":"3","marker":%q}`, marker)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	c := rtClient(t, rt)
	res := waitTicketsLog(t, r, c, "deploy api "+marker)
	tk, err := c.Ticket(context.Background(), res[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Queue != "General" || len(tk.CustomFields["RTBridgeKey"]) != 1 || tk.CustomFields["RTBridgeKey"][0] == "" {
		t.Errorf("ticket via REST2: %+v", tk)
	}
	_, m := r.get(t, "/metrics")
	if !strings.Contains(m, `endpoint="rest2 ticket"`) {
		t.Errorf("no REST2 request in the RT latency metric:\n%s", grepLines(m, "rtbridge_rt_request_duration_seconds_count"))
	}
}
