package templates

import (
	"errors"
	"fmt"
	"text/template/parse"
	"time"
)

// The template budget. Output is bounded by each field's limit
// (limitWriter), but work that writes nothing is not: a range nested over
// an attacker-sized list ({{ range .Alerts }}{{ range $.Alerts }}…), a
// filter that only tests, a named template that calls itself twice. So
// compiling puts an empty text node at the head of every range body and
// every named template: each iteration and each call then writes to the
// execution's own writer, which counts them and watches the clock. Both
// bounds hold whatever the functions called; a linear template over 10k
// alerts stays far inside them (see TestTemplateBudget).
const (
	maxTicks      = 4 << 20         // loop iterations and named-template calls per field
	maxRenderTime = 5 * time.Second // wall clock: generous, as a loaded host is slow too
)

// ErrBudget stops a template that went over its budget.
var ErrBudget = errors.New("template budget exceeded")

// budget counts one execution's ticks.
type budget struct {
	ticks int
	start time.Time
	over  string // what ran out, once it did
}

// tick counts one iteration or call and reads the clock (tens of
// nanoseconds; one iteration may hold a costly call, so reading it only now
// and then could overshoot by minutes). A single function call is not
// interrupted: the time bound is overshot by at most one iteration.
func (b *budget) tick() error {
	b.ticks++
	switch {
	case b.over != "":
	case b.ticks > maxTicks:
		b.over = fmt.Sprintf("more than %d loop iterations and template calls", maxTicks)
	case b.start.IsZero():
		b.start = time.Now()
	case time.Since(b.start) > maxRenderTime:
		b.over = fmt.Sprintf("loops ran longer than %s", maxRenderTime)
	}
	if b.over != "" {
		return ErrBudget
	}
	return nil
}

// InsertTicks puts the counting node at the head of every range body
// under n (and of n itself when top, a named template's root).
func InsertTicks(n parse.Node, top bool) {
	switch x := n.(type) {
	case *parse.ListNode:
		if x == nil {
			return
		}
		for _, c := range x.Nodes {
			InsertTicks(c, false)
		}
		if top {
			x.Nodes = append([]parse.Node{tickNode(x.Pos)}, x.Nodes...)
		}
	case *parse.IfNode:
		InsertTicks(x.List, false)
		InsertTicks(x.ElseList, false)
	case *parse.WithNode:
		InsertTicks(x.List, false)
		InsertTicks(x.ElseList, false)
	case *parse.RangeNode:
		InsertTicks(x.List, true)
		InsertTicks(x.ElseList, false)
	}
}

// tickNode writes nothing; text/template still calls Write for it.
func tickNode(pos parse.Pos) *parse.TextNode {
	return &parse.TextNode{NodeType: parse.NodeText, Pos: pos, Text: []byte{}}
}
