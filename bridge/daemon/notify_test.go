package daemon

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The daemon speaks the notify protocol as a Type=notify unit expects:
// READY after start, RELOADING (with MONOTONIC_USEC) then READY around a
// reload with its outcome in STATUS, watchdog pings while healthy,
// STOPPING on stop.
func TestSystemdNotifySequence(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "1000000") // ping every 0.5 s
	t.Setenv("WATCHDOG_PID", "")
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	expect := func(prefix string) string {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("socket closed waiting for %q", prefix)
				}
				if strings.HasPrefix(m, prefix) {
					return m
				}
			case <-timeout:
				t.Fatalf("no %q notification in 10s", prefix)
			}
		}
	}
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte("unused\n"), 0o600)
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token_file: rt-token }
state: { dir: state }
http: { listen: "127.0.0.1:0" }
rules:
%s`, createRule)), 0o600)
	r := start(t, cfg)
	if m := expect("READY=1"); !strings.Contains(m, "STATUS=0 pending, 0 dead letters, RT breaker closed") {
		t.Errorf("ready: %q", m)
	}
	expect("WATCHDOG=1")
	r.reload <- nil
	if m := expect("RELOADING=1"); !strings.Contains(m, "\nMONOTONIC_USEC=") {
		t.Errorf("reloading: %q", m)
	}
	if m := expect("READY=1"); m != "READY=1\nSTATUS=reloaded; 0 pending, 0 dead letters, RT breaker closed" {
		t.Errorf("ready after a reload: %q", m)
	}
	// A refused reload says so, and the status line keeps saying it until
	// a reload succeeds.
	good, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(good, "surprise: 1\n"...), 0o600)
	r.reload <- nil
	expect("RELOADING=1")
	want := "STATUS=reload refused, previous configuration kept: " + cfg + ":8:1: surprise: unknown key"
	if m := expect("READY=1"); !strings.Contains(m, want) || strings.Count(m, "\n") != 1 {
		t.Errorf("ready after a refused reload: %q, want %q", m, want)
	}
	if m := expect("STATUS="); !strings.HasPrefix(m, "STATUS=0 pending, 0 dead letters, RT breaker closed; last reload refused, previous configuration kept: "+cfg+":8:1:") {
		t.Errorf("status after a refused reload: %q", m)
	}
	os.WriteFile(cfg, good, 0o600)
	r.reload <- nil
	expect("RELOADING=1")
	if m := expect("READY=1"); !strings.HasPrefix(m, "READY=1\nSTATUS=reloaded;") {
		t.Errorf("ready after the fix: %q", m)
	}
	if m := expect("STATUS="); m != "STATUS=0 pending, 0 dead letters, RT breaker closed" {
		t.Errorf("status after the fix: %q", m)
	}
	r.stop(t)
	expect("STOPPING=1")
}
