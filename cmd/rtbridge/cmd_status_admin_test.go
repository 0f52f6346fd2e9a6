package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/daemon"
)

// `rtbridge status` finds the daemon on http.admin_listen and sends
// http.admin_auth's token (from the config's file, or --admin-secret-file);
// a wrong token is reported and the status comes from the store alone.
func TestStatusUsesAdminListener(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin := ln.Addr().String()
	ln.Close()
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte("unused\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "admin-token"), []byte("admin-secret\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "wrong"), []byte("not-it\n"), 0o600)
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token_file: rt-token }
state: { dir: state }
http:
  listen: "127.0.0.1:0"
  admin_listen: %q
  admin_auth: { bearer: { token_file: admin-token } }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: none }
rules:
  - name: r
    when: { kind: json }
    do: [ { ignore: test } ]
`, admin)), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	up := make(chan string, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Options{ConfigPath: cfg, LogOutput: io.Discard, Version: "test",
			AdminListening: func(a string) { up <- a }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-up:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not start")
	}
	status := func(extra ...string) (int, daemon.Status, string) {
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), append([]string{"status", "--config", cfg, "--json"}, extra...), &out, &errb)
		var s daemon.Status
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out.String())
		}
		return code, s, errb.String()
	}
	if code, s, errs := status(); code != exitOK || !s.Daemon || s.Breaker != "closed" || s.Sources["deploys"] != "ok" {
		t.Errorf("status: exit %d %+v %s", code, s, errs)
	}
	code, s, errs := status("--admin-secret-file", filepath.Join(dir, "wrong"))
	if code != exitOK || s.Daemon || !strings.Contains(errs, "refused them (401)") {
		t.Errorf("status with a wrong token: exit %d, daemon %v, stderr %q", code, s.Daemon, errs)
	}
}
