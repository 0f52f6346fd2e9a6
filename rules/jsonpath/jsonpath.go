// Package jsonpath reads a value out of decoded JSON by a dotted path, for
// the json: conditions of rules and the jsonPath template function.
package jsonpath

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Elem is one step of a JSON path: a key, or an index when isIndex.
type Elem struct {
	key     string
	index   int
	isIndex bool
}

// Parse parses a dotted path: `alert.labels.severity`,
// `items[0].id`, `["key.with.dots"].x`. A leading `$.` or `.` is allowed.
func Parse(s string) ([]Elem, error) {
	orig := s
	s = strings.TrimPrefix(s, "$")
	var out []Elem
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
			out = append(out, Elem{key: s[:end]})
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
				out = append(out, Elem{key: k})
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
			out = append(out, Elem{index: n, isIndex: true})
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

// Walk follows path into x (decoded with UseNumber); false: not there.
func Walk(x any, path []Elem) (any, bool) {
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

// Text renders a JSON value for matching and templates: strings as
// they are, numbers and booleans as JSON writes them, null as "",
// objects and arrays as compact JSON.
func Text(x any) string {
	switch t := x.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number:
		return t.String()
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return ""
		}
		return string(b)
	}
}
