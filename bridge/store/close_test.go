package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// An Accept racing Close returns (accepted, or ErrClosed) instead of
// waiting forever for a committer that has gone.
func TestAcceptRacingCloseReturns(t *testing.T) {
	dir := t.TempDir()
	for i := range 100 {
		s := open(t, dir)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Accept(context.Background(), incoming("hook", "", "{}"))
				errs <- err
			}()
		}
		s.Close()
		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Accept still waiting 10s after Close", i)
		}
		close(errs)
		for err := range errs {
			if err != nil && !errors.Is(err, ErrClosed) {
				t.Fatalf("round %d: %v", i, err)
			}
		}
	}
}
