package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestHTTPLimits(t *testing.T) {
	if got := (HTTPLimits{}).Resolved(); got != (HTTPLimits{MaxConnections: DefaultMaxConnections,
		MaxConnectionsPerClient: DefaultMaxConnectionsPerClient, MaxConcurrentBodies: DefaultMaxConcurrentBodies,
		BodyWait: DefaultBodyWait, ReplayDedupWindow: DefaultReplayDedupWindow}) {
		t.Errorf("defaults: %+v", got)
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte(`rt: {url: "https://rt.example.com/", auth: token, token: t}
http:
  limits:
    max_connections: 10
    max_connections_per_client: -1
    max_concurrent_bodies: 3
    body_wait: 500ms
    replay_dedup_window: 72h
`), 0o600)
	c, err := load(p, testEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	want := HTTPLimits{MaxConnections: 10, MaxConnectionsPerClient: 0, MaxConcurrentBodies: 3, BodyWait: 500 * time.Millisecond, ReplayDedupWindow: 72 * time.Hour}
	if got := c.HTTP.Limits.Resolved(); got != want {
		t.Errorf("resolved %+v, want %+v", got, want)
	}
}
