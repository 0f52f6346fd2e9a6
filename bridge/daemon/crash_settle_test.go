package daemon

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// holdFirstCreate is a proxy in front of RT that holds the first ticket
// create for delay and then sends it on, finishing it even after the
// client died: RT makes the ticket after the daemon that asked was killed.
func holdFirstCreate(t *testing.T, target string, delay time.Duration) (string, *atomic.Int32) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var held atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // writing to the client that left fails
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/ticket/new") && held.Add(1) == 1 {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			time.Sleep(delay)
			r = r.WithContext(context.WithoutCancel(r.Context()))
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		rp.ServeHTTP(struct{ http.ResponseWriter }{w}, r) // no CloseNotifier: finish after the client left
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/", &held
}

// After a SIGKILL while a create is in flight, only that create waits for
// its attempt to settle (rt.timeout plus as much again) before it is
// reconciled; the events queued behind it, never started, run as soon as
// the daemon is back. The late create is adopted, not repeated: one ticket
// each (idempotency_field set).
func TestCrashOnlyUnknownStepsWait(t *testing.T) {
	rt := testenv.RequireRT(t)
	t.Parallel() // own state, port and subjects; only RT is shared
	dir := t.TempDir()
	addr := freePort(t)
	const timeout = 6 * time.Second
	proxy, held := holdFirstCreate(t, rt.URL, 3*time.Second)
	cfgPath := binaryConfig(t, dir, proxy, rt.Token, addr, createRule)
	b, _ := os.ReadFile(cfgPath)
	// One worker: the events behind the held create stay queued, never started.
	os.WriteFile(cfgPath, []byte(strings.Replace(string(b), "workers: 2", "workers: 1", 1)), 0o600)
	logPath := filepath.Join(dir, "daemon.log")
	run := fmt.Sprintf("settle-%d", time.Now().UnixNano())
	at := func() string { return addr }

	p := startBinary(t, cfgPath, addr, logPath)
	if err := postEvent(at, run+"-held", fmt.Sprintf(`{"subject":"%s held","n":0}`, run), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); held.Load() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the create never reached the proxy")
		}
	}
	const queued = 4
	for i := range queued {
		if err := postEvent(at, fmt.Sprintf("%s-%d", run, i), fmt.Sprintf(`{"subject":"%s q%02d","n":%d}`, run, i, i+1), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	p.kill() // the create is held in the proxy; RT gets it in a moment
	t.Log("SIGKILL with one create in flight and", queued, "events queued")

	restart := time.Now()
	p = startBinary(t, cfgPath, addr, logPath)
	var drained time.Duration
	for {
		got := countTickets(t, rt, run+" q")
		if len(got) == queued {
			drained = time.Since(restart)
			break
		}
		if time.Since(restart) > 60*time.Second {
			l, _ := os.ReadFile(logPath)
			t.Fatalf("queued events not drained in 60s: %v\n%s", got, tail(string(l), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
	var settled time.Duration
	for {
		if got := countTickets(t, rt, run+" held"); got[run+" held"] >= 1 && strings.Contains(readLog(logPath), "adopt") {
			settled = time.Since(restart)
			break
		}
		if time.Since(restart) > 60*time.Second {
			t.Fatalf("the held create was not reconciled in 60s\n%s", tail(readLog(logPath), 40))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("after the restart: %d queued events drained in %v; the in-flight create settled and was reconciled after %v (rt.timeout %v)",
		queued, drained.Round(10*time.Millisecond), settled.Round(10*time.Millisecond), timeout)
	// RT's own pace (seconds per create on a busy RT) decides the drain
	// time; the restart's share is how long the first queued event waited.
	first := firstPlannedAfterRestart(t, readLog(logPath))
	t.Logf("first queued event planned %v after the restart", first.Round(time.Millisecond))
	if first >= time.Second {
		t.Errorf("the first queued event was planned %v after the restart: it waited as long as rt.timeout (%v) for the in-flight create", first, timeout)
	}
	time.Sleep(2 * time.Second) // a late duplicate would show now
	for subj, n := range countTickets(t, rt, run) {
		if n != 1 {
			t.Errorf("%d tickets for %q", n, subj)
		}
	}
	if n := len(countTickets(t, rt, run)); n != queued+1 {
		t.Errorf("%d subjects with a ticket, want %d", n, queued+1)
	}
	p.term(t)
}

func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// firstPlannedAfterRestart is the time from the second "rtbridge started"
// line of log to the first "event planned" after it (logfmt time= fields).
func firstPlannedAfterRestart(t *testing.T, log string) time.Duration {
	t.Helper()
	var started time.Time
	n := 0
	for _, l := range strings.Split(log, "\n") {
		ts, _, _ := strings.Cut(strings.TrimPrefix(l, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(l, `msg="rtbridge started"`):
			if n++; n == 2 {
				started = at
			}
		case n == 2 && strings.Contains(l, `msg="event planned"`):
			return at.Sub(started)
		}
	}
	t.Fatalf("no event planned after the restart:\n%s", tail(log, 30))
	return 0
}
