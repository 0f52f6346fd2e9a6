package monitoring

import (
	"bytes"
	"regexp"
	"sort"
)

var (
	metricRe = regexp.MustCompile(`\brtbridge_[a-z0-9_]+`)
	alertRe  = regexp.MustCompile(`(?m)^\s*- alert: (\S+)`)
)

// MetricNames lists the rtbridge_* metric names an expression file (rules,
// dashboard) refers to, sorted and without repeats. Histogram series
// (_bucket, _count, _sum) are given as written.
func MetricNames(b []byte) []string {
	seen := map[string]bool{}
	for _, m := range metricRe.FindAll(b, -1) {
		seen[string(m)] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// AlertNames lists the alerts a rules file defines.
func AlertNames(b []byte) []string {
	var out []string
	for _, m := range alertRe.FindAllSubmatch(b, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

func containsLine(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
