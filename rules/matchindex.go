package rules

import "github.com/rtbridge/rtbridge/event"

// ruleIndex finds, in O(1), the rules that can match an event's kind and
// its source: a rule whose when: requires `kind: X` (or one of a list of
// values) is listed only under X, one without such a test under every
// kind; the same for source. Each list keeps the rule order, so walking a
// list instead of every rule changes nothing but the work done.
type ruleIndex struct {
	byKind    map[string][]*rule
	anyKind   []*rule // rules without a kind requirement
	bySource  map[string][]*rule
	anySource []*rule
}

// buildIndex indexes rules (in order) by their kind and source
// requirements.
func buildIndex(rules []*rule) *ruleIndex {
	ix := &ruleIndex{byKind: map[string][]*rule{}, bySource: map[string][]*rule{}}
	kinds := make([][]string, len(rules))
	sources := make([][]string, len(rules))
	for i, r := range rules {
		kinds[i], sources[i] = required(r.when, "kind"), required(r.when, "source")
		for _, k := range kinds[i] {
			ix.byKind[k] = nil
		}
		for _, s := range sources[i] {
			ix.bySource[s] = nil
		}
	}
	fill := func(m map[string][]*rule, req [][]string) []*rule {
		var unconstrained []*rule
		for i, r := range rules {
			if req[i] == nil {
				unconstrained = append(unconstrained, r)
				for v := range m {
					m[v] = append(m[v], r)
				}
				continue
			}
			for _, v := range dedupe(req[i]) {
				m[v] = append(m[v], r)
			}
		}
		return unconstrained
	}
	ix.anyKind = fill(ix.byKind, kinds)
	ix.anySource = fill(ix.bySource, sources)
	return ix
}

// candidates returns, in rule order, a superset of the rules that can
// match ev.
func (rs *RuleSet) candidates(ev *event.Event) []*rule {
	if rs.index == nil {
		return rs.rules
	}
	return rs.index.candidates(ev)
}

// candidates returns the shorter of ev's kind's and its source's lists.
func (ix *ruleIndex) candidates(ev *event.Event) []*rule {
	byKind, ok := ix.byKind[string(ev.Kind)]
	if !ok {
		byKind = ix.anyKind
	}
	bySource, ok := ix.bySource[ev.Source]
	if !ok {
		bySource = ix.anySource
	}
	if len(bySource) < len(byKind) {
		return bySource
	}
	return byKind
}

// required returns the values field (kind or source, compared exactly)
// must equal for c to hold, or nil when c does not require one: c is that
// field's test, or a conjunction holding one, whose tests are equalities.
func required(c cond, field string) []string {
	switch c := c.(type) {
	case *fieldCond:
		if c.name != field || c.fold || c.label {
			return nil
		}
		var vals []string
		for _, t := range c.tests {
			switch {
			case t.op == opEq && !c.anyOf:
				return []string{t.s} // every test must hold, this one too
			case t.op == opEq:
				vals = append(vals, t.s)
			case c.anyOf:
				return nil // another test could pass for any value
			}
		}
		return vals
	case allCond:
		for _, sub := range c {
			if vals := required(sub, field); vals != nil {
				return vals
			}
		}
	}
	return nil
}

func dedupe(list []string) []string {
	out := list[:0:0]
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
