// Package amtest runs a private Prometheus Alertmanager (the Debian
// package that test/servers/alertmanager installs) for one integration
// test: its own port, config, storage and webhook receiver, stopped when
// the test ends. Several instances with the same receiver and clustering
// disabled behave like an HA pair whose gossip failed: each delivers every
// notification.
package amtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// Config is what the instance's single route and webhook receiver say.
type Config struct {
	ReceiverURL    string
	TokenFile      string   // sent as "Authorization: Bearer <file content>"; "" sends none
	GroupBy        []string // default [alertname]
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration // default 1h (no repeats during a test)
}

// Instance is one running Alertmanager.
type Instance struct {
	URL string
	Dir string
	cmd *exec.Cmd
}

// Alert is what the API (/api/v2/alerts) takes: an alert with an EndsAt in
// the past is resolved.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func dur(d, def time.Duration) string {
	if d <= 0 {
		d = def
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// Start runs an instance. It skips (plain go test) or fails (integration
// mode) when ALERTMANAGER_BIN is not known, like every server test.
func Start(t testing.TB, c Config) *Instance {
	t.Helper()
	bin := testenv.Require(t, "ALERTMANAGER_BIN")["ALERTMANAGER_BIN"]
	dir := t.TempDir()
	groupBy := c.GroupBy
	if len(groupBy) == 0 {
		groupBy = []string{"alertname"}
	}
	gb, _ := json.Marshal(groupBy)
	auth := ""
	if c.TokenFile != "" {
		auth = fmt.Sprintf("\n        http_config:\n          authorization:\n            type: Bearer\n            credentials_file: %q", c.TokenFile)
	}
	cfg := fmt.Sprintf(`route:
  receiver: bridge
  group_by: %s
  group_wait: %s
  group_interval: %s
  repeat_interval: %s
receivers:
  - name: bridge
    webhook_configs:
      - url: %q
        send_resolved: true%s
`, gb, dur(c.GroupWait, 200*time.Millisecond), dur(c.GroupInterval, time.Second), dur(c.RepeatInterval, time.Hour), c.ReceiverURL, auth)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	in := &Instance{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir}
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	in.cmd = exec.Command(bin,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--web.external-url="+in.URL+"/",
		"--cluster.listen-address=",
	)
	in.cmd.Stdout, in.cmd.Stderr = logf, logf
	if err := in.cmd.Start(); err != nil {
		t.Fatalf("start alertmanager: %v", err)
	}
	t.Cleanup(func() {
		in.cmd.Process.Kill()
		in.cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("alertmanager %s log:\n%s", in.URL, tail(string(b), 3000))
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(in.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager on %s not ready: %v", in.URL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Post sends alerts to the instance's API, as Prometheus would.
func (in *Instance) Post(ctx context.Context, alerts ...Alert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", in.URL+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("post alerts: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("post alerts: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// Log returns what the instance logged so far (e.g. notify errors).
func (in *Instance) Log() string {
	b, _ := os.ReadFile(filepath.Join(in.Dir, "log"))
	return string(b)
}
