package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/benchtab"
)

// BenchmarkLargeStore compares a store holding BENCH_EVENTS
// finished events (default 1,000,000; a tenth of them past a 30d
// retention) and 10,000 dead letters with an empty one, on the real binary
// (RT not contacted: a rule ignores every event, so planning is the last
// step): webhook accept latency and accept-to-plan latency, the time of
// `rtbridge status`; then, on the large store, a minute of webhooks at
// 50/s without and with a prune pass running (the latencies and the
// daemon's RSS). The empty and the large store run in
// BENCH_ROUNDS interleaved rounds (default 5); one run prints the
// medians side by side and their ratios.
func BenchmarkLargeStore(b *testing.B) {
	n := benchtab.EnvInt("BENCH_EVENTS", 1_000_000)
	const dead = 10_000
	for range b.N {
		empty := b.TempDir()
		large := b.TempDir()
		t0 := time.Now()
		fillStore(b, filepath.Join(large, "state"), n, dead)
		b.Logf("filled %d finished events and %d dead letters in %v", n, dead, time.Since(t0).Round(time.Second))

		keep := "{ done: 0, ignored: 0, duplicate: 0, dead: 0, dropped: 0 }"
		// Rounds interleaved, the order alternating, so that the load of
		// the shared machine falls on both stores alike; medians of the
		// rounds are compared.
		var es, ls []phaseResult
		for r := range benchtab.EnvInt("BENCH_ROUNDS", 5) {
			if r%2 == 0 {
				es = append(es, benchPhase(b, empty, keep, 200, burstPosts, false))
				ls = append(ls, benchPhase(b, large, keep, 200, burstPosts, false))
			} else {
				ls = append(ls, benchPhase(b, large, keep, 200, burstPosts, false))
				es = append(es, benchPhase(b, empty, keep, 200, burstPosts, false))
			}
			fmt.Printf("round %d: accept p99 empty %v large %v; accept-to-plan p99 empty %v large %v\n", r+1,
				es[r].acceptP99, ls[r].acceptP99, es[r].planP99, ls[r].planP99)
		}
		e, l := medianPhase(es), medianPhase(ls)
		st := statusTime(b, large)
		// The prune pass against the same sustained intake without one.
		s := benchPhase(b, large, keep, sustainRate, sustainPosts, false)
		p := benchPhase(b, large, "{ done: 30d, ignored: 0, duplicate: 0, dead: 0, dropped: 0 }", sustainRate, sustainPosts, true)
		fmt.Printf("\n%d posts at %d/s%-12s %12s %14s\n%-28s %12v %14v\n%-28s %12v %14v\n%-28s %12v %14v\n%-28s %12v %14v\n%-28s %12d %14d\n%-28s %5.1f/%5.1f/%5.1f %4.1f/%4.1f/%4.1f\n%-28s %12s %14s\n",
			sustainPosts, sustainRate, ", large store", "no prune", "prune pass",
			"accept p50", s.acceptP50, p.acceptP50,
			"accept p99", s.acceptP99, p.acceptP99,
			"accept-to-plan p50", s.planP50, p.planP50,
			"accept-to-plan p99", s.planP99, p.planP99,
			"posts answered 202", s.accepted, p.accepted,
			"RSS MB start/peak/end", s.rssStart, s.rssPeak, s.rssEnd, p.rssStart, p.rssPeak, p.rssEnd,
			"prune pass", "", fmt.Sprintf("%d in %v", p.pruned, p.pruneTook.Round(time.Millisecond)))

		fmt.Printf("\n%d rounds of %d posts, medians %12s %12s %8s\n%-28s %12v %12v %8.2f\n%-28s %12v %12v %8.2f\n%-28s %12v %12v %8.2f\n%-28s %12v %12v %8.2f\n%-28s %12v %12v %8.2f\n%-28s %12v %12v %8.2f\n%-28s %12d %12d\n%-28s %12v\n",
			len(es), burstPosts, "empty", "large", "ratio",
			"accept p50", e.acceptP50, l.acceptP50, ratio(l.acceptP50, e.acceptP50),
			"accept p99", e.acceptP99, l.acceptP99, ratio(l.acceptP99, e.acceptP99),
			"accept-to-plan p50", e.planP50, l.planP50, ratio(l.planP50, e.planP50),
			"accept-to-plan p99", e.planP99, l.planP99, ratio(l.planP99, e.planP99),
			"accept-to-plan mean", e.planMean.Round(10*time.Microsecond), l.planMean.Round(10*time.Microsecond), ratio(l.planMean, e.planMean),
			"daemon CPU per round", e.cpu, l.cpu, ratio(l.cpu, e.cpu),
			"posts answered 202 (all)", e.accepted, l.accepted,
			"rtbridge status (large)", st)
		b.ReportMetric(ratio(l.acceptP99, e.acceptP99), "accept-p99-ratio")
		b.ReportMetric(ratio(l.planP99, e.planP99), "plan-p99-ratio")
		b.ReportMetric(float64(st.Milliseconds()), "status-ms")
	}
}

// Posts of one round's phase (at 200/s), and of the minute of intake with
// and without a prune pass: at a rate the executor keeps up with on a
// loaded 2-core machine, so that a backlog does not hide what the pass
// costs.
const (
	burstPosts   = 1000
	sustainRate  = 50
	sustainPosts = 3000
)

// medianPhase is the median of each latency figure over the rounds.
func medianPhase(rs []phaseResult) phaseResult {
	med := func(f func(phaseResult) time.Duration) time.Duration {
		ds := make([]time.Duration, len(rs))
		for i, r := range rs {
			ds[i] = f(r)
		}
		return pct(ds, 50)
	}
	out := phaseResult{
		acceptP50: med(func(r phaseResult) time.Duration { return r.acceptP50 }),
		acceptP99: med(func(r phaseResult) time.Duration { return r.acceptP99 }),
		planP50:   med(func(r phaseResult) time.Duration { return r.planP50 }),
		planP99:   med(func(r phaseResult) time.Duration { return r.planP99 }),
		planMean:  med(func(r phaseResult) time.Duration { return r.planMean }),
		cpu:       med(func(r phaseResult) time.Duration { return r.cpu }),
	}
	for _, r := range rs {
		out.accepted += r.accepted
	}
	return out
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

type phaseResult struct {
	acceptP50, acceptP99, planP50, planP99 time.Duration
	planMean                               time.Duration // both ends are whole ms: the mean resolves below one
	cpu                                    time.Duration // the daemon's user+system time while posting
	pruned, accepted                       int
	pruneTook                              time.Duration
	rssStart, rssPeak, rssEnd              float64
}

// fillStore writes n done events (finished; every tenth 100 days old, the
// rest a day old) and dead dead letters straight into a migrated store.
func fillStore(b *testing.B, dir string, n, dead int) {
	ctx := context.Background()
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBName)+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	ev, _ := tx.Prepare(`INSERT INTO events (id, source, kind, dedup_key, received_at, raw, raw_size, state, next_attempt, updated_at, finished, plan, plan_version, rule, reason)
		VALUES (?, 'deploys', 'json', ?, ?, ?, ?, ?, 0, ?, 1, '{}', 1, 'bench', ?)`)
	dd, _ := tx.Prepare(`INSERT INTO dedup (source, dedup_key, event_id) VALUES ('deploys', ?, ?)`)
	raw := []byte(`{"subject":"an event of the past","n":1,"service":"api","version":"1.2.3"}`)
	now := time.Now()
	for i := range n + dead {
		at := now.Add(-24 * time.Hour)
		if i%10 == 0 {
			at = now.Add(-100 * 24 * time.Hour)
		}
		state, reason := "done", ""
		if i >= n {
			state, reason, at = "dead", "RT refused: no such queue", now.Add(-24*time.Hour)
		}
		id := fmt.Sprintf("0B%024d", i)
		key := "k" + strconv.Itoa(i)
		if _, err := ev.Exec(id, key, at.UnixMilli(), raw, len(raw), state, at.UnixMilli(), reason); err != nil {
			b.Fatal(err)
		}
		if _, err := dd.Exec(key, id); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	// Written without fsync: flush it now, or the kernel's write-back of
	// the fill would slow the measured fsyncs.
	syscall.Sync()
}

// benchPhase runs the binary on dir with the retention given, posts
// webhooks at rate per second (with prune, waits for the pass to end), and reads their accept-to-plan latency from the store.
// The one load generator stands for many senders: no per-client cap, or a
// slow moment on the shared machine closes connections and drops the
// slowest requests from the figures.
func benchPhase(b *testing.B, dir, retention string, rate, posts int, prune bool) phaseResult {
	// As in daemonAcceptLeg: the previous phase's WAL, removed on exit, is
	// trimmed first.
	syscall.Sync()
	time.Sleep(5 * time.Second)
	addr := freePort(b)
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte("unused\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "hook-token"), []byte("hook-secret\n"), 0o600)
	cfg := fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token_file: rt-token, allow_plaintext: true, idempotency_field: RTBridgeKey }
state: { dir: state, retention: %s }
http: { listen: %q, limits: { max_connections_per_client: -1 } }
log: { level: info }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: { bearer: { token_file: hook-token } } }
rules:
  - { name: noted, when: { kind: json }, do: [ { ignore: noted } ] }
`, retention, addr)
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	logPath := filepath.Join(dir, "daemon.log")
	os.Remove(logPath)
	p := startBinary(b, path, addr, logPath)
	var res phaseResult
	var rssMu sync.Mutex
	stopRSS := make(chan struct{})
	rssDone := make(chan struct{})
	res.rssStart = rssMB(p)
	go func() {
		defer close(rssDone)
		for {
			select {
			case <-stopRSS:
				return
			case <-time.After(100 * time.Millisecond):
			}
			rssMu.Lock()
			res.rssPeak = max(res.rssPeak, rssMB(p))
			rssMu.Unlock()
		}
	}()
	if !prune {
		time.Sleep(3 * time.Second) // steady state: past the start-up's first scans
	}
	start := time.Now()
	cpu0 := benchtab.ProcessCPU(p.cmd.Process.Pid)
	lat := postAtRate(b, addr, rate, posts)
	res.cpu = benchtab.ProcessCPU(p.cmd.Process.Pid) - cpu0
	if prune {
		if strings.Contains(readLog(logPath), "retention: deleted") {
			b.Log("the prune pass ended before the posts did: it overlapped only part of them")
		}
		for !strings.Contains(readLog(logPath), "retention: deleted") {
			if time.Since(start) > 20*time.Minute {
				b.Fatal("no prune pass in 20 minutes")
			}
			time.Sleep(time.Second)
		}
		l := readLog(logPath)
		i := strings.Index(l, "retention: deleted")
		line := l[i:]
		line = line[:strings.IndexByte(line, '\n')]
		fmt.Sscanf(line[strings.Index(line, "events=")+len("events="):], "%d", &res.pruned)
		if j := strings.Index(line, "took="); j >= 0 {
			res.pruneTook, _ = time.ParseDuration(strings.Fields(line[j+len("took="):])[0])
		}
	}
	close(stopRSS)
	<-rssDone
	res.rssEnd = rssMB(p)
	res.acceptP50, res.acceptP99 = pct(lat, 50), pct(lat, 99)
	res.accepted = len(lat)
	time.Sleep(2 * time.Second) // let the executor plan what is left
	p.term(b)
	plan := planLatencies(b, filepath.Join(dir, "state"), start)
	if len(plan) == 0 {
		b.Fatalf("no event was planned; daemon log:\n%s", tail(readLog(logPath), 30))
	}
	res.planP50, res.planP99, res.planMean = pct(plan, 50), pct(plan, 99), mean(plan)
	return res
}

func rssMB(p *proc) float64 {
	kb, err := vmRSS(p.cmd.Process.Pid)
	if err != nil {
		return 0
	}
	return float64(kb) / 1024
}

// postAtRate posts count webhooks at rate per second and returns each
// request's latency. Its connections are kept alive, as Alertmanager's and
// other senders' are.
func postAtRate(b *testing.B, addr string, rate, count int) []time.Duration {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := make([]time.Duration, 0, count)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := range count {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", "http://"+addr+"/hooks/deploy",
				strings.NewReader(fmt.Sprintf(`{"subject":"bench","n":%d,"t":%d}`, i, time.Now().UnixNano())))
			req.Header.Set("Authorization", "Bearer hook-secret")
			t := time.Now()
			resp, err := client.Do(req)
			d := time.Since(t)
			if err != nil {
				b.Logf("post: %v", err) // counted: the latency list is short by one
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Logf("post: HTTP %d", resp.StatusCode)
				return
			}
			mu.Lock()
			out = append(out, d)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// planLatencies reads updated_at - received_at of the events ignored since
// start (an ignore is recorded when the event is planned).
func planLatencies(b *testing.B, dir string, since time.Time) []time.Duration {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBName)+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT updated_at - received_at FROM events WHERE state = 'ignored' AND received_at >= ?`, since.UnixMilli())
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var ms int64
		rows.Scan(&ms)
		out = append(out, time.Duration(ms)*time.Millisecond)
	}
	return out
}

// statusTime is the median wall time of `rtbridge status` on dir (the
// daemon stopped: the store read only).
func statusTime(b *testing.B, dir string) time.Duration {
	var ts []time.Duration
	for range 5 {
		t := time.Now()
		out, err := exec.Command(rtbridgeBinary(b), "status", "--config", filepath.Join(dir, "config.yaml")).CombinedOutput()
		ts = append(ts, time.Since(t))
		if err != nil {
			b.Fatalf("status: %v\n%s", err, out)
		}
	}
	return pct(ts, 50)
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, len(s)*p/100)]
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}
