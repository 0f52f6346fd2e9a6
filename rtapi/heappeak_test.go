package rtapi

import "github.com/rtbridge/rtbridge/internal/memtest"

// heapPeak is memtest.HeapPeak: what a streaming upload or download holds
// in memory at most.
func heapPeak(fn func() error) (uint64, error) { return memtest.HeapPeak(fn) }
