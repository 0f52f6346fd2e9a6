package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
)

// BenchmarkAccept measures durable accepts (synchronous=FULL, WAL) from many
// concurrent callers, as a busy webhook produces them; it reports accepts
// per second, accepts per commit (fsync), and the p50/p99 latency of one Accept.
func BenchmarkAccept(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := strings.Repeat(`{"alert":"disk full"}`, 20)
	var mu sync.Mutex
	var lat []time.Duration
	var seq int64
	b.SetParallelism(8) // 8 × GOMAXPROCS callers
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			mu.Lock()
			seq++
			n := seq
			mu.Unlock()
			t0 := time.Now()
			_, err := s.Accept(context.Background(), source.Incoming{Source: "bench", Kind: "json", DedupKey: fmt.Sprint(n), Raw: strings.NewReader(body)})
			if err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	el := time.Since(start)
	b.StopTimer()
	commits, accepts := s.CommitStats()
	if len(lat) == 0 || commits == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(accepts)/el.Seconds(), "accepts/s")
	b.ReportMetric(float64(accepts)/float64(commits), "accepts/fsync")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
