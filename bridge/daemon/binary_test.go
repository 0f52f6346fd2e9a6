package daemon

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// These tests run the real binary, built once per test binary.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func rtbridgeBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rtbridge-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "rtbridge")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/rtbridge")
		cmd.Dir = testenv.RepoRoot()
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is one run of the binary.
type proc struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// startBinary runs `rtbridge run` and waits until /healthz answers.
func startBinary(t testing.TB, cfgPath, addr, logPath string) *proc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rtbridgeBinary(t), "run", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: addr, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case <-p.done:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("rtbridge exited during start:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("rtbridge did not answer /healthz in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// term stops the daemon with SIGTERM and reports whether it exited 0.
func (p *proc) term(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if !p.cmd.ProcessState.Success() {
			t.Errorf("rtbridge exited with %v after SIGTERM", p.cmd.ProcessState)
		}
	case <-time.After(40 * time.Second):
		t.Error("rtbridge did not stop in 40s after SIGTERM")
	}
}

// postEvent posts until the daemon answers 202 (as a sender would retry),
// with an Idempotency-Key so a retry of an accepted request is recorded as
// a duplicate, not a second event.
func postEvent(addr func() string, key, body string, within time.Duration) error {
	return postTo(addr, "/hooks/deploy", key, body, within)
}

// postTo is postEvent to another webhook path; key "" sends no
// Idempotency-Key (as Alertmanager does).
func postTo(addr func() string, path, key, body string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		req, _ := http.NewRequest("POST", "http://"+addr()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer hook-secret")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusAccepted {
				return nil
			}
			if resp.StatusCode != http.StatusServiceUnavailable {
				return fmt.Errorf("post %s: HTTP %d", key, resp.StatusCode)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("post %s: not accepted in %v (last error %v)", key, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// binaryConfig writes a config listening on addr; rules are appended.
func binaryConfig(t *testing.T, dir, rtURL, token, addr, rules string) string {
	t.Helper()
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte(token+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "hook-token"), []byte("hook-secret\n"), 0o600)
	cfg := fmt.Sprintf(`rt:
  url: %s
  auth: token
  token_file: rt-token
  idempotency_field: RTBridgeKey
  timeout: 6s
state: { dir: state }
log: { level: debug }
http: { listen: %q }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: { bearer: { token_file: hook-token } } }
executor:
  workers: 2
  backoff: { initial: 300ms, max: 2s }
  breaker: { failures: 3, open_for: 1s }
  stop_timeout: 3s
rules:
%s`, rtURL, addr, rules)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const createRule = `  - name: deploy tickets
    when: { kind: json }
    do: [ { create: { queue: General, subject: '{{ .JSON.subject }}', text: 'event {{ .JSON.n }}' } } ]
`

// countTickets returns how many tickets carry each subject of the run.
func countTickets(t *testing.T, rt testenv.RT, prefix string) map[string]int {
	t.Helper()
	c := rtClient(t, rt)
	res, err := c.SearchTickets(context.Background(), fmt.Sprintf("Subject LIKE '%s'", prefix), "id", "s")
	if err != nil {
		t.Logf("search: %v", err)
		return nil
	}
	out := map[string]int{}
	for _, r := range res {
		out[r.Subject]++
	}
	return out
}

// Crash safety: events keep arriving while the daemon is killed with
// SIGKILL at random moments and restarted; in the end every event made
// exactly one ticket (idempotency_field set: an interrupted create is
// reconciled, never repeated).
func TestCrashSafetySIGKILL(t *testing.T) {
	rt := testenv.RequireRT(t)
	t.Parallel() // own state, port and subjects; only RT is shared
	dir := t.TempDir()
	addr := freePort(t)
	cfgPath := binaryConfig(t, dir, rt.URL, rt.Token, addr, createRule)
	logPath := filepath.Join(dir, "daemon.log")
	run := fmt.Sprintf("crash-%d", time.Now().UnixNano())
	const events, kills = 12, 4

	var mu sync.Mutex
	p := startBinary(t, cfgPath, addr, logPath)
	posted := make(chan error, 1)
	go func() {
		for i := range events {
			body := fmt.Sprintf(`{"subject":"%s %02d","n":%d}`, run, i, i)
			if err := postEvent(func() string { return addr }, fmt.Sprintf("%s-%d", run, i), body, 60*time.Second); err != nil {
				posted <- err
				return
			}
			time.Sleep(time.Duration(50+i*37%200) * time.Millisecond)
		}
		posted <- nil
	}()
	seed := time.Now().UnixNano()
	for k := range kills {
		// A pseudo-random moment: 0.2–1.4 s after the start.
		time.Sleep(time.Duration(200+(seed>>(k*5))%1200) * time.Millisecond)
		mu.Lock()
		if k == 1 {
			p.term(t) // one clean stop among the kills: it must lose nothing either
			t.Logf("SIGTERM")
		} else {
			p.kill()
			t.Logf("SIGKILL %d", k+1)
		}
		p = startBinary(t, cfgPath, addr, logPath)
		mu.Unlock()
	}
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := countTickets(t, rt, run)
		complete := len(got) == events
		for subj, n := range got {
			if n != 1 {
				log, _ := os.ReadFile(logPath)
				t.Fatalf("%d tickets for %q (duplicates after a crash); log (info and up):\n%s", n, subj, grepOut(string(log), "level=DEBUG"))
			}
		}
		if complete {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("after 90s only %d of %d events have their ticket: %v\nlog tail:\n%s", len(got), events, got, tail(string(log), 60))
		}
		time.Sleep(time.Second)
	}
	p.term(t)
	// Nothing left pending, and still exactly one ticket each.
	for subj, n := range countTickets(t, rt, run) {
		if n != 1 {
			t.Errorf("%d tickets for %q", n, subj)
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func grepOut(s, drop string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, drop) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
