// Package memtest measures what a piece of code holds in memory, for
// benchmarks that bound a streaming path's memory.
package memtest

import (
	"runtime"
	"time"
)

// HeapPeak runs fn while sampling the heap every 2 ms and returns the
// largest growth of the heap in use over what it was before fn started:
// what a streaming upload or download holds in memory at most.
func HeapPeak(fn func() error) (uint64, error) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > base && m.HeapAlloc-base > peak {
					peak = m.HeapAlloc - base
				}
			}
		}
	}()
	err := fn()
	close(done)
	<-sampled
	return peak, err
}
