package lifecycle

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rtbridge/rtbridge/bridge/event"
)

// maxValue bounds each label value quoted in a comment, so a 100 KB label
// cannot flood the ticket.
const maxValue = 200

// describeChange lists, one alert per line, what fires anew, what still
// fires, what resolved and what is no longer reported. Label values are
// Go-quoted, so a value with newlines stays on its line and cannot pose as
// a field or a template.
func describeChange(as []event.Alert, prev, firing []string) string {
	byFP := map[string]event.Alert{}
	for _, a := range as {
		byFP[a.Fingerprint] = a
	}
	var newly, still, resolved, gone []string
	for _, fp := range firing {
		if slices.Contains(prev, fp) {
			still = append(still, line(byFP[fp]))
		} else {
			newly = append(newly, line(byFP[fp]))
		}
	}
	for _, a := range as {
		if a.Status == "resolved" {
			resolved = append(resolved, line(a))
		}
	}
	for _, fp := range prev {
		if _, ok := byFP[fp]; !ok {
			gone = append(gone, "- fingerprint "+fp)
		}
	}
	var b strings.Builder
	section := func(title string, lines []string) {
		if len(lines) > 0 {
			sort.Strings(lines)
			fmt.Fprintf(&b, "%s (%d):\n%s\n\n", title, len(lines), strings.Join(lines, "\n"))
		}
	}
	section("Firing", newly)
	section("Still firing", still)
	section("Resolved", resolved)
	section("No longer reported", gone)
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func line(a event.Alert) string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = quote(k) + "=" + strconv.Quote(clip(a.Labels[k]))
	}
	s := "- {" + strings.Join(parts, ", ") + "}"
	if sum := a.Annotations["summary"]; sum != "" {
		s += " " + strconv.Quote(clip(sum))
	}
	return s
}

// quote leaves plain label names bare and quotes anything else.
func quote(k string) string {
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return strconv.Quote(clip(k))
		}
	}
	return k
}

func clip(s string) string {
	if len(s) <= maxValue {
		return s
	}
	return strings.ToValidUTF8(s[:maxValue], "") + "…"
}

// StormCounter counts ticket creations per rule over the last minute. It is
// in memory on purpose: a restart forgets a storm, which at worst lets one
// more minute of tickets through.
type StormCounter struct {
	mu    sync.Mutex
	times map[string][]time.Time
}

// Recent returns how many creations rule recorded in the minute before now.
func (c *StormCounter) Recent(rule string, now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.prune(rule, now))
}

// Add records one creation for rule at now.
func (c *StormCounter) Add(rule string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.times == nil {
		c.times = map[string][]time.Time{}
	}
	c.times[rule] = append(c.prune(rule, now), now)
}

func (c *StormCounter) prune(rule string, now time.Time) []time.Time {
	ts := c.times[rule]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= time.Minute {
		i++
	}
	ts = ts[i:]
	if c.times != nil {
		c.times[rule] = ts
	}
	return ts
}
