package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRetention(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte(`rt: {url: "https://rt.example.com/", auth: token, token: t}
state:
  retention:
    done: 2w
    dead: 0
    ignored: 36h
`), 0o600)
	c, err := load(p, testEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	got := c.State.Retention.ByState()
	want := map[string]time.Duration{"done": 14 * 24 * time.Hour, "dead": 0, "ignored": 36 * time.Hour,
		"duplicate": DefaultRetainDuplicate, "dropped": DefaultRetainDropped}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if c.State.Retention.Interval != DefaultPruneInterval {
		t.Errorf("interval %s", c.State.Retention.Interval)
	}

	os.WriteFile(p, []byte(`rt: {url: "https://rt.example.com/", auth: token, token: t}
state:
  retention:
    done: soon
`), 0o600)
	_, err = load(p, testEnv, false)
	if err == nil || !strings.Contains(err.Error(), "c.yaml:4:11") || !strings.Contains(err.Error(), "7d") {
		t.Fatalf("bad duration: %v", err)
	}
}
