package form

import (
	"errors"
	"reflect"
	"testing"
)

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"a@example.com, b@example.com": {"a@example.com", "b@example.com"},
		"fsck.com-rt://example.com/ticket/3,\n           fsck.com-rt://example.com/ticket/4": {"fsck.com-rt://example.com/ticket/3", "fsck.com-rt://example.com/ticket/4"},
		`"Doe, J" <j@x>, k@x`: {`"Doe`, `J" <j@x>`, "k@x"}, // like RT: a quote must close an item,
		"a,,b":                {"a", "", "b"},
		"a,":                  {"a"},
		"":                    nil,
		"  ":                  nil,
	} {
		if got := SplitList(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitCFValues(t *testing.T) {
	for in, want := range map[string][]string{
		"urgent,'a, b'":         {"urgent", "a, b"},
		`'it\'s','back\\slash'`: {"it's", `back\slash`},
		`"x, y" , z`:            {"x, y", "z"},
		"q{a, b},c":             {"a, b", "c"},
		"'unterminated, x":      {"'unterminated", "x"},
		"High":                  {"High"},
	} {
		if got := splitCFValues(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SplitCFValues(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJoinCFValuesRoundTrip(t *testing.T) {
	sets := [][]string{
		{"a", "b, c", " lead", "trail ", "'q", `"dq`, `back\slash`, "it's", "q{x}", "", "é"},
		{"single"},
	}
	for _, items := range sets {
		s, err := JoinCFValues(items)
		if err != nil {
			t.Fatal(err)
		}
		if got := splitCFValues(s); !reflect.DeepEqual(got, items) {
			t.Errorf("JoinCFValues(%q) = %q → %q", items, s, got)
		}
	}
	if _, err := JoinCFValues([]string{"a\nb"}); !errors.Is(err, ErrUnsafeValue) {
		t.Errorf("line end: %v", err)
	}
}

func TestJoinList(t *testing.T) {
	s, err := JoinList([]string{" a@example.com", "b@example.com "})
	if err != nil || s != "a@example.com, b@example.com" {
		t.Errorf("JoinList = %q, %v", s, err)
	}
	for _, bad := range [][]string{{"a,b"}, {"a\nQueue: x"}, {""}, {`"a"`}, {"x\x00"}} {
		if _, err := JoinList(bad); !errors.Is(err, ErrUnsafeValue) {
			t.Errorf("JoinList(%q) = %v", bad, err)
		}
	}
}
