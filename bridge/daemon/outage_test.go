package daemon

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// tcpProxy forwards a loopback port to RT; cut closes it (and every
// connection through it) so RT looks down, restore brings it back on the
// same port. The shared RT itself is never stopped.
type tcpProxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *tcpProxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

func metricsOf(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metricValue sums the samples of a series whose line starts with prefix.
func metricValue(m, prefix string) float64 {
	sum := 0.0
	for _, l := range strings.Split(m, "\n") {
		if strings.HasPrefix(l, prefix) {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

func getBody(t *testing.T, addr, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func readyz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// RT outage: events keep being accepted (202) and /readyz stays 200 (the
// intake is what it gates), rtbridge_rt_up and /status show RT down and
// the breaker open, the breaker keeps the retries few, and every event is
// delivered once RT is back.
func TestRTOutage(t *testing.T) {
	rt := testenv.RequireRT(t)
	t.Parallel() // own state, port and subjects; only RT is shared
	u := strings.TrimPrefix(strings.TrimSuffix(rt.URL, "/"), "http://")
	proxy := newProxy(t, u)
	dir := t.TempDir()
	addr := freePort(t)
	cfgPath := binaryConfig(t, dir, "http://"+proxy.addr+"/", rt.Token, addr, createRule)
	logPath := filepath.Join(dir, "daemon.log")
	p := startBinary(t, cfgPath, addr, logPath)
	run := fmt.Sprintf("outage-%d", time.Now().UnixNano())
	post := func(i int) {
		t.Helper()
		if err := postEvent(func() string { return addr }, fmt.Sprintf("%s-%d", run, i), fmt.Sprintf(`{"subject":"%s %02d","n":%d}`, run, i, i), 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	waitAll := func(n int) {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for {
			got := countTickets(t, rt, run)
			if len(got) == n {
				for s, c := range got {
					if c != 1 {
						t.Fatalf("%d tickets for %q", c, s)
					}
				}
				return
			}
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(logPath)
				t.Fatalf("%d of %d tickets after 45s; log:\n%s", len(got), n, tail(grepOut(string(log), "level=DEBUG"), 40))
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	post(0)
	waitAll(1)
	if code, body := readyz(t, addr); code != 200 {
		t.Fatalf("readyz before the outage: %d %s", code, body)
	}

	proxy.cut()
	outageStart := time.Now()
	m0 := metricsOf(t, addr)
	before := metricValue(m0, `rtbridge_rt_request_duration_seconds_count{code="error",endpoint="rest1 ticket/new"}`)
	retriesBefore := metricValue(m0, `rtbridge_executor_retries_total{class="transient"}`)
	const during = 6
	for i := 1; i <= during; i++ {
		post(i) // accepted although RT is down
	}
	// Intake stays ready: /readyz is 200 while RT is down, and RT's state
	// shows in rtbridge_rt_up (the failing requests set it) instead.
	deadline := time.Now().Add(8 * time.Second)
	for {
		code, body := readyz(t, addr)
		if code != 200 || !strings.Contains(body, `"store": "ok"`) || !strings.Contains(body, `"intake": "ok"`) || strings.Contains(body, `"rt"`) {
			t.Fatalf("readyz during the outage: %d %s", code, body)
		}
		if metricValue(metricsOf(t, addr), "rtbridge_rt_up") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rtbridge_rt_up not 0 during the outage")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Until(outageStart.Add(8 * time.Second)))
	if code, body := readyz(t, addr); code != 200 {
		t.Fatalf("readyz with the breaker open: %d %s", code, body)
	}
	m := metricsOf(t, addr)
	if metricValue(m, "rtbridge_rt_breaker_open") != 1 || metricValue(m, "rtbridge_rt_up") != 0 || !strings.Contains(getBody(t, addr, "/status"), `"breaker": "open"`) {
		t.Errorf("breaker not open or RT up in metrics and /status after 8s of outage:\n%s", getBody(t, addr, "/status"))
	}
	requests := metricValue(m, `rtbridge_rt_request_duration_seconds_count{code="error",endpoint="rest1 ticket/new"}`) - before
	attempts := metricValue(m, `rtbridge_executor_retries_total{class="transient"}`) - retriesBefore
	elapsed := time.Since(outageStart).Seconds()
	t.Logf("outage %.1fs: %v step attempts (%v HTTP requests) for %d waiting events; breaker open %v",
		elapsed, attempts, requests, during, metricValue(m, "rtbridge_rt_breaker_open"))
	// Without a breaker, 6 events retrying every 0.3–2 s would make ~30
	// attempts in 8 s; the breaker (3 failures, then one probe per second)
	// allows about 3 + 8.
	if attempts > 14 || attempts < 3 {
		t.Errorf("%v step attempts during an %.0fs outage (want 3..14: a few, then the breaker)", attempts, elapsed)
	}
	if metricValue(m, `rtbridge_queue_events{state="done"}`) != 1 {
		t.Errorf("done during the outage: %v", metricValue(m, `rtbridge_queue_events{state="done"}`))
	}
	// The RT probe (every 15 s) puts RT's state in /status.
	for deadline := time.Now().Add(25 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		status := getBody(t, addr, "/status")
		if strings.Contains(status, `"up": false`) && strings.Contains(status, "RT unreachable") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/status does not show RT down:\n%s", status)
		}
	}

	proxy.restore(t)
	waitAll(1 + during)
	deadline = time.Now().Add(30 * time.Second)
	for metricValue(metricsOf(t, addr), "rtbridge_rt_up") != 1 || !strings.Contains(getBody(t, addr, "/status"), `"up": true`) {
		if time.Now().After(deadline) {
			t.Fatalf("RT not up again in metrics and /status after the outage:\n%s", getBody(t, addr, "/status"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	p.term(t)
}

// A permanent RT refusal (unknown queue) dead-letters the event with RT's
// message; after the rule is fixed and reloaded, `rtbridge deadletter
// retry` delivers it. The CLI works beside the running daemon.
func TestDeadLetterRetry(t *testing.T) {
	rt := testenv.RequireRT(t)
	t.Parallel() // own state, port and subjects; only RT is shared
	dir := t.TempDir()
	addr := freePort(t)
	queue := fmt.Sprintf("NoSuchQueue%d", time.Now().UnixNano())
	badRule := strings.Replace(createRule, "queue: General", "queue: "+queue, 1)
	cfgPath := binaryConfig(t, dir, rt.URL, rt.Token, addr, badRule)
	logPath := filepath.Join(dir, "daemon.log")
	p := startBinary(t, cfgPath, addr, logPath)
	run := fmt.Sprintf("dead-%d", time.Now().UnixNano())
	if err := postEvent(func() string { return addr }, run, fmt.Sprintf(`{"subject":"%s","n":1}`, run), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, error) {
		out, err := exec.Command(rtbridgeBinary(t), append(args[:1:1], append([]string{"--config", cfgPath}, args[1:]...)...)...).CombinedOutput()
		return string(out), err
	}
	var list string
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, _ = cli("deadletter", "list")
		if strings.Contains(list, "1 dead letter(s)") {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("no dead letter after 30s:\n%s\nlog:\n%s", list, tail(grepOut(string(log), "level=DEBUG"), 30))
		}
		time.Sleep(300 * time.Millisecond)
	}
	id := regexp.MustCompile(`(?m)^([0-9A-Z]{26})\s`).FindStringSubmatch(list)
	if id == nil || !strings.Contains(list, "permanent") || !strings.Contains(list, "Queue") {
		t.Fatalf("dead letter list lacks the id, class or RT's message:\n%s", list)
	}
	show, err := cli("deadletter", "show", id[1])
	if err != nil || !strings.Contains(show, "reason:") || !strings.Contains(show, "state:     dead") {
		t.Fatalf("show: %v\n%s", err, show)
	}
	t.Logf("dead letter:\n%s", show)
	if len(countTickets(t, rt, run)) != 0 {
		t.Fatal("a ticket exists for the dead event")
	}

	// Fix the rule, reload with SIGHUP, retry.
	binaryConfig(t, dir, rt.URL, rt.Token, addr, createRule)
	p.cmd.Process.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(10 * time.Second); metricValue(metricsOf(t, addr), `rtbridge_config_reloads_total{result="success"}`) < 2; {
		if time.Now().After(deadline) {
			t.Fatal("reload not applied in 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, err := cli("deadletter", "retry", id[1]); err != nil || !strings.Contains(out, "queued for retry") {
		t.Fatalf("retry: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(30 * time.Second); len(countTickets(t, rt, run)) != 1; {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("no ticket 30s after the retry; log:\n%s", tail(grepOut(string(log), "level=DEBUG"), 30))
		}
		time.Sleep(300 * time.Millisecond)
	}
	status, err := cli("status")
	if err != nil || !regexp.MustCompile(`dead letters:\s+0`).MatchString(status) || !regexp.MustCompile(`done\s+1`).MatchString(status) {
		t.Errorf("status after the retry: %v\n%s", err, status)
	}
	if out, err := cli("deadletter", "retry", id[1]); err == nil {
		t.Errorf("retrying a done event succeeded:\n%s", out)
	}
	p.term(t)
}
