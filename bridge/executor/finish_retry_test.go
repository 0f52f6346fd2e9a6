package executor

import (
	"testing"
	"time"
)

// A failing disposition is tried again after 5 s, then 10, 20, 40 and at
// most a minute apart.
func TestFinishRetryBacksOff(t *testing.T) {
	now := time.Unix(0, 0)
	var r retryAt
	var got []time.Duration
	for range 6 {
		r = r.next(now)
		got = append(got, r.at.Sub(now))
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
}
