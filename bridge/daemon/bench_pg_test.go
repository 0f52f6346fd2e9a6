package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
	"github.com/rtbridge/rtbridge/internal/pgtest"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// BenchmarkPostgresInstances measures, side by side in one run, the RT on
// PostgreSQL's own ceiling (one token, 4 creates in flight) and the
// bridge's throughput with 1, 2 and 3 instances sharing one PostgreSQL
// store (idempotency_field set, 4 workers each), all making the same
// tickets. Run with -benchtime 1x; BENCH_PG_EVENTS sets the tickets per leg.
func BenchmarkPostgresInstances(b *testing.B) {
	v := testenv.Require(b, "RT_PG_URL", "RT_PG_TOKEN")
	rt := testenv.RT{URL: v["RT_PG_URL"], Token: v["RT_PG_TOKEN"]}
	events := 40
	if s, ok := testenv.Lookup("BENCH_PG_EVENTS"); ok {
		fmt.Sscan(s, &events)
	}
	run := fmt.Sprintf("pgbench-%d", time.Now().UnixNano())
	for b.Loop() {
		// The ceiling runs before and after the bridge legs (RT's workers
		// warm up, its database grows); the better one counts.
		ceil := rtCeiling(b, rt, fmt.Sprintf("%s ceil1", run), events, 4)
		rates := map[int]float64{}
		for n := 1; n <= 3; n++ {
			rates[n] = bridgeRate(b, rt, fmt.Sprintf("%s n%d", run, n), n, events)
		}
		ceil = max(ceil, rtCeiling(b, rt, fmt.Sprintf("%s ceil2", run), events, 4))
		b.ReportMetric(ceil, "ceiling-tickets/s")
		for n, r := range rates {
			b.ReportMetric(r, fmt.Sprintf("%dinst-tickets/s", n))
			b.ReportMetric(r/ceil, fmt.Sprintf("%dinst-vs-ceiling", n))
		}
	}
}

// rtCeiling creates events tickets directly, conc at a time on one RT
// session, as the bridge's create rule would, and returns tickets/s.
func rtCeiling(b *testing.B, rt testenv.RT, subject string, events, conc int) float64 {
	c, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		b.Fatal(err)
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	t0 := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				_, err := c.CreateTicket(context.Background(), rtapi.TicketCreate{Queue: "General", Subject: fmt.Sprintf("%s %03d", subject, i),
					Text: fmt.Sprintf("event %d", i), CustomFields: map[string][]string{"RTBridgeKey": {fmt.Sprintf("%s/%d", subject, i)}}})
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range events {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	return float64(events) / time.Since(t0).Seconds()
}

// bridgeRate starts n instances on a fresh PostgreSQL store, posts the
// events round robin (4 in flight) and returns tickets/s from the first
// post to the last event done (read from the store, which costs RT nothing).
func bridgeRate(b *testing.B, rt testenv.RT, subject string, n, events int) float64 {
	dsn := pgtest.Schema(b).DSN
	var procs []*proc
	var addrs []string
	for range n {
		dir := b.TempDir()
		addr := freePort(b)
		procs = append(procs, startBinary(b, pgConfig(b, dir, dsn, rt, addr, 4, "info", createRule), addr, filepath.Join(dir, "daemon.log")))
		addrs = append(addrs, addr)
	}
	st, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	jobs := make(chan int)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				body := fmt.Sprintf(`{"subject":"%s %03d","n":%d}`, subject, i, i)
				addr := addrs[i%n]
				if err := postEvent(func() string { return addr }, fmt.Sprintf("%s-%d", subject, i), body, time.Minute); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range events {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		s, err := st.Stats(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if s.ByState[store.StateDone] == events {
			break
		}
		if s.ByState[store.StateDead] > 0 || time.Now().After(deadline) {
			b.Fatalf("%d instances: states %v", n, s.ByState)
		}
		time.Sleep(50 * time.Millisecond)
	}
	el := time.Since(t0)
	for _, p := range procs {
		p.kill()
	}
	return float64(events) / el.Seconds()
}
