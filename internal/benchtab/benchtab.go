// Package benchtab runs the legs of a side-by-side benchmark in interleaved
// rounds and prints one table: each leg's median throughput, its ratio to
// the ceiling leg measured in the same rounds, latency percentiles, and how
// busy the machine was meanwhile. On a small machine shared with other work
// a single pass is noise; medians of interleaved rounds, read as ratios of
// one run, are not.
package benchtab

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// Rounds is BENCH_ROUNDS (default 3): how many rounds of every leg to run.
func Rounds() int { return EnvInt("BENCH_ROUNDS", 3) }

// EnvInt reads a positive integer setting from the environment or the
// servers' env file, or returns def.
func EnvInt(key string, def int) int {
	if s, ok := testenv.Lookup(key); ok {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return def
}

// Order is the legs in the order round r runs them: odd rounds reverse
// it, so that no leg always runs first (on a cold RT) or last (on the
// largest database).
func Order(legs []string, r int) []string {
	out := slices.Clone(legs)
	if r%2 == 1 {
		slices.Reverse(out)
	}
	return out
}

// Result is one leg's run in one round.
type Result struct {
	Items   int             // tickets made (counted in RT)
	Want    int             // tickets expected
	Dups    int             // tickets beyond one per item
	Elapsed time.Duration   // first submission → last ticket
	Lat     []time.Duration // per item: submission → ticket (optional)
	Usage   Usage           // the machine while the leg ran
	Foreign int             // tickets others made in the same RT meanwhile (-1: not known)
}

// Rate is tickets per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Items) / r.Elapsed.Seconds()
}

// Table collects the results of every round, by leg.
type Table struct {
	ceiling string
	legs    []string
	res     map[string][]Result
}

// New returns a table for legs; ceiling names the leg the others are
// compared with.
func New(ceiling string, legs []string) *Table {
	return &Table{ceiling: ceiling, legs: legs, res: map[string][]Result{}}
}

// Add records leg's result of the next round.
func (t *Table) Add(leg string, r Result) { t.res[leg] = append(t.res[leg], r) }

// MedianRate is the median of leg's rates over the rounds.
func (t *Table) MedianRate(leg string) float64 {
	var rates []float64
	for _, r := range t.res[leg] {
		rates = append(rates, r.Rate())
	}
	return Median(rates)
}

// Ratio is leg's median rate over the ceiling's.
func (t *Table) Ratio(leg string) float64 {
	c := t.MedianRate(t.ceiling)
	if c == 0 {
		return 0
	}
	return t.MedianRate(leg) / c
}

// Lines renders the table: per leg the rates of each round, their median,
// the ratio of medians to the ceiling, the median of the per-round ratios
// (each against the same round's ceiling), latency p50/p99 over all
// rounds, tickets found/expected and duplicates, the machine's busy share
// and the CPU the watched processes spent per ticket.
func (t *Table) Lines() []string {
	var procs []string
	for _, r := range t.res[t.ceiling] {
		for name := range r.Usage.ProcCPU {
			if !slices.Contains(procs, name) {
				procs = append(procs, name)
			}
		}
	}
	for _, leg := range t.legs {
		for _, r := range t.res[leg] {
			for name := range r.Usage.ProcCPU {
				if !slices.Contains(procs, name) {
					procs = append(procs, name)
				}
			}
		}
	}
	head := fmt.Sprintf("%-10s %-22s %8s %7s %8s %13s %9s %5s %6s %7s", "leg", "tickets/s per round", "median", "vs_ceil",
		"r_ratio", "p50/p99", "tickets", "dups", "busy%", "foreign")
	for _, p := range procs {
		head += fmt.Sprintf(" %12s", p+"_ms/t")
	}
	out := []string{head}
	for _, leg := range t.legs {
		rs := t.res[leg]
		var per, ratios []string
		var lat []time.Duration
		items, want, dups, foreign := 0, 0, 0, 0
		var busy []float64
		cpu := map[string]float64{}
		for i, r := range rs {
			per = append(per, fmt.Sprintf("%.2f", r.Rate()))
			if cs := t.res[t.ceiling]; i < len(cs) && cs[i].Rate() > 0 {
				ratios = append(ratios, fmt.Sprintf("%.2f", r.Rate()/cs[i].Rate()))
			}
			lat = append(lat, r.Lat...)
			items, want, dups = items+r.Items, want+r.Want, dups+r.Dups
			busy = append(busy, r.Usage.BusyPct())
			if foreign >= 0 && r.Foreign >= 0 {
				foreign += r.Foreign
			} else {
				foreign = -1
			}
			for name, d := range r.Usage.ProcCPU {
				if r.Items > 0 {
					cpu[name] += float64(d.Milliseconds()) / float64(r.Items) / float64(len(rs))
				}
			}
		}
		fs := "-"
		if foreign >= 0 {
			fs = strconv.Itoa(foreign)
		}
		line := fmt.Sprintf("%-10s %-22s %8.2f %7.2f %8s %13s %4d/%-4d %5d %6.0f %7s", leg, strings.Join(per, " "), t.MedianRate(leg), t.Ratio(leg),
			medianOf(ratios), Percentiles(lat), items, want, dups, Median(busy), fs)
		for _, p := range procs {
			if v, ok := cpu[p]; ok {
				line += fmt.Sprintf(" %12.0f", v)
			} else {
				line += fmt.Sprintf(" %12s", "-")
			}
		}
		out = append(out, line)
	}
	return out
}

// Print writes the title and the table to standard output: it is the
// benchmark's report, and the testing package cuts a benchmark's log to
// ten lines unless -v.
func (t *Table) Print(title string) {
	fmt.Println(title)
	for _, l := range t.Lines() {
		fmt.Println(l)
	}
}

// medianOf is the median of per-round ratios already formatted, or "-".
func medianOf(s []string) string {
	var v []float64
	for _, x := range s {
		f, _ := strconv.ParseFloat(x, 64)
		v = append(v, f)
	}
	if len(v) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", Median(v))
}

// Median of v (0 when empty).
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Percentiles renders p50/p99 of d, or "-" when empty.
func Percentiles(d []time.Duration) string {
	if len(d) == 0 {
		return "-"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	p := func(q float64) time.Duration {
		return s[min(len(s)-1, int(q*float64(len(s))))].Round(10 * time.Millisecond)
	}
	return fmt.Sprintf("%v/%v", p(0.5), p(0.99))
}
