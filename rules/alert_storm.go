package rules

import (
	"sync"
	"time"
)

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
