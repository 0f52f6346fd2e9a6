package e2e_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// counter is a loopback reverse proxy that counts the requests it passes
// (RT's calls, or Alertmanager's deliveries) and can delay each one, to
// play a slow RT.
type counter struct {
	URL    string
	calls  atomic.Int64
	writes atomic.Int64 // POSTs (REST 1.0 writes are POSTs; reads are GETs)
	delay  time.Duration
}

func newCounter(t testing.TB, target string, delay time.Duration) *counter {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{delay: delay}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The daemon's RT health probe (GET of the REST root) is no work.
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/REST/1.0/") {
			rp.ServeHTTP(w, r)
			return
		}
		c.calls.Add(1)
		if r.Method == http.MethodPost && !strings.Contains(r.URL.Path, "/search/") {
			c.writes.Add(1)
		}
		if c.delay > 0 {
			time.Sleep(c.delay)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL + strings.TrimSuffix(u.Path, "/")
	return c
}
