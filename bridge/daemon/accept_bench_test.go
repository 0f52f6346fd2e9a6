package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/benchtab"
)

// BenchmarkDaemonAccept500rps is webhook accept latency of the whole
// daemon, as an operator runs it: the real binary, the fsync'd SQLite store,
// a bearer token, the recommended RT settings (idempotency_field) and
// keep-alive senders, at 500 posts/s for 10 s, the load generator on the
// same cores. Two legs run side by side in interleaved rounds: RT
// unreachable (every event planned, its create attempted and failed, the
// breaker opening: the outage the spool is for) and a rule that ignores
// every event (planning is all the executor does). The target is accept
// p99 <= 10 ms in both.
//
//	go test -run '^$' -bench DaemonAccept500rps -benchtime 1x ./bridge/daemon
//
// BENCH_ROUNDS sets the rounds (default 3).
func BenchmarkDaemonAccept500rps(b *testing.B) {
	const rate, posts = 500, 5000
	legs := []struct{ name, rules string }{
		{"RT unreachable", createRule},
		{"ignore rule", "  - { name: noted, when: { kind: json }, do: [ { ignore: noted } ] }\n"},
	}
	for b.Loop() {
		p50 := map[string][]time.Duration{}
		p99 := map[string][]time.Duration{}
		for r := range benchtab.Rounds() {
			for k := range legs {
				leg := legs[k]
				if r%2 == 1 {
					leg = legs[len(legs)-1-k]
				}
				lat := daemonAcceptLeg(b, leg.rules, rate, posts)
				if len(lat) != posts {
					b.Fatalf("%s: %d of %d posts answered 202", leg.name, len(lat), posts)
				}
				p50[leg.name] = append(p50[leg.name], pct(lat, 50))
				p99[leg.name] = append(p99[leg.name], pct(lat, 99))
				fmt.Printf("round %d, %s: accept p50 %v p99 %v p99.9 %v max %v\n", r+1, leg.name,
					pct(lat, 50), pct(lat, 99), pct999(lat), pct(lat, 100))
			}
		}
		fmt.Printf("\n%d posts at %d/s, medians of %d rounds; load average at the end: %s\n%-16s %10s %10s %14s\n",
			posts, rate, benchtab.Rounds(), benchtab.LoadAvg(), "leg", "p50", "p99", "p99 / 10 ms")
		for _, leg := range legs {
			m50, m99 := pct(p50[leg.name], 50), pct(p99[leg.name], 50)
			fmt.Printf("%-16s %10v %10v %14.2f\n", leg.name, m50, m99, float64(m99)/float64(10*time.Millisecond))
			b.ReportMetric(float64(m99.Microseconds())/1000, strings.ReplaceAll(leg.name, " ", "-")+"-p99-ms")
		}
	}
}

// daemonAcceptLeg starts the binary on a fresh state dir with rules, posts
// at rate (postAtRate: kept-alive connections) and returns the latency of
// every post answered 202.
func daemonAcceptLeg(b *testing.B, rules string, rate, posts int) []time.Duration {
	// The previous leg's daemon removed its WAL (tens of MB) on exit; on a
	// filesystem mounted with discard, trimming it stalled the next leg's
	// first fsyncs by 100-200 ms. Let the disk settle first.
	syscall.Sync()
	time.Sleep(5 * time.Second)
	dir := b.TempDir()
	addr := freePort(b)
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte("unused\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "hook-token"), []byte("hook-secret\n"), 0o600)
	cfg := fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token_file: rt-token, allow_plaintext: true, idempotency_field: RTBridgeKey }
state: { dir: state }
http: { listen: %q, limits: { max_connections_per_client: -1 } }
log: { level: info }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: { bearer: { token_file: hook-token } } }
rules:
%s`, addr, rules)
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	p := startBinary(b, path, addr, filepath.Join(dir, "daemon.log"))
	defer p.term(b)
	time.Sleep(2 * time.Second) // past the start-up's first scans
	return postAtRate(b, addr, rate, posts)
}

// pct999 is the 99.9th percentile.
func pct999(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*999/1000)]
}
