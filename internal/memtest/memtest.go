// Package memtest measures memory for benchmarks: how far the heap, and
// the process's resident set, grow while a function runs.
package memtest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// HeapPeak runs fn while sampling the heap every 2 ms and returns the
// largest growth of the heap in use over what it was before fn started:
// what fn holds in memory at most.
func HeapPeak(fn func() error) (uint64, error) {
	p, err := Measure(fn)
	return p.Heap, err
}

// Peak is what Measure found.
type Peak struct {
	Heap uint64 // largest heap growth sampled (bytes)
	// RSS is the growth of the peak resident set (VmHWM) over the resident
	// set before fn (bytes); 0 where /proc does not tell (not Linux).
	RSS uint64
}

// Measure runs fn and reports the peak heap and resident set growth.
func Measure(fn func() error) (Peak, error) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	// Writing 5 to clear_refs resets VmHWM to the current RSS, so the peak
	// read afterwards belongs to fn alone.
	rssOK := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	rssBase, err := status("VmRSS")
	rssOK = rssOK && err == nil
	var p Peak
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
				if m.HeapAlloc > base && m.HeapAlloc-base > p.Heap {
					p.Heap = m.HeapAlloc - base
				}
			}
		}
	}()
	ferr := fn()
	close(done)
	<-sampled
	if hwm, err := status("VmHWM"); rssOK && err == nil && hwm > rssBase {
		p.RSS = hwm - rssBase
	}
	return p, ferr
}

// status reads a size field (kB) of /proc/self/status, in bytes.
func status(field string) (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("memtest: %s: %w", field, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("memtest: no " + field + " in /proc/self/status")
}
