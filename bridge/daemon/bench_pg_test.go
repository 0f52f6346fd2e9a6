package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtbridge/rtbridge/internal/benchtab"
	"github.com/rtbridge/rtbridge/internal/pgtest"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// BenchmarkPostgresInstances measures, side by side in one run, the RT on
// PostgreSQL's own ceiling (one token, 4 creates in flight) and the
// bridge's throughput with 1, 2 and 3 instances sharing one PostgreSQL
// store (the recommended config: idempotency_field set, 4 workers and
// rt.max_concurrency 4 each), all making the same tickets. The legs run
// in BENCH_ROUNDS interleaved rounds (odd rounds in reverse order), after
// a warm-up that is not timed; the table gives each leg's median and its
// ratio to the ceiling's median. Every leg is timed from its first
// submission to its last ticket in RT: the ceiling by the last answer,
// the bridge by the last event's done time in the store (read afterwards,
// so timing costs RT nothing). Tickets are counted in RT's own database,
// and so are the writes other users of the shared RT made meanwhile
// (column foreign).
//
//	RTBRIDGE_INTEGRATION=1 go test -run '^$' -bench PostgresInstances -benchtime 1x -timeout 30m ./bridge/daemon
//
// BENCH_PG_EVENTS sets the tickets per leg (default 60).
func BenchmarkPostgresInstances(b *testing.B) {
	v := testenv.Require(b, "RT_PG_URL", "RT_PG_TOKEN", "RT_PG_DB_DSN", "RT_PG_PID_FILE")
	rt := testenv.RT{URL: v["RT_PG_URL"], Token: v["RT_PG_TOKEN"]}
	rtdb, err := pgxpool.New(context.Background(), v["RT_PG_DB_DSN"])
	if err != nil {
		b.Fatal(err)
	}
	defer rtdb.Close()
	c, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		b.Fatal(err)
	}
	pb := &pgBench{b: b, rt: rt, rtc: c, rtdb: rtdb, rtPID: benchtab.PIDFile(v["RT_PG_PID_FILE"]), events: benchtab.EnvInt("BENCH_PG_EVENTS", 60)}
	legs := []string{"ceiling", "1inst", "2inst", "3inst"}
	run := fmt.Sprintf("pgbench-%d", time.Now().UnixNano())
	for b.Loop() {
		// Warm-up, not timed: RT's four workers and the ceiling's connections.
		pb.ceiling(run+" warm", 8)
		tab := benchtab.New("ceiling", legs)
		for r := range benchtab.Rounds() {
			for _, leg := range benchtab.Order(legs, r) {
				subject := fmt.Sprintf("%s r%d %s", run, r, leg)
				var res benchtab.Result
				if leg == "ceiling" {
					res = pb.ceiling(subject, pb.events)
				} else {
					res = pb.bridge(subject, int(leg[0]-'0'))
				}
				tab.Add(leg, res)
			}
		}
		tab.Print(fmt.Sprintf("BenchmarkPostgresInstances: %d tickets per leg, %d rounds; load average at the end: %s", pb.events, benchtab.Rounds(), benchtab.LoadAvg()))
		b.ReportMetric(tab.MedianRate("ceiling"), "ceiling-tickets/s")
		for _, leg := range legs[1:] {
			b.ReportMetric(tab.MedianRate(leg), leg+"-tickets/s")
			b.ReportMetric(tab.Ratio(leg), leg+"-vs-ceiling")
		}
	}
}

// pgBench is the benchmark's fixtures: RT on PostgreSQL, its database (to
// count tickets without asking RT) and its server's pid (to meter its CPU).
type pgBench struct {
	b      *testing.B
	rt     testenv.RT
	rtc    *rtapi.Client
	rtdb   *pgxpool.Pool
	rtPID  int
	events int
}

// ceiling creates events tickets directly, 4 at a time on one RT session,
// as the bridge's create rule would (same queue, subject, text and
// idempotency field).
func (pb *pgBench) ceiling(subject string, events int) benchtab.Result {
	jobs := make(chan int)
	lat := make([]time.Duration, events)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	m := benchtab.Start(map[string][]int{"rt": {pb.rtPID}})
	t0 := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				s := time.Now()
				_, err := pb.rtc.CreateTicket(context.Background(), rtapi.TicketCreate{Queue: "General", Subject: fmt.Sprintf("%s %03d", subject, i),
					Text: fmt.Sprintf("event %d", i), CustomFields: map[string][]string{"RTBridgeKey": {fmt.Sprintf("%s/%d", subject, i)}}})
				lat[i] = time.Since(s)
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
	el := time.Since(t0)
	u := m.Stop()
	if failed != nil {
		pb.b.Fatal(failed)
	}
	return pb.result(subject, events, t0, el, lat, u)
}

// bridge starts n instances on a fresh PostgreSQL store, warms each up
// with one event (not timed), then posts the events round robin (4 in
// flight) and waits until all are done.
func (pb *pgBench) bridge(subject string, n int) benchtab.Result {
	b := pb.b
	db := pgtest.Schema(b)
	var procs []*proc
	var pids []int
	var logs []string
	for range n {
		dir := b.TempDir()
		addr := freePort(b)
		log := filepath.Join(dir, "daemon.log")
		p := startBinary(b, pgConfig(b, dir, db.DSN, pb.rt, addr, 4, "info", createRule), addr, log)
		procs, pids, logs = append(procs, p), append(pids, p.cmd.Process.Pid), append(logs, log)
	}
	defer func() {
		for _, p := range procs {
			p.kill()
		}
	}()
	post := func(subject, key string, i int, to *proc) (time.Time, error) {
		body := fmt.Sprintf(`{"subject":"%s %03d","n":%d}`, subject, i, i)
		err := postEvent(func() string { return to.addr }, key, body, time.Minute)
		return time.Now(), err
	}
	for i, p := range procs {
		if _, err := post(subject+" warm", fmt.Sprintf("%s-warm%d", subject, i), i, p); err != nil {
			b.Fatal(err)
		}
	}
	pb.waitDone(db, n, nil)
	m := benchtab.Start(map[string][]int{"rt": {pb.rtPID}, "bridge": pids})
	jobs := make(chan int)
	var mu sync.Mutex
	posted := map[string]time.Time{}
	var wg sync.WaitGroup
	t0 := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				key := fmt.Sprintf("%s-%d", subject, i)
				at, err := post(subject, key, i, procs[i%n])
				if err != nil {
					b.Error(err)
					continue
				}
				mu.Lock()
				posted[key] = at
				mu.Unlock()
			}
		}()
	}
	for i := range pb.events {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	done := map[string]time.Time{}
	pb.waitDone(db, n+pb.events, done)
	u := m.Stop() // before the instances are killed: their CPU counts
	if w := benchtab.LogProblems(logs...); w != "" {
		fmt.Printf("%s: %s\n", subject, w) // beside the table (a benchmark's log is cut to ten lines)
	}
	var last time.Time
	var lat []time.Duration
	for key, at := range posted {
		lat = append(lat, done[key].Sub(at))
		if done[key].After(last) {
			last = done[key]
		}
	}
	return pb.result(subject, pb.events, t0, last.Sub(t0), lat, u)
}

// waitDone polls the store's schema until want events are done, failing on
// a dead letter or when none was done for 5 minutes, and fills done (dedup key → the time the event was done).
func (pb *pgBench) waitDone(db *pgtest.DB, want int, done map[string]time.Time) {
	b := pb.b
	ctx := context.Background()
	last, seen := time.Now(), 0
	for ; ; time.Sleep(100 * time.Millisecond) {
		var ok, dead int
		if err := db.Admin.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'dead') FROM `+db.Schema+`.events`).Scan(&ok, &dead); err != nil {
			b.Fatal(err)
		}
		if dead > 0 {
			b.Fatalf("%d events dead-lettered", dead)
		}
		if ok >= want {
			break
		}
		if ok > seen {
			last, seen = time.Now(), ok
		}
		if time.Since(last) > 5*time.Minute {
			b.Fatalf("%d of %d events done, none for 5 minutes", ok, want)
		}
	}
	if done == nil {
		return
	}
	rows, err := db.Admin.Query(ctx, `SELECT dedup_key, updated_at FROM `+db.Schema+`.events WHERE state = 'done'`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var at int64
		if err := rows.Scan(&key, &at); err != nil {
			b.Fatal(err)
		}
		done[key] = time.UnixMilli(at)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
}

// result counts the leg's tickets in RT's database (subject → tickets) and
// the transactions others made in RT while the leg ran.
func (pb *pgBench) result(subject string, want int, t0 time.Time, el time.Duration, lat []time.Duration, u benchtab.Usage) benchtab.Result {
	ctx := context.Background()
	r := benchtab.Result{Want: want, Elapsed: el, Lat: lat, Usage: u}
	rows, err := pb.rtdb.Query(ctx, `SELECT count(*) FROM tickets WHERE subject LIKE $1 || ' ___' GROUP BY subject`, subject)
	if err != nil {
		pb.b.Fatal(err)
	}
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			pb.b.Fatal(err)
		}
		r.Items, r.Dups = r.Items+1, r.Dups+n-1
	}
	rows.Close()
	// RT records times in UTC, without a zone.
	utc := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
	// Ticket transactions only: a create also records one per role group.
	err = pb.rtdb.QueryRow(ctx, `SELECT count(*) FROM transactions t WHERE t.objecttype = 'RT::Ticket'
		AND t.created >= $1::timestamp AND t.created <= $2::timestamp
		AND NOT EXISTS (SELECT 1 FROM tickets k WHERE k.id = t.objectid AND k.subject LIKE $3 || ' ___')`,
		utc(t0), utc(t0.Add(el)), subject).Scan(&r.Foreign)
	if err != nil {
		pb.b.Fatal(err)
	}
	return r
}
