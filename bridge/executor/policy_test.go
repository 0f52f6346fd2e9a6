package executor

import (
	"testing"
	"time"
)

func TestBackoffSchedule(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 10 * time.Second}.withDefaults()
	now := time.Now()
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 9: 10 * time.Second} {
		d := b.delay(n, "", now)
		if d < want*8/10 || d > min(want*12/10, b.Max) {
			t.Errorf("delay(%d) = %s, want %s ±20%% (capped at %s)", n, d, want, b.Max)
		}
	}
	if d := b.delay(1, "7", now); d != 7*time.Second {
		t.Errorf("Retry-After 7: %s", d)
	}
	if d := b.delay(1, "3600", now); d != b.Max {
		t.Errorf("Retry-After beyond the cap: %s", d)
	}
}

func TestBreaker(t *testing.T) {
	var states []string
	b := newBreaker(BreakerConfig{Threshold: 2, Cooldown: time.Minute}, func(s string) { states = append(states, s) })
	now := time.Now()
	b.failure(now)
	if ok, _, _ := b.allow(now); !ok {
		t.Fatal("open after one failure")
	}
	b.failure(now)
	if ok, _, wait := b.allow(now); ok || wait != time.Minute {
		t.Fatalf("not open after threshold (ok %v, wait %s)", ok, wait)
	}
	later := now.Add(time.Minute)
	if ok, probe, _ := b.allow(later); !ok || !probe {
		t.Fatal("no probe after the cooldown")
	}
	if ok, _, _ := b.allow(later); ok {
		t.Fatal("a second event passed while probing")
	}
	b.failure(later) // the probe failed: open again
	if ok, _, _ := b.allow(later); ok {
		t.Fatal("not reopened after a failed probe")
	}
	if ok, probe, _ := b.allow(later.Add(time.Minute)); !ok || !probe {
		t.Fatal("no second probe")
	}
	b.success()
	if ok, probe, _ := b.allow(later.Add(time.Minute)); !ok || probe || b.current() != BreakerClosed {
		t.Fatal("not closed after a successful probe")
	}
	want := []string{BreakerOpen, BreakerHalfOpen, BreakerOpen, BreakerHalfOpen, BreakerClosed}
	if len(states) != len(want) {
		t.Fatalf("transitions %v, want %v", states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("transitions %v, want %v", states, want)
		}
	}
}

// holding tells the scheduler how long nothing may start, without taking
// the half-open probe.
func TestBreakerHolding(t *testing.T) {
	b := newBreaker(BreakerConfig{Threshold: 1, Cooldown: time.Minute}, nil)
	now := time.Now()
	if h := b.holding(now); h != 0 {
		t.Fatalf("closed: holding %v", h)
	}
	b.failure(now)
	if h := b.holding(now.Add(10 * time.Second)); h != 50*time.Second {
		t.Fatalf("open: holding %v, want 50s", h)
	}
	later := now.Add(2 * time.Minute)
	if h := b.holding(later); h != 0 {
		t.Fatalf("cooled down: holding %v", h)
	}
	if ok, probe, _ := b.allow(later); !ok || !probe {
		t.Fatal("holding took the probe")
	}
	if h := b.holding(later); h == 0 {
		t.Fatal("probe out: nothing else may start")
	}
}
