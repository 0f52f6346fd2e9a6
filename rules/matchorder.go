package rules

import "slices"

// conjunction builds the condition "every c of list holds". Nested
// conjunctions are flattened, and the conditions are stably ordered by
// cost: plain field tests (kind, source, equals, present, …) first, then
// JSON paths, then anything running a regex. Matching is pure and `all` is
// a conjunction, so the order cannot change the outcome; a failing cheap
// test just spares the regexes. Captures stay identical because only
// regex-bearing conditions produce them and they keep their relative
// order (the last capture of a name still wins).
func conjunction(list []cond) cond {
	var flat allCond
	for _, c := range list {
		if a, ok := c.(allCond); ok {
			flat = append(flat, a...)
			continue
		}
		flat = append(flat, c)
	}
	if len(flat) == 1 {
		return flat[0]
	}
	slices.SortStableFunc(flat, func(a, b cond) int { return condCost(a) - condCost(b) })
	return flat
}

// Cost tiers of a condition.
const (
	costPlain = iota // a field read and string compares
	costJSON         // a JSON path walk, maybe a re-encoding
	costRegex        // at least one regex (or a group holding one)
)

func condCost(c cond) int {
	switch c := c.(type) {
	case *fieldCond:
		for _, t := range c.tests {
			if t.re != nil {
				return costRegex
			}
		}
		if c.name == "json" {
			return costJSON
		}
		return costPlain
	case allCond:
		return maxCost(c)
	case anyCond:
		return maxCost(c)
	case notCond:
		return condCost(c.c)
	}
	return costRegex // unknown: keep it with the regexes, in place
}

func maxCost(list []cond) int {
	m := costPlain
	for _, c := range list {
		m = max(m, condCost(c))
	}
	return m
}
