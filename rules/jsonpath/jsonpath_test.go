package jsonpath

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestWalkAndText(t *testing.T) {
	var doc any
	d := json.NewDecoder(strings.NewReader(`{"alert":{"labels":{"severity":"page"},"n":3,"ok":true,"v":null},
		"items":[{"id":"a"},{"id":"b"}],"key.with.dots":{"x":[1,2]}}`))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"alert.labels.severity": "page", "$.alert.n": "3", ".alert.ok": "true", "alert.v": "",
		"items[1].id": "b", `["key.with.dots"].x`: "[1,2]", "alert.labels": `{"severity":"page"}`,
	} {
		p, err := Parse(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		v, ok := Walk(doc, p)
		if !ok || Text(v) != want {
			t.Errorf("%s: %q (found %v), want %q", path, Text(v), ok, want)
		}
	}
	for _, path := range []string{"items[2].id", "alert.nope", "alert.n.x", "items.id"} {
		p, err := Parse(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if v, ok := Walk(doc, p); ok {
			t.Errorf("%s: found %v, want nothing", path, v)
		}
	}
	for _, bad := range []string{"", "a..b", "a[x]", "a[-1]", `a["b`, "a[1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}
