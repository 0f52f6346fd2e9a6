package templates

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/textproto"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/rtbridge/rtbridge/rules/jsonpath"
)

// regexCache compiles the patterns of regexReplace/regexMatch once per
// rule set (patterns are nearly always constants in the template).
type regexCache struct {
	m sync.Map // string → *regexp.Regexp
}

func (c *regexCache) get(expr string) (*regexp.Regexp, error) {
	if re, ok := c.m.Load(expr); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	c.m.Store(expr, re)
	return re, nil
}

// dateLayouts are the names `date` accepts besides a Go layout.
var dateLayouts = map[string]string{
	"rfc3339":  time.RFC3339,
	"rfc1123z": time.RFC1123Z,
	"rfc822z":  time.RFC822Z,
	"rt":       "2006-01-02 15:04:05", // RT's own format (UTC)
	"date":     "2006-01-02",
	"datetime": "2006-01-02 15:04",
}

// funcMap is the documented template function set (see docs/rules.md).
func funcMap(rc *regexCache) template.FuncMap {
	return template.FuncMap{
		"lower":      strings.ToLower,
		"upper":      strings.ToUpper,
		"trim":       strings.TrimSpace,
		"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"contains":   func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix":  func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"hasSuffix":  func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
		"truncate":   func(n int, s string) string { return TruncateRunes(s, n) },
		"oneLine":    func(s string) string { return FoldLine(s) },
		"indent": func(n int, s string) string {
			pad := strings.Repeat(" ", max(n, 0))
			return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
		"default": func(def any, v any) any {
			if isEmpty(v) {
				return def
			}
			return v
		},
		"join":  func(sep string, list any) (string, error) { return join(sep, list) },
		"split": func(sep, s string) []string { return strings.Split(s, sep) },
		"first": func(list []string) string {
			if len(list) == 0 {
				return ""
			}
			return list[0]
		},
		"regexReplace": func(expr, repl, s string) (string, error) {
			re, err := rc.get(expr)
			if err != nil {
				return "", err
			}
			return re.ReplaceAllString(s, repl), nil
		},
		"regexMatch": func(expr, s string) (bool, error) {
			re, err := rc.get(expr)
			if err != nil {
				return false, err
			}
			return re.MatchString(s), nil
		},
		"get": get,
		"header": func(h map[string][]string, name string) string {
			if vs := h[textproto.CanonicalMIMEHeaderKey(name)]; len(vs) > 0 {
				return vs[0]
			}
			return ""
		},
		"keys": func(m map[string]string) []string { return SortedKeys(m) },
		"pairs": func(m map[string]string) string {
			ks := SortedKeys(m)
			for i, k := range ks {
				ks[i] = k + "=" + m[k]
			}
			return strings.Join(ks, ", ")
		},
		"date": func(layout string, t time.Time) string {
			if l, ok := dateLayouts[layout]; ok {
				layout = l
			}
			return t.Format(layout)
		},
		"utc": func(t time.Time) time.Time { return t.UTC() },
		"duration": func(from, to time.Time) string {
			if from.IsZero() || to.IsZero() {
				return ""
			}
			return to.Sub(from).Round(time.Second).String()
		},
		"toJSON": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"jsonPath": func(path string, x any) (string, error) {
			p, err := jsonpath.Parse(path)
			if err != nil {
				return "", err
			}
			v, ok := jsonpath.Walk(x, p)
			if !ok {
				return "", nil
			}
			return jsonpath.Text(v), nil
		},
	}
}

// get returns m[key] for any map with string keys, or "" when missing: the
// way to read an optional label, since .Labels.x fails on a missing key.
func get(m any, key string) (any, error) {
	v := reflect.ValueOf(m)
	if !v.IsValid() {
		return "", nil
	}
	if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
		return nil, fmt.Errorf("get: %T is not a map with string keys", m)
	}
	x := v.MapIndex(reflect.ValueOf(key).Convert(v.Type().Key()))
	if !x.IsValid() {
		return "", nil
	}
	return x.Interface(), nil
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return r.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return r.IsNil()
	}
	return r.IsZero()
}

func join(sep string, list any) (string, error) {
	switch l := list.(type) {
	case []string:
		return strings.Join(l, sep), nil
	case nil:
		return "", nil
	}
	r := reflect.ValueOf(list)
	if r.Kind() != reflect.Slice && r.Kind() != reflect.Array {
		return "", fmt.Errorf("join: %T is not a list", list)
	}
	parts := make([]string, r.Len())
	for i := range parts {
		parts[i] = fmt.Sprint(r.Index(i).Interface())
	}
	return strings.Join(parts, sep), nil
}

func SortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// TruncateBytes cuts s on a UTF-8 boundary to at most n bytes, "…" (3
// bytes) included, when it is longer: RT's columns (Tickets.Subject is 200)
// count bytes, and RT would cut a longer value itself, dropping the marker.
func TruncateBytes(s string, n int) string {
	const mark = "…"
	if len(s) <= n {
		return s
	}
	if n < len(mark) {
		return ""
	}
	i := n - len(mark)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + mark
}

// TruncateRunes cuts s to at most n runes, ending with "…" when cut.
func TruncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return s[:i] + "…"
}
