package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/daemon"
)

// bridge is a real daemon (bridge/daemon.Run) for one test.
type bridge struct {
	HookURL   string // the Alertmanager webhook endpoint
	TokenFile string // its bearer token
	// SignedURL is an alertmanager endpoint with GitHub-style HMAC
	// (X-Hub-Signature-256) and secret HMACSecret.
	SignedURL  string
	HMACSecret string
	Dir        string
}

// startBridge runs the daemon against rtURL with the given rules: section
// (and extra top-level config), stopping it when the test ends.
func startBridge(t testing.TB, rtURL, rtToken, rules string, workers int) *bridge {
	t.Helper()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b := &bridge{Dir: dir, TokenFile: write("hook-token", "am-e2e-token\n"), HMACSecret: "am-e2e-hmac"}
	cfg := write("rtbridge.yaml", fmt.Sprintf(`rt:
  url: %s
  auth: token
  token_file: %s
state:
  dir: %s
log: {level: debug}
http:
  listen: 127.0.0.1:0
  max_body_bytes: 8388608
webhooks:
  - name: am
    path: /alertmanager
    kind: alertmanager
    auth:
      bearer:
        token_file: %s
  - name: am-signed
    path: /alertmanager-signed
    kind: alertmanager
    auth:
      hmac:
        style: github
        header: X-Hub-Signature-256
        secret_file: %s
executor:
  workers: %d
  backoff: {initial: 200ms, max: 2s}
%s`, rtURL, write("rt-token", rtToken+"\n"), filepath.Join(dir, "state"), b.TokenFile, write("hmac-secret", b.HMACSecret+"\n"), workers, rules))
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		done <- daemon.Run(ctx, daemon.Options{ConfigPath: cfg, LogOutput: logf, Listening: func(a string) { addr <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "daemon.log"))
			t.Logf("daemon log (tail):\n%s", b[max(0, len(b)-8000):])
		}
	})
	select {
	case a := <-addr:
		b.HookURL = "http://" + a + "/alertmanager"
		b.SignedURL = "http://" + a + "/alertmanager-signed"
	case err := <-done:
		t.Fatalf("daemon did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start listening")
	}
	return b
}
