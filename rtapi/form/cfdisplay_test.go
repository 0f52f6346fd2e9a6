package form

import (
	"reflect"
	"testing"
)

func TestSplitCFDisplay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		// RT quotes values with commas and escapes \ and ' inside.
		{`alpha,'b, c',it's`, []string{"alpha", "b, c", "it's"}},
		{`'x\'y, z\\'`, []string{`x'y, z\`}},
		// A line end is part of a value, never a separator.
		{"line one\nline two", []string{"line one\nline two"}},
		{"'a\nb, c',d\ne", []string{"a\nb, c", "d\ne"}},
	} {
		if got := SplitCFDisplay(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitCFDisplay(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
