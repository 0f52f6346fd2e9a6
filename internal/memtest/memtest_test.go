package memtest

import (
	"runtime"
	"testing"
)

// Touching 64 MiB while Measure runs shows as at least that much growth of
// the peak resident set.
func TestMeasureSeesAnAllocation(t *testing.T) {
	var keep []byte
	p, err := Measure(func() error {
		keep = make([]byte, 64<<20)
		for i := range keep {
			keep[i] = byte(i) // every page becomes resident
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(keep)
	if p.RSS < 60<<20 {
		t.Errorf("RSS growth %d bytes, want >= 60 MiB", p.RSS)
	}
	t.Logf("heap %d MiB, RSS %d MiB", p.Heap>>20, p.RSS>>20)
}
