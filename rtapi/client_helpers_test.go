package rtapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// Custom fields created by test/servers/rt/ensure-cf.sh.
const (
	testCF      = "RTBridgeKey"
	testMultiCF = "RTBridgeTags"
)

var uniqueSeq atomic.Int64

// unique returns a name no other test run has used.
func unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), uniqueSeq.Add(1))
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rtClient returns a client for the test RT (cookie auth unless auth is
// given) and the buffer its debug log goes to.
func rtClient(t testing.TB, auth Authenticator) (*Client, *syncBuffer, testenv.RT) {
	t.Helper()
	rt := testenv.RequireRT(t)
	if auth == nil {
		auth = NewCookieAuth(rt.User, rt.Password)
	}
	logs := &syncBuffer{}
	c, err := New(Config{
		URL:     rt.URL,
		Auth:    auth,
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Timeout: 30 * time.Second,
		Retry:   RetryPolicy{Attempts: 2, Initial: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, logs, rt
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mustCreate creates a ticket in General and returns its id.
func mustCreate(t testing.TB, c *Client, tc TicketCreate) int {
	t.Helper()
	if tc.Queue == "" {
		tc.Queue = "General"
	}
	id, err := c.CreateTicket(ctxT(t), tc)
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	if id <= 0 {
		t.Fatalf("CreateTicket returned id %d", id)
	}
	return id
}

func rtClientEnv(t testing.TB) testenv.RT {
	t.Helper()
	return testenv.RequireRT(t)
}

func itoa(n int) string { return fmt.Sprint(n) }
