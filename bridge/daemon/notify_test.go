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
// reload, watchdog pings while healthy, STOPPING on stop.
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
	expect("READY=1")
	r.stop(t)
	expect("STOPPING=1")
}
