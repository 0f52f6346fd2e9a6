package rules

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rtbridge/rtbridge/event"
)

// maxAlertValue bounds each label value quoted in a comment, so a 100 KB label
// cannot flood the ticket.
const maxAlertValue = 200

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
			still = append(still, alertLine(byFP[fp]))
		} else {
			newly = append(newly, alertLine(byFP[fp]))
		}
	}
	for _, a := range as {
		if a.Status == "resolved" {
			resolved = append(resolved, alertLine(a))
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

func alertLine(a event.Alert) string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = quoteLabel(k) + "=" + strconv.Quote(clipValue(a.Labels[k]))
	}
	s := "- {" + strings.Join(parts, ", ") + "}"
	if sum := a.Annotations["summary"]; sum != "" {
		s += " " + strconv.Quote(clipValue(sum))
	}
	return s
}

// quote leaves plain label names bare and quotes anything else.
func quoteLabel(k string) string {
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return strconv.Quote(clipValue(k))
		}
	}
	return k
}

func clipValue(s string) string {
	if len(s) <= maxAlertValue {
		return s
	}
	return strings.ToValidUTF8(s[:maxAlertValue], "") + "…"
}

// stormCounter counts ticket creations per rule over the last minute.
//
// It lives in memory, in the compiled RuleSet, on purpose: persisting it
// would need one ledger entry every event of the rule writes, i.e. every
// notification of the rule serialised on one key and one more store write
// per create. A restart or reload forgets at most one minute of counts, so
// at worst storm_limit more tickets get through before the cap applies
// again. Workers planning at the same time may each pass the limit by one.
type stormCounter struct {
	mu    sync.Mutex
	times map[string][]time.Time
}

// take reports whether rule may create one more ticket at now (fewer than
// limit in the last minute) and, if so, counts it.
func (c *stormCounter) take(rule string, limit int, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.times == nil {
		c.times = map[string][]time.Time{}
	}
	ts := c.times[rule]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= time.Minute {
		i++
	}
	ts = ts[i:]
	if len(ts) >= limit {
		c.times[rule] = ts
		return false
	}
	c.times[rule] = append(ts, now)
	return true
}
