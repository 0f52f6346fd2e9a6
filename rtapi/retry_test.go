package rtapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

const rtOK = "RT/5.0.3 200 Ok\n\n# Ticket 7 created.\n\n"

// fakeRT answers with handler and counts requests.
func fakeRT(t *testing.T, h func(n int, w http.ResponseWriter, r *http.Request)) (*Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h(int(n.Add(1)), w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL, Timeout: 300 * time.Millisecond,
		Retry: RetryPolicy{Attempts: 3, Initial: time.Millisecond, Max: 2 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func status(code int, body string, hdr ...string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// TestRetryDecisions: every HTTP status / body → how many attempts and which
// Kind, for a read and for a non-idempotent write (Alertmanager's RetryTests).
func TestRetryDecisions(t *testing.T) {
	html := "<html><title>Bad Gateway</title></html>"
	cases := []struct {
		name                string
		h                   func(int, http.ResponseWriter, *http.Request)
		readN, writeN       int
		readKind, writeKind Kind
		readCode, writeCode int
		readOK, writeOK     bool
	}{
		{"RT 200", status(200, rtOK), 1, 1, 0, 0, 0, 0, true, true},
		{"RT 404 comment", status(200, "RT/5.0.3 200 Ok\n\n# Ticket 9 does not exist.\n\n"), 1, 1, Permanent, Permanent, 404, 404, false, false},
		{"RT 409", status(200, "RT/5.0.3 409 Syntax Error\n\n# spam: Unknown field.\n\n"), 1, 1, Permanent, Permanent, 409, 409, false, false},
		{"RT 401 without auth", status(200, "RT/5.0.3 401 Credentials required\n"), 1, 1, Auth, Auth, 401, 401, false, false},
		{"HTTP 200 html page", status(200, html, "Content-Type", "text/html"), 3, 3, Transient, Transient, 200, 200, false, false},
		{"HTTP 401", status(401, html), 1, 1, Auth, Auth, 401, 401, false, false},
		{"HTTP 403", status(403, html), 1, 1, Auth, Auth, 403, 403, false, false},
		{"HTTP 302 SelfService", status(302, "", "Location", "/SelfService/"), 1, 1, Auth, Auth, 302, 302, false, false},
		{"HTTP 404", status(404, html), 1, 1, Permanent, Permanent, 404, 404, false, false},
		{"HTTP 413", status(413, html), 1, 1, Permanent, Permanent, 413, 413, false, false},
		{"HTTP 408", status(408, html), 3, 3, Transient, Transient, 408, 408, false, false},
		{"HTTP 429", status(429, html, "Retry-After", "0"), 3, 3, Transient, Transient, 429, 429, false, false},
		{"HTTP 503", status(503, html, "Retry-After", "0"), 3, 3, Transient, Transient, 503, 503, false, false},
		{"HTTP 500", status(500, html), 3, 1, Transient, Ambiguous, 500, 500, false, false},
		{"HTTP 502", status(502, html), 3, 1, Transient, Ambiguous, 502, 502, false, false},
		{"HTTP 504", status(504, html), 3, 1, Transient, Ambiguous, 504, 504, false, false},
		{"503 then OK", func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				status(503, html)(n, w, r)
				return
			}
			status(200, rtOK)(n, w, r)
		}, 2, 2, 0, 0, 0, 0, true, true},
		{"timeout after sent", func(_ int, w http.ResponseWriter, r *http.Request) {
			time.Sleep(600 * time.Millisecond)
		}, 3, 1, Transient, Ambiguous, 0, 0, false, false},
		{"reset after sent", func(_ int, w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
		}, 3, 1, Transient, Ambiguous, 0, 0, false, false},
	}
	for _, tc := range cases {
		for _, write := range []bool{false, true} {
			name := tc.name + "/read"
			if write {
				name = tc.name + "/write"
			}
			t.Run(name, func(t *testing.T) {
				c, n := fakeRT(t, tc.h)
				var err error
				if write {
					_, err = c.CreateTicket(context.Background(), TicketCreate{Queue: "General", Subject: "x"})
				} else {
					_, err = c.Get(context.Background(), "ticket/7/show", nil)
				}
				wantN, wantKind, wantCode, wantOK := tc.readN, tc.readKind, tc.readCode, tc.readOK
				if write {
					wantN, wantKind, wantCode, wantOK = tc.writeN, tc.writeKind, tc.writeCode, tc.writeOK
				}
				if got := int(n.Load()); got != wantN {
					t.Errorf("attempts = %d, want %d (err %v)", got, wantN, err)
				}
				if wantOK {
					if err != nil {
						t.Errorf("err = %v, want success", err)
					}
					return
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v, want *Error", err)
				}
				if e.Kind != wantKind || e.Code != wantCode {
					t.Errorf("kind %v code %d, want %v %d (%v)", e.Kind, e.Code, wantKind, wantCode, err)
				}
				if wantKind == Ambiguous && !errors.Is(err, ErrOutcomeUnknown) {
					t.Error("Ambiguous error is not ErrOutcomeUnknown")
				}
			})
		}
	}
}

func TestRetryConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := New(Config{URL: "http://" + addr + "/", Retry: RetryPolicy{Attempts: 3, Initial: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	// Refused before anything was sent: even a create is retried, and
	// the final error is Transient.
	start := time.Now()
	_, err = c.CreateTicket(context.Background(), TicketCreate{Queue: "General", Subject: "x"})
	if KindOf(err) != Transient || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("refused: %v (kind %v)", err, KindOf(err))
	}
	if time.Since(start) < time.Millisecond {
		t.Error("no backoff between attempts")
	}
}

func TestRetryAfterHonouredOrReturned(t *testing.T) {
	c, n := fakeRT(t, func(i int, w http.ResponseWriter, r *http.Request) {
		if i == 1 {
			status(503, "busy", "Retry-After", "1")(i, w, r)
			return
		}
		status(200, rtOK)(i, w, r)
	})
	start := time.Now()
	if _, err := c.Get(context.Background(), "ticket/7", nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || n.Load() != 2 {
		t.Errorf("waited %v over %d attempts; want >= Retry-After 1s", d, n.Load())
	}
	// A Retry-After beyond MaxRetryAfter is the caller's business.
	c2, n2 := fakeRT(t, status(429, "slow down", "Retry-After", "3600"))
	_, err := c2.Get(context.Background(), "ticket/7", nil)
	var e *Error
	if !errors.As(err, &e) || e.Kind != Transient || e.RetryAfter != "3600" || n2.Load() != 1 {
		t.Errorf("long Retry-After: %#v after %d attempts", err, n2.Load())
	}
	if d, ok := ParseRetryAfter(time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat), time.Now()); !ok || d < 80*time.Second {
		t.Errorf("HTTP-date Retry-After = %v %v", d, ok)
	}
}

func TestRetryStopsAtDeadline(t *testing.T) {
	c, n := fakeRT(t, status(503, "down"))
	c.retry = RetryPolicy{Attempts: 10, Initial: time.Second, Max: time.Second, MaxRetryAfter: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Get(ctx, "ticket/1", nil)
	if KindOf(err) != Transient || n.Load() != 1 {
		t.Errorf("err %v after %d attempts; want one attempt (the next would pass the deadline)", err, n.Load())
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	p := RetryPolicy{Initial: 100 * time.Millisecond, Max: time.Second}.withDefaults()
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 9: time.Second} {
		for range 20 {
			if d := p.backoff(n); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestNotRTBodyIsTransientWithExcerpt(t *testing.T) {
	c, _ := fakeRT(t, status(200, "<html><head><title>Maintenance pass=hunter2</title></head></html>", "Content-Type", "text/html"))
	_, err := c.Get(context.Background(), "ticket/1", nil)
	if !errors.Is(err, form.ErrNotRT) || KindOf(err) != Transient || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("err = %v", err)
	}
}
