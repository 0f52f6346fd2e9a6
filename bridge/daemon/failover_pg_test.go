package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
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

// failoverMailRule: each mail opens a ticket with its subject.
const failoverMailRule = `  - name: mail tickets
    when: { kind: mail }
    do: [ { create: { queue: General, subject: '{{ .Subject }}' } } ]
`

// Three instances share one PostgreSQL store in front of the RT on
// PostgreSQL and watch one IMAP folder. JSON events and Alertmanager
// notifications (a new group each) are posted round robin, each a second
// time to another instance (an HA pair of senders), and mail arrives in
// the folder, while instances are killed with SIGKILL at random moments
// (every third kill hits the mailbox lease's holder) and restarted. In the
// end every event, group and mail made exactly one ticket, every mail was
// moved to the processed folder once, and the mailbox lease moved to
// another instance within the lease TTL after each kill of its holder.
func TestFailoverThreeInstancesSIGKILL(t *testing.T) {
	v := testenv.Require(t, "RT_PG_URL", "RT_PG_TOKEN")
	rt := testenv.RT{URL: v["RT_PG_URL"], Token: v["RT_PG_TOKEN"]}
	db := pgtest.Schema(t)
	m := newMailbox(t)
	const n, events, kills = 3, 200, 10
	const ttl = 3 * time.Second // lease_ttl in pgConfig
	type inst struct {
		cfg, addr, log string
		p              *proc
	}
	insts := make([]*inst, n)
	for i := range insts {
		dir := t.TempDir()
		addr := freePort(t)
		insts[i] = &inst{cfg: pgConfig(t, dir, db.DSN, rt, addr, 2, "debug", createRule+pairRule+failoverMailRule), addr: addr, log: filepath.Join(dir, "daemon.log")}
		appendConfig(t, insts[i].cfg, m.config(dir, ""))
		insts[i].p = startBinary(t, insts[i].cfg, addr, insts[i].log)
	}
	st, err := pgstore.Open(context.Background(), pgstore.Options{DSN: db.DSN})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mailSource := "mail/" + m.inbox
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
			if err := m.put(imapMail(fmt.Sprintf("%sM-%03d", run, i), fmt.Sprintf("%s-m%d@example.org", run, i))); err != nil {
				posted <- err
				return
			}
			time.Sleep(time.Duration(10+mrand.IntN(40)) * time.Millisecond)
		}
		posted <- nil
	}()
	var moves []time.Duration
	for k := range kills {
		time.Sleep(time.Duration(500+mrand.IntN(2500)) * time.Millisecond)
		i := mrand.IntN(n)
		holder := -1
		if k%3 == 0 {
			holder = leaseHolder(t, st, mailSource, time.Minute, func(pid int) int {
				mu.Lock()
				defer mu.Unlock()
				for j, in := range insts {
					if in.p.cmd.Process.Pid == pid {
						return j
					}
				}
				return -1
			})
			i = holder
		}
		mu.Lock()
		killed := insts[i].p.cmd.Process.Pid
		insts[i].p.kill()
		at := time.Now()
		t.Logf("SIGKILL %d: instance %d", k+1, i+1)
		insts[i].p = startBinary(t, insts[i].cfg, insts[i].addr, insts[i].log)
		mu.Unlock()
		if holder >= 0 {
			leaseHolder(t, st, mailSource, time.Minute, func(pid int) int {
				if pid == killed {
					return -1
				}
				return 0 // any other process
			})
			moves = append(moves, time.Since(at))
			t.Logf("mailbox lease moved %s after its holder was killed", time.Since(at).Round(time.Millisecond))
		}
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
	// Wait until RT has every ticket, the store has finished every event
	// (one whose holder died mid-create is reconciled after the settle time)
	// and every mail is in the processed folder.
	// RT is the bottleneck (a few creates a second, slower while other tests
	// use it): the test fails when nothing moves for stall, not at a fixed
	// time.
	const stall = 3 * time.Minute
	var progress [3]int
	moved := time.Now()
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
		var undisposed int
		if err := db.Admin.QueryRow(context.Background(), "SELECT count(*) FROM "+db.Schema+".events WHERE NOT finished").Scan(&undisposed); err != nil {
			t.Fatal(err)
		}
		inbox, processed := m.count(m.inbox), m.count(m.processed)
		// Each JSON event and each notification was delivered twice. A
		// post whose instance was killed after the store had it but before
		// the 202 went out is posted again by the sender, as a real one
		// would: a JSON repeat is a duplicate of its Idempotency-Key, a
		// notification repeat an identical alert set. A mail fetched again
		// after a kill (its cursor not yet saved) is a duplicate of its
		// Message-ID. So at least 5*events events, and exactly one done per
		// JSON event, per group and per mail.
		if len(got) == 3*events && pending == 0 && final >= 5*events && undisposed == 0 && inbox == 0 && processed == events {
			if d := stats.ByState[store.StateDone]; d != 3*events {
				t.Errorf("store states %v, want %d done", stats.ByState, 3*events)
			}
			if d := stats.ByState[store.StateDuplicate]; d < events {
				t.Errorf("store states %v, want at least %d duplicates", stats.ByState, events)
			}
			if extra := final - 5*events; extra > 0 {
				t.Logf("%d deliveries posted or fetched again after a kill cut them off: %v", extra, stats.ByState)
			}
			break
		}
		if now := [3]int{len(got), final, processed}; now != progress {
			progress, moved = now, time.Now()
		}
		if time.Since(moved) > stall {
			t.Fatalf("no progress for %s: %d of %d tickets; store states %v, %d not disposed; inbox %d, processed %d of %d\n%s",
				stall, len(got), 3*events, stats.ByState, undisposed, inbox, processed, events, logs())
		}
		time.Sleep(2 * time.Second)
	}
	// /status and /metrics of each instance show its side of the mailbox
	// lease: exactly one instance polls the folder.
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		held, gauge := 0, 0.0
		for _, in := range insts {
			var s Status
			if err := json.Unmarshal([]byte(getBody(t, in.addr, "/status")), &s); err != nil {
				t.Fatal(err)
			}
			if s.Mailboxes[mailSource] == "held" {
				held++
			}
			gauge += metricValue(getBody(t, in.addr, "/metrics"), `rtbridge_imap_mailbox_lease_held{source="`+mailSource+`"}`)
		}
		if held == 1 && gauge == 1 {
			break
		}
		if time.Since(start) > 2*ttl {
			t.Fatalf("%d instances say they hold the mailbox lease in /status, %v in /metrics; want 1", held, gauge)
		}
	}
	for _, in := range insts {
		in.p.term(t)
	}
	for subj, c := range countTickets(t, rt, run) {
		if c != 1 {
			t.Errorf("%d tickets for %q", c, subj)
		}
	}
	if inbox, processed, failed := m.count(m.inbox), m.count(m.processed), m.count(m.failed); inbox != 0 || processed != events || failed != 0 {
		t.Errorf("inbox %d, processed %d, failed %d; want 0, %d, 0", inbox, processed, failed, events)
	}
	for _, d := range moves {
		if d > ttl+time.Second {
			t.Errorf("the mailbox lease moved %s after its holder was killed; lease_ttl is %s (lease moves: %v)", d, ttl, moves)
		}
	}
}

// leaseHolder waits until a process that which accepts holds the mailbox
// lease of source, and returns what which returned for it (-1: keep
// waiting).
func leaseHolder(t *testing.T, st *pgstore.Store, source string, within time.Duration, which func(pid int) int) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		ls, err := st.Leases(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			// An instance is host:pid:random.
			parts := strings.Split(l.Owner, ":")
			if l.Kind != "mailbox" || l.Name != source || len(parts) < 3 {
				continue
			}
			pid, _ := strconv.Atoi(parts[len(parts)-2])
			if i := which(pid); i >= 0 {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no wanted holder of the mailbox lease %s in %s", source, within)
	return -1
}

// put appends raw to the watched folder (appendMail, for a goroutine other
// than the test's).
func (m *mailbox) put(raw []byte) error {
	cmd := m.admin.Append(m.inbox, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		return fmt.Errorf("append: %w", err)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("append: %w", err)
	}
	if _, err := cmd.Wait(); err != nil {
		return fmt.Errorf("append: %w", err)
	}
	return nil
}
