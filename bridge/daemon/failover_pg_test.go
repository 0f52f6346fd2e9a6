package daemon

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
	"github.com/rtbridge/rtbridge/internal/pgtest"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// pgConfig writes one instance's config: the shared PostgreSQL store, the
// RT on PostgreSQL, its own listen address. rt.timeout is well above what
// a create takes while the instances' requests queue for RT's four workers:
// the settle time after an unanswered create derives from it, and RT must
// have finished a request before its outcome is reconciled.
func pgConfig(t testing.TB, dir, dsn string, rt testenv.RT, addr string, workers int, level, rules string) string {
	t.Helper()
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte(rt.Token+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "hook-token"), []byte("hook-secret\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "pg-dsn"), []byte(dsn+"\n"), 0o600)
	cfg := fmt.Sprintf(`rt:
  url: %s
  auth: token
  token_file: rt-token
  idempotency_field: RTBridgeKey
  timeout: 20s
  max_concurrency: 4
state:
  postgres: { dsn_file: pg-dsn, lease_ttl: 3s }
log: { level: %s }
http: { listen: %q }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: { bearer: { token_file: hook-token } } }
  - { name: am, path: /hooks/am, kind: alertmanager, auth: { bearer: { token_file: hook-token } } }
executor:
  workers: %d
  backoff: { initial: 300ms, max: 2s }
  breaker: { failures: 5, open_for: 1s }
  stop_timeout: 3s
rules:
%s`, rt.URL, level, addr, workers, rules)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Three instances share one PostgreSQL store in front of the RT on
// PostgreSQL. JSON events and Alertmanager notifications (a new group
// each) are posted round robin, each a second time to another instance
// (an HA pair of senders), while instances are killed with SIGKILL at
// random moments and restarted. In the end every event and every group
// made exactly one ticket: nothing lost, nothing twice.
func TestFailoverThreeInstancesSIGKILL(t *testing.T) {
	v := testenv.Require(t, "RT_PG_URL", "RT_PG_TOKEN")
	rt := testenv.RT{URL: v["RT_PG_URL"], Token: v["RT_PG_TOKEN"]}
	dsn := pgtest.Schema(t).DSN
	const n, events, kills = 3, 60, 10
	type inst struct {
		cfg, addr, log string
		p              *proc
	}
	insts := make([]*inst, n)
	for i := range insts {
		dir := t.TempDir()
		addr := freePort(t)
		insts[i] = &inst{cfg: pgConfig(t, dir, dsn, rt, addr, 2, "debug", createRule+pairRule), addr: addr, log: filepath.Join(dir, "daemon.log")}
		insts[i].p = startBinary(t, insts[i].cfg, addr, insts[i].log)
	}
	var mu sync.Mutex // guards insts[i].p and addr choice while one restarts
	addrOf := func(i int) func() string {
		return func() string { mu.Lock(); defer mu.Unlock(); return insts[i%n].addr }
	}
	run := fmt.Sprintf("failover-%d", time.Now().UnixNano())
	posted := make(chan error, 1)
	go func() {
		for i := range events {
			body := fmt.Sprintf(`{"subject":"%s %03d","n":%d}`, run, i, i)
			key := fmt.Sprintf("%s-%d", run, i)
			am := amBody(fmt.Sprintf("%sA-%03d", run, i), "firing", i)
			// The same delivery reaches two instances, as from an HA pair.
			for _, to := range []int{i, i + 1} {
				if err := postEvent(addrOf(to), key, body, 60*time.Second); err != nil {
					posted <- err
					return
				}
				if err := postTo(addrOf(to+1), "/hooks/am", "", am, 60*time.Second); err != nil {
					posted <- err
					return
				}
			}
			time.Sleep(time.Duration(20+mrand.IntN(80)) * time.Millisecond)
		}
		posted <- nil
	}()
	for k := range kills {
		time.Sleep(time.Duration(500+mrand.IntN(2500)) * time.Millisecond)
		i := mrand.IntN(n)
		mu.Lock()
		insts[i].p.kill()
		t.Logf("SIGKILL %d: instance %d", k+1, i+1)
		insts[i].p = startBinary(t, insts[i].cfg, insts[i].addr, insts[i].log)
		mu.Unlock()
	}
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
	logs := func() string {
		var b strings.Builder
		for i, in := range insts {
			l, _ := os.ReadFile(in.log)
			fmt.Fprintf(&b, "--- instance %d\n%s\n", i+1, tail(grepOut(string(l), "level=DEBUG"), 30))
		}
		return b.String()
	}
	st, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Wait until RT has every ticket and the store has finished every event
	// (one whose holder died mid-create is reconciled after the settle time).
	deadline := time.Now().Add(6 * time.Minute)
	for {
		got := countTickets(t, rt, run)
		for subj, c := range got {
			if c != 1 {
				t.Fatalf("%d tickets for %q (a duplicate after failover)\n%s", c, subj, logs())
			}
		}
		stats, err := st.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		final, pending := 0, 0
		for state, c := range stats.ByState {
			if state.Final() {
				final += c
			} else {
				pending += c
			}
		}
		if stats.ByState[store.StateDead] > 0 {
			t.Fatalf("dead events: %v\n%s", stats.ByState, logs())
		}
		// Each JSON event and each notification was delivered twice. A
		// post whose instance was killed after the store had it but before
		// the 202 went out is posted again by the sender, as a real one
		// would: a JSON repeat is a duplicate of its Idempotency-Key, a
		// notification repeat an identical alert set. So at least 4*events
		// events, and exactly one done per JSON event and per group.
		if len(got) == 2*events && pending == 0 && final >= 4*events {
			if d := stats.ByState[store.StateDone]; d != 2*events {
				t.Errorf("store states %v, want %d done", stats.ByState, 2*events)
			}
			if d := stats.ByState[store.StateDuplicate]; d < events {
				t.Errorf("store states %v, want at least %d duplicates", stats.ByState, events)
			}
			if extra := final - 4*events; extra > 0 {
				t.Logf("%d deliveries posted again after a kill cut the answer off: %v", extra, stats.ByState)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 6 min %d of %d tickets; store states %v\n%s", len(got), 2*events, stats.ByState, logs())
		}
		time.Sleep(2 * time.Second)
	}
	for _, in := range insts {
		in.p.term(t)
	}
	for subj, c := range countTickets(t, rt, run) {
		if c != 1 {
			t.Errorf("%d tickets for %q", c, subj)
		}
	}
}
