package webhook

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/internal/memtest"
)

const (
	floodClients = 2000    // concurrent POSTs
	floodBody    = 1 << 20 // bytes each: the default body limit
	floodPerAddr = 8       // connections per client address (127.x.y.z)
	// floodPause is how long each sender stalls halfway through its body,
	// as a slow (or malicious) sender does, so bodies are in flight at once.
	floodPause = 4 * time.Second
)

// BenchmarkFlood opens 2,000 concurrent 1 MiB POSTs with wrong HMAC
// signatures (a sender who cannot sign: every body must be read to be
// refused), each stalling halfway for 4 s, from 250 loopback addresses
// against a real TCP server, and
// reports how far the heap and the resident set grew. "uncapped" turns the
// caps off (what every release before them did); "default" is http.limits
// as shipped. Run: go test -run XXX -bench Flood -benchtime 1x ./bridge/webhook/
func BenchmarkFlood(b *testing.B) {
	for _, c := range []struct {
		name   string
		limits config.HTTPLimits
	}{
		// default first: memory the runtime kept from the uncapped run
		// would hide its RSS growth.
		{"default", config.HTTPLimits{}},
		{"uncapped", config.HTTPLimits{MaxConnections: -1, MaxConnectionsPerClient: -1, MaxConcurrentBodies: -1}},
	} {
		b.Run(c.name, func(b *testing.B) { benchFlood(b, c.limits) })
	}
}

func benchFlood(b *testing.B, limits config.HTTPLimits) {
	hooks := []config.Webhook{{Name: "signed", Path: "/signed", Kind: config.KindJSON, MaxBodyBytes: floodBody,
		Auth: config.Auth{HMAC: &config.HMACAuth{Style: "github", Secret: "flood-secret"}}}}
	s, err := New(hooks, Options{Sink: openStore(b), HMAC: HMAC, Limits: limits})
	if err != nil {
		b.Fatal(err)
	}
	lim := limits.Resolved()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	go srv.Serve(LimitListener(ln, lim.MaxConnections, lim.MaxConnectionsPerClient))
	defer srv.Close()

	body := []byte(`{"x":"` + strings.Repeat("a", floodBody-8) + `"}`)
	head := fmt.Sprintf("POST /signed HTTP/1.1\r\nHost: rtbridge\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"X-Hub-Signature-256: sha256=%064x\r\nConnection: close\r\n\r\n", len(body), 0)
	var worst memtest.Peak
	var outcome map[string]int
	var wall time.Duration
	for range b.N {
		t0 := time.Now()
		var res map[string]int
		p, err := memtest.Measure(func() error {
			res = flood(ln.Addr().String(), head, body)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		wall = time.Since(t0)
		worst.Heap, worst.RSS = max(worst.Heap, p.Heap), max(worst.RSS, p.RSS)
		outcome = res
	}
	if outcome["201"]+outcome["202"] > 0 {
		b.Fatalf("unsigned bodies accepted: %v", outcome)
	}
	b.ReportMetric(float64(worst.Heap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(worst.RSS)/(1<<20), "peak-RSS-growth-MiB")
	keys := make([]string, 0, len(outcome))
	for k := range outcome {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sum []string
	for _, k := range keys {
		sum = append(sum, fmt.Sprintf("%s=%d", k, outcome[k]))
	}
	b.Logf("%d x %d KiB POSTs, limits %+v: peak heap +%.0f MiB, peak RSS +%.0f MiB, %s, answers %s",
		floodClients, floodBody>>10, lim, float64(worst.Heap)/(1<<20), float64(worst.RSS)/(1<<20), wall.Round(time.Millisecond), strings.Join(sum, " "))
}

// flood sends every request at once and counts the answers by status
// code ("reset" when the server closed before answering).
func flood(addr, head string, body []byte) map[string]int {
	var mu sync.Mutex
	res := map[string]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range floodClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := net.IPv4(127, 1+byte(i/floodPerAddr/250), byte(i/floodPerAddr%250), 1)
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 30 * time.Second}
			<-start
			out := send(d, addr, head, body)
			mu.Lock()
			res[out]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return res
}

func send(d net.Dialer, addr, head string, body []byte) string {
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return "dial-error"
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(90 * time.Second))
	go func() { // the answer may come before the body is written (503, 413)
		io.WriteString(c, head)
		c.Write(body[:len(body)/2])
		time.Sleep(floodPause)
		c.Write(body[len(body)/2:])
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "reset"
	}
	resp.Body.Close()
	return resp.Status[:3]
}
