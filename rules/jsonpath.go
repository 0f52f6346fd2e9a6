package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// pathElem is one step of a JSON path: a key, or an index when isIndex.
type pathElem struct {
	key     string
	index   int
	isIndex bool
}

// parseJSONPath parses a dotted path: `alert.labels.severity`,
// `items[0].id`, `["key.with.dots"].x`. A leading `$.` or `.` is allowed.
func parseJSONPath(s string) ([]pathElem, error) {
	orig := s
	s = strings.TrimPrefix(s, "$")
	var out []pathElem
	for len(s) > 0 {
		switch s[0] {
		case '.':
			s = s[1:]
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			if end == 0 {
				return nil, fmt.Errorf("json path %q: empty key", orig)
			}
			out = append(out, pathElem{key: s[:end]})
			s = s[end:]
		case '[':
			end := strings.IndexByte(s, ']')
			if len(s) > 1 && s[1] == '"' {
				q := strings.Index(s[2:], `"]`)
				if q < 0 {
					return nil, fmt.Errorf("json path %q: unterminated [\"key\"]", orig)
				}
				k, err := strconv.Unquote(s[1 : q+3])
				if err != nil {
					return nil, fmt.Errorf("json path %q: %w", orig, err)
				}
				out = append(out, pathElem{key: k})
				s = s[q+4:]
				continue
			}
			if end < 0 {
				return nil, fmt.Errorf("json path %q: missing ]", orig)
			}
			n, err := strconv.Atoi(s[1:end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("json path %q: bad index %q", orig, s[1:end])
			}
			out = append(out, pathElem{index: n, isIndex: true})
			s = s[end+1:]
		default:
			if len(out) > 0 {
				return nil, fmt.Errorf("json path %q: want . or [ before %q", orig, s)
			}
			s = "." + s
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("json path %q: empty", orig)
	}
	return out, nil
}

func walkJSON(x any, path []pathElem) (any, bool) {
	for _, p := range path {
		if p.isIndex {
			a, ok := x.([]any)
			if !ok || p.index >= len(a) {
				return nil, false
			}
			x = a[p.index]
			continue
		}
		m, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		if x, ok = m[p.key]; !ok {
			return nil, false
		}
	}
	return x, true
}
