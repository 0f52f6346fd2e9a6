package config

import (
	"os"
	"path/filepath"
	"testing"
)

// A YAML syntax error names the line and the column of the offending
// character, once.
func TestSyntaxErrorPosition(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		"imap:\n  - name: a\n    disposition: move: Done\n": "c.yaml:3:22: mapping values are not allowed in this context",
		"rt:\n  url: 'http://x/\n":                          "c.yaml:2:8: found unexpected end of stream",
		"rt:\n\turl: x\n":                                   "c.yaml:2:1: found character that cannot start any token",
		"rules: [ {name: a}\n":                              "c.yaml:1:18: did not find expected ',' or ']'",
	} {
		path := filepath.Join(dir, "c.yaml")
		os.WriteFile(path, []byte(body), 0o600)
		_, err := load(path, testEnv, false)
		if err == nil || err.Error() != filepath.Join(dir, want) {
			t.Errorf("%q: got %v, want %s", body, err, want)
		}
	}
}
