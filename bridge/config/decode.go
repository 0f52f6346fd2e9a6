package config

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"gopkg.in/yaml.v3"
)

// decoder fills a Config from a yaml.Node tree by walking the struct fields
// itself, because yaml.v3's KnownFields reports only a line and stops at the
// first problem; walking gives FILE:LINE:COL for every problem at once.
type decoder struct {
	file   string
	lookup func(string) (string, bool) // environment for ${NAME}
	errs   []error
	pos    map[string]*yaml.Node // key path ("webhooks[0].auth") -> its value node
	root   *yaml.Node
	// skipSecrets leaves secrets (and *_file paths) unread and unchecked.
	skipSecrets bool
}

// scalarForm is implemented by structs that also accept a bare scalar
// (`auth: none`); it returns a problem or "".
type scalarForm interface{ fromScalar(string) string }

var (
	nodeType     = reflect.TypeOf(yaml.Node{})
	durationType = reflect.TypeOf(time.Duration(0))
	secretType   = reflect.TypeOf(Secret(""))
)

// oneOf reports v at path unless it is one of allowed, as
// "must be a, b or c; got v".
func (d *decoder) oneOf(path, v string, allowed ...string) {
	if slices.Contains(allowed, v) {
		return
	}
	list := allowed[len(allowed)-1]
	if n := len(allowed) - 1; n > 0 {
		list = strings.Join(allowed[:n], ", ") + " or " + list
	}
	d.errorf(d.at(path), path, "must be %s; got %q", list, v)
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// at returns the node recorded for path, or the nearest recorded parent
// (a missing key is reported where its section is).
func (d *decoder) at(path string) *yaml.Node {
	for p := path; p != ""; {
		if n, ok := d.pos[p]; ok {
			return n
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return d.root
}

func (d *decoder) walk(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if path != "" {
		d.pos[path] = n
	}
	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(*n))
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty key keeps its zero value (and later its default)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.walk(n, v.Elem(), path)
	case reflect.Struct:
		d.walkStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.walk(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "expected a mapping, got %s", describe(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			ev := reflect.New(v.Type().Elem()).Elem()
			d.walk(val, ev, path+"."+k.Value)
			m.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), ev)
		}
		v.Set(m)
	default:
		d.scalar(n, v, path)
	}
}

func (d *decoder) walkStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode {
		if sf, ok := v.Addr().Interface().(scalarForm); ok {
			if msg := sf.fromScalar(n.Value); msg != "" {
				d.errorf(n, path, "%s", msg)
			}
			return
		}
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	fields := map[string]int{}
	var known []string
	for i := 0; i < v.NumField(); i++ {
		tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		known = append(known, tag)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		idx, ok := fields[k.Value]
		switch {
		case !ok:
			where := "at the top level"
			if path != "" {
				where = "in " + path
			}
			d.errorf(k, kp, "unknown key %q %s (known: %s)", k.Value, where, strings.Join(known, ", "))
			continue
		case seen[k.Value]:
			d.errorf(k, kp, "key %q given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		d.walk(val, v.Field(idx), kp)
	}
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected a single value, got %s", describe(n))
		return
	}
	s, err := d.expand(n.Value)
	if err != nil {
		if d.skipSecrets && (v.Type() == secretType || strings.HasSuffix(path, "_file")) {
			return
		}
		d.errorf(n, path, "%v", err)
		return
	}
	switch {
	case v.Type() == durationType:
		dur, err := parseDuration(s)
		if err != nil || dur < 0 {
			d.errorf(n, path, "invalid duration (use e.g. 500ms, 30s, 5m, 2h, 7d, 1w)")
			return
		}
		v.SetInt(int64(dur))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		switch s {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.errorf(n, path, "expected true or false")
		}
	case v.CanInt():
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(i) {
			d.errorf(n, path, "expected a whole number")
			return
		}
		v.SetInt(i)
	default:
		d.errorf(n, path, "cannot decode into %s", v.Type())
	}
}

// expand replaces ${NAME} with the environment variable NAME; $${ gives a
// literal ${. Any other $ is kept, so passwords with $ need no escaping.
func (d *decoder) expand(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i])
			b.WriteString("{")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ (write $${ for a literal ${)")
		}
		name := s[i+2 : i+end]
		val, ok := d.lookup(name)
		if !ok {
			if name == "CREDENTIALS_DIRECTORY" {
				return "", fmt.Errorf("environment variable CREDENTIALS_DIRECTORY is not set (it is set by systemd for units with LoadCredential=)")
			}
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		b.WriteString(val)
		s = s[i+end+1:]
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		// Never the value itself: it may be a secret written in the wrong
		// place (auth: { bearer: 'token' }), and errors reach logs.
		return "a single value"
	}
	return "nothing"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func osLookup(name string) (string, bool) { return os.LookupEnv(name) }

// parseDuration takes Go's durations (500ms, 1.5s, 2h45m) and Prometheus'
// (7d, 1w, 1y, 1d12h), as operators write them in Alertmanager configs.
func parseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}
