package benchtab

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMedianAndOrder(t *testing.T) {
	if m := Median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 1 2 = %v", m)
	}
	if m := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 4 1 3 2 = %v", m)
	}
	legs := []string{"a", "b", "c"}
	if got := strings.Join(Order(legs, 1), ""); got != "cba" {
		t.Errorf("round 1 order %q", got)
	}
	if got := strings.Join(Order(legs, 2), ""); got != "abc" {
		t.Errorf("round 2 order %q", got)
	}
}

// The ratio is of the medians over the rounds, and the per-round ratio
// column compares each round with its own ceiling.
func TestTableRatios(t *testing.T) {
	tb := New("ceil", []string{"ceil", "x"})
	for _, r := range [][2]int{{10, 9}, {20, 10}, {12, 12}} {
		tb.Add("ceil", Result{Items: r[0], Want: r[0], Elapsed: time.Second, Foreign: 0})
		tb.Add("x", Result{Items: r[1], Want: r[1], Elapsed: time.Second, Foreign: -1})
	}
	if got := tb.Ratio("x"); got != 10.0/12 {
		t.Errorf("ratio of medians = %v, want %v", got, 10.0/12)
	}
	lines := tb.Lines()
	if len(lines) != 3 {
		t.Fatalf("lines: %q", lines)
	}
	f := strings.Fields(lines[2]) // x 9.00 10.00 12.00 median vs_ceil r_ratio ...
	if f[4] != "10.00" || f[5] != "0.83" || f[6] != "0.90" {
		t.Errorf("row %q: want median 10.00, vs_ceil 0.83, per-round ratio median 0.90", lines[2])
	}
}

// The meter sees this process burn CPU and the machine busy meanwhile.
func TestMeterSeesCPU(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc")
	}
	m := Start(map[string][]int{"self": {os.Getpid()}})
	// Spin until the kernel's own account says 200ms of CPU were spent.
	for t0 := selfCPU(); selfCPU()-t0 < 200*time.Millisecond; {
	}
	u := m.Stop()
	if u.ProcCPU["self"] < 180*time.Millisecond {
		t.Errorf("self CPU %v after spending 200ms", u.ProcCPU["self"])
	}
	if u.Busy < u.ProcCPU["self"]/2 || u.BusyPct() <= 0 || u.BusyPct() > 100 {
		t.Errorf("machine busy %v of %v (%.0f%%)", u.Busy, u.Total, u.BusyPct())
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestLogProblems(t *testing.T) {
	p := t.TempDir() + "/daemon.log"
	os.WriteFile(p, []byte(`time=1 level=INFO msg="event done" event=1
time=2 level=WARN msg="step failed; will retry" event=1 class=ambiguous err="timeout"
time=3 level=ERROR msg=claim event=2
time=4 level=WARN msg="step failed; will retry" event=3 class=ambiguous
`), 0o600)
	if got, want := LogProblems(p), `2x "step failed; will retry (ambiguous)", 1x "claim"`; got != want {
		t.Errorf("LogProblems = %s, want %s", got, want)
	}
}
