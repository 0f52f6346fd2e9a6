package rules

import (
	"errors"
	"fmt"

	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules/templates"
)

// ErrNoMatch is Evaluate's error for an event that no rule matched when
// the config says `no_match: { action: dead-letter }`: the executor then
// dead-letters the event (kept, listed by `rtbridge deadletter`, retried
// after the rules are fixed) instead of dropping it.
var ErrNoMatch = errors.New("rules: no rule matched")

// defaultNoMatchReason is the ignore reason when neither a catch-all rule
// nor no_match: gives one.
const defaultNoMatchReason = "no rule matched"

// noMatch is the compiled top-level `no_match:` setting: what happens to
// an event no rule matches. nil means the implicit default (ignore with
// reason "no rule matched").
type noMatch struct {
	deadLetter bool
	reason     *templates.Template // nil: defaultNoMatchReason
}

const noMatchKeys = "action, reason"

// compileNoMatch compiles src.NoMatch and warns when unmatched events
// would be dropped without the config saying so, or when no_match: can
// never apply because a catch-all rule precedes it.
func (c *compiler) compileNoMatch(src Source, rules []*rule) *noMatch {
	c.ps.rule = ""
	var catchAll *rule
	for _, r := range rules {
		if r.when == nil && !r.cont {
			catchAll = r
			break
		}
	}
	if isNull(src.NoMatch) {
		if catchAll == nil && len(rules) > 0 {
			c.ps.warnf(resolve(src.Rules), "no catch-all rule (a rule without when:) and no no_match: setting: events no rule matches are ignored with reason %q", defaultNoMatchReason)
		}
		return nil
	}
	pairs, ok := c.ps.mapping(src.NoMatch, "no_match")
	if !ok {
		return nil
	}
	nm := &noMatch{}
	action := false
	for _, p := range pairs {
		switch p.key {
		case "action":
			action = true
			s, ok := c.ps.scalar(p.v, "no_match.action")
			if !ok {
				continue
			}
			switch s {
			case "ignore":
			case "dead-letter":
				nm.deadLetter = true
			default:
				c.ps.errorf(p.v, "no_match.action: unknown action %q (ignore, dead-letter)", s)
			}
		case "reason":
			if nm.reason = c.compileTmpl(p.v, "no_match.reason"); nm.reason != nil {
				nm.reason.Pos = "no_match reason"
				if nm.reason.Src == "" {
					c.ps.errorf(p.v, "no_match.reason must not be empty: it is what the log says")
				}
			}
		default:
			c.ps.errorf(p.kn, "no_match: unknown key %q (keys: %s)", p.key, noMatchKeys)
		}
	}
	if !action {
		c.ps.errorf(src.NoMatch, "no_match: action is required (ignore, dead-letter)")
	}
	if catchAll != nil {
		c.ps.warnf(src.NoMatch, "no_match never applies: rule %q matches every event and does not continue", catchAll.name)
	}
	return nm
}

// apply returns what happens to an event no rule matched (d is its
// template data): an Ignore with the configured reason, or, for
// dead-letter, an error wrapping ErrNoMatch.
func (nm *noMatch) apply(d *Data) (*plan.Ignore, error) {
	reason := defaultNoMatchReason
	if nm != nil && nm.reason != nil {
		r := &renderer{d: d}
		reason = r.line(nm.reason, templates.MaxLine)
		if r.err != nil {
			return nil, r.err
		}
	}
	if nm != nil && nm.deadLetter {
		if nm.reason == nil {
			return nil, fmt.Errorf("%w (no_match: dead-letter)", ErrNoMatch)
		}
		return nil, fmt.Errorf("%w: %s", ErrNoMatch, reason)
	}
	return &plan.Ignore{Reason: reason}, nil
}
