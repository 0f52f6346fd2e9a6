package webhook

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
)

// benchAccept posts b.N events from 32 concurrent clients through a real
// TCP server into a real store (durable, fsync'd accepts) and reports the
// latency percentiles and throughput. With every > 0 the requests are paced
// to one per interval overall (an open-loop load such as 500 req/s);
// otherwise the clients send as fast as the server answers.
func benchAccept(b *testing.B, every time.Duration) { benchAcceptInto(b, openStore(b), every) }

// benchAcceptInto is benchAccept into the store st.
func benchAcceptInto(b *testing.B, st source.Sink, every time.Duration) {
	_, ts, _ := newServer(b, st)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	body := `{"service":"api","version":"1.2.3","status":"deployed","by":"ci"}`
	const clients = 32
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	jobs := make(chan int)
	var failed sync.Map
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t0 := time.Now()
				req, _ := http.NewRequest("POST", ts.URL+"/hooks/ci", strings.NewReader(body))
				req.SetBasicAuth("ci", "ci-pass")
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(i, err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != 202 {
					failed.Store(i, resp.Status)
				}
			}
		}()
	}
	var tick *time.Ticker
	if every > 0 {
		tick = time.NewTicker(every)
		defer tick.Stop()
	}
	for i := 0; i < b.N; i++ {
		if tick != nil {
			<-tick.C
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	failed.Range(func(k, v any) bool { b.Fatalf("request %v: %v", k, v); return false })
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	if gc, ok := st.(interface{ CommitStats() (int64, int64) }); ok {
		if commits, accepts := gc.CommitStats(); commits > 0 {
			b.ReportMetric(float64(accepts)/float64(commits), "accepts/fsync")
		}
	}
	if testing.Verbose() {
		fmt.Printf("accept: n=%d p50=%v p99=%v %.0f req/s (target p99 <= 10ms at 500 req/s)\n", b.N, pct(0.5), pct(0.99), float64(b.N)/elapsed.Seconds())
	}
}

// BenchmarkAcceptMax: 32 clients, closed loop (throughput ceiling).
func BenchmarkAcceptMax(b *testing.B) { benchAccept(b, 0) }

// BenchmarkAccept500rps: 32 clients, 500 requests/s offered (the target).
func BenchmarkAccept500rps(b *testing.B) { benchAccept(b, 2*time.Millisecond) }
