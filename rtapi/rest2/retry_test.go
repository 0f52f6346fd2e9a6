package rest2_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
)

// The REST2 client accepts the same URL forms as the REST 1.0 one.
func TestURLForms(t *testing.T) {
	for in, want := range map[string]string{
		"https://rt.example.com":             "https://rt.example.com/REST/2.0/",
		"https://rt.example.com/rt":          "https://rt.example.com/rt/REST/2.0/",
		"https://rt.example.com/REST/1.0/":   "https://rt.example.com/REST/2.0/",
		"https://rt.example.com/x/REST/2.0/": "https://rt.example.com/x/REST/2.0/",
	} {
		c, err := rest2.New(rest2.Config{URL: in})
		if err != nil || c.BaseURL() != want {
			t.Errorf("New(%q) = %v, %v; want %q", in, c, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://h/", "https://root:hunter2@h/", "https://h/#x"} {
		if _, err := rest2.New(rest2.Config{URL: bad}); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(%q) = %v", bad, err)
		}
	}
}

// A 503 with Retry-After is retried after the time RT asked for (rtapi's
// RetryPolicy), and a GET is tried at most Attempts times.
func TestRetryHonoursRetryAfter(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := hits.Add(1); {
		case n == 1:
			w.Header().Set("Retry-After", "1")
			fallthrough
		case n >= 10:
			http.Error(w, `{"message":"busy"}`, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"ok":1}`))
	}))
	defer srv.Close()
	c, err := rest2.New(rest2.Config{URL: srv.URL, Attempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	status, body, err := c.Raw(context.Background(), http.MethodGet, "queues/all", nil)
	if err != nil || status != 200 || string(body) != `{"ok":1}` || hits.Load() != 2 {
		t.Fatalf("Raw = %d %q %v after %d requests", status, body, err, hits.Load())
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("retried after %v, before Retry-After: 1", waited)
	}

	hits.Store(9) // every answer is 503 now
	_, _, err = c.Raw(context.Background(), http.MethodGet, "queues/all", nil)
	if rtapi.KindOf(err) != rtapi.Transient || hits.Load() != 11 {
		t.Errorf("after 2 attempts: %v, %d requests", err, hits.Load()-9)
	}
}
