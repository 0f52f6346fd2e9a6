package notify

import (
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The notifier talks to a real unix datagram socket, as systemd provides.
func TestNotifySocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	n := New(slog.New(slog.DiscardHandler))
	read := func() string {
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:k])
	}
	n.Ready("queue 0\nbreaker closed")
	if got := read(); got != "READY=1\nSTATUS=queue 0 breaker closed" {
		t.Errorf("ready: %q", got)
	}
	n.Reloading()
	got := read()
	if !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") || !strings.HasSuffix(got, "\nSTATUS=reloading configuration") {
		t.Errorf("reloading: %q", got)
	}
	n.Reloaded(nil, "queue 0")
	if got := read(); got != "READY=1\nSTATUS=reloaded; queue 0" {
		t.Errorf("reloaded: %q", got)
	}
	n.Reloaded(errors.Join(errors.New("c.yaml:3:1: bad\rkey"), errors.New("c.yaml:4:1: worse")), "queue 0")
	if got := read(); got != "READY=1\nSTATUS=reload refused, previous configuration kept: c.yaml:3:1: bad key (and 1 more); queue 0" {
		t.Errorf("reload refused: %q", got)
	}
	n.Stopping()
	if got := read(); got != "STOPPING=1\nSTATUS=stopping" {
		t.Errorf("stopping: %q", got)
	}
	n.Watchdog()
	if got := read(); got != "WATCHDOG=1" {
		t.Errorf("watchdog: %q", got)
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "")
	if got := WatchdogInterval(); got != 15*time.Second {
		t.Errorf("interval = %v, want 15s", got)
	}
	t.Setenv("WATCHDOG_USEC", "")
	if got := WatchdogInterval(); got != 0 {
		t.Errorf("interval without watchdog = %v", got)
	}
}
