package rtapi

import (
	"context"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// The test RT hashes passwords with bcrypt cost 4, which hides what a
// password check costs at RT's stock cost 12. ensure-users.sh gives the user
// rtbridge-bench12 a cost-12 hash (RT checks a hash with its own cost), so
// these benchmarks show the per-request price of QueryAuth (a check on every
// request) against the session cookie (one check at login, none after).
//
//	go test -run '^$' -bench 'Cost12' -benchtime 20x ./rtapi/
func BenchmarkAuthQueryCost12(b *testing.B)  { benchCost12(b, "query") }
func BenchmarkAuthCookieCost12(b *testing.B) { benchCost12(b, "cookie") }

// BenchmarkAuthCost12 alternates both clients in one loop and reports their
// per-request times side by side and the ratio.
func BenchmarkAuthCost12(b *testing.B) {
	query, cookie := cost12Client(b, "query"), cost12Client(b, "cookie")
	ctx := context.Background()
	var tq, tc time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := query.Queue(ctx, "General"); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, err := cookie.Queue(ctx, "General"); err != nil {
			b.Fatal(err)
		}
		tq += mid.Sub(start)
		tc += time.Since(mid)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tq)/n/1e6, "query-ms/req")
	b.ReportMetric(float64(tc)/n/1e6, "cookie-ms/req")
	if tc > 0 {
		b.ReportMetric(float64(tq)/float64(tc), "query/cookie")
	}
}

func benchCost12(b *testing.B, kind string) {
	c := cost12Client(b, kind)
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Queue(ctx, "General"); err != nil {
			b.Fatal(err)
		}
	}
}

// cost12Client returns a client for the cost-12 user that has made one
// request already (the cookie client's login is outside the timing).
func cost12Client(b *testing.B, kind string) *Client {
	b.Helper()
	rt := rtClientEnv(b)
	v := testenv.Require(b, "RT_BENCH12_USER", "RT_BENCH12_PASSWORD")
	var auth Authenticator = NewCookieAuth(v["RT_BENCH12_USER"], v["RT_BENCH12_PASSWORD"])
	if kind == "query" {
		auth = NewQueryAuth(v["RT_BENCH12_USER"], v["RT_BENCH12_PASSWORD"])
	}
	c, err := New(Config{URL: rt.URL, Auth: auth})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Queue(context.Background(), "General"); err != nil {
		b.Fatal(err)
	}
	return c
}
