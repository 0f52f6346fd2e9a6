package rules

import (
	"fmt"
	"testing"
)

// canon keeps each field's folded values apart, in the short list and past
// it in the map, and recomputes a field whose value count changed.
func TestViewCanonCache(t *testing.T) {
	v := &view{ev: mailEvent()}
	const fields = maxFoldList + 5
	conds := make([]*fieldCond, fields)
	for round := range 2 {
		for i := range fields {
			if round == 0 {
				conds[i] = &fieldCond{name: "header", arg: fmt.Sprintf("X-H%d", i)}
			}
			vals := []string{fmt.Sprintf("Value ÄÖ %d", i), fmt.Sprintf("OTHER %d", i)}
			for j := range vals {
				if got, want := v.canon(conds[i], vals, j), canonFold(vals[j]); got != want {
					t.Fatalf("round %d field %d value %d: %q, want %q", round, i, j, got, want)
				}
			}
		}
	}
	for _, i := range []int{0, fields - 1} { // one in the list, one in the map
		vals := []string{"one", "Two", "THREE"}
		if got, want := v.canon(conds[i], vals, 2), canonFold("THREE"); got != want {
			t.Errorf("field %d after its value count changed: %q, want %q", i, got, want)
		}
	}
	if len(v.folded) != maxFoldList || len(v.foldMap) != fields-maxFoldList {
		t.Errorf("list %d, map %d entries; want %d and %d", len(v.folded), len(v.foldMap), maxFoldList, fields-maxFoldList)
	}
}
