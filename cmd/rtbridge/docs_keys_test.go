package main

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rtbridge/rtbridge/bridge/config"
)

// keyPathRe is a config key path written inline: rt.idempotency_field,
// imap[].password, state.retention.interval.
var keyPathRe = regexp.MustCompile(`^(rt|state|log|http|webhooks|imap|mta|executor)(\[[0-9]*\])?(\.[a-z0-9_]+(\[[0-9]*\])?)+$`)

// TestDocsKeyPaths: every config key path the manual writes inline
// (`rt.idempotency_field`, `http.limits.replay_dedup_window`) is a key of
// the config file, as the loader's types declare them. architecture.md
// names Go code (executor.dispatch), not keys, and is left out.
func TestDocsKeyPaths(t *testing.T) {
	_, docs := manual(t)
	n := 0
	for _, d := range docs {
		if strings.HasSuffix(d.Path, "architecture.md") {
			continue
		}
		for _, s := range d.Spans {
			if !keyPathRe.MatchString(s.Text) || regexp.MustCompile(`\.(com|org|net|test)$`).MatchString(s.Text) {
				continue
			}
			n++
			if msg := keyPath(reflect.TypeOf(config.Config{}), strings.Split(s.Text, ".")); msg != "" {
				t.Errorf("%s: `%s`: %s", s.Where, s.Text, msg)
			}
		}
	}
	if n < 30 {
		t.Fatalf("found only %d key paths in the manual", n)
	}
}

var nodeType = reflect.TypeOf(yaml.Node{})

// keyPath reports why path is not a key below type t ("" when it is).
func keyPath(t reflect.Type, path []string) string {
	for len(path) > 0 {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t == nodeType || t.Kind() != reflect.Struct {
			return "" // compiled elsewhere (rules) or a value with its own syntax
		}
		name, _, _ := strings.Cut(path[0], "[")
		f, ok := yamlField(t, name)
		if !ok {
			return "no key " + name + " in " + t.Name()
		}
		t, path = f, path[1:]
	}
	return ""
}

// yamlField finds the field whose yaml tag is name, inline structs included.
func yamlField(t reflect.Type, name string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == name {
			return f.Type, true
		}
		if strings.Contains(opts, "inline") {
			if ft, ok := yamlField(f.Type, name); ok {
				return ft, true
			}
		}
	}
	return nil, false
}
