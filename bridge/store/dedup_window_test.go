package store

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// A key with a DedupWindow is a duplicate only within the window after its
// first event; later the same key is a new event, and the window restarts
// from it.
func TestDedupWindow(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	s, err := Open(context.Background(), t.TempDir(), Options{Now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	accept := func() (string, bool, string) {
		t.Helper()
		in := incoming("hook", "sha256:abc", `{"a":1}`)
		in.DedupWindow = time.Hour
		acc, err := s.Accept(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		return acc.ID, acc.Duplicate, acc.DuplicateOf
	}
	first, dup, _ := accept()
	if dup {
		t.Fatal("first event recorded as a duplicate")
	}
	clock.Add((59 * time.Minute).Milliseconds())
	if _, dup, of := accept(); !dup || of != first {
		t.Fatalf("inside the window: duplicate=%v of %q, want of %q", dup, of, first)
	}
	clock.Add((2 * time.Minute).Milliseconds())
	second, dup, _ := accept()
	if dup {
		t.Fatal("after the window: still a duplicate")
	}
	clock.Add((30 * time.Minute).Milliseconds())
	if _, dup, of := accept(); !dup || of != second {
		t.Fatalf("window restarted from the second event: duplicate=%v of %q, want %q", dup, of, second)
	}
	// Without a window the key is kept for good.
	plain := incoming("hook", "delivery-1", `{}`)
	if _, err := s.Accept(context.Background(), plain); err != nil {
		t.Fatal(err)
	}
	clock.Add((1000 * time.Hour).Milliseconds())
	acc, err := s.Accept(context.Background(), incoming("hook", "delivery-1", `{}`))
	if err != nil || !acc.Duplicate {
		t.Fatalf("no window: %+v %v", acc, err)
	}
}
