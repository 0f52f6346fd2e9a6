// Package notify speaks systemd's notify protocol for a Type=notify unit:
// READY, RELOADING (with MONOTONIC_USEC), STOPPING, STATUS and watchdog
// pings. Outside systemd (NOTIFY_SOCKET unset) every call does nothing.
package notify

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Notifier sends state changes to systemd.
type Notifier struct {
	log *slog.Logger
	// send is daemon.SdNotify.
	send func(unset bool, state string) (bool, error)
}

// New returns a Notifier logging failures to log.
func New(log *slog.Logger) *Notifier {
	return &Notifier{log: log, send: daemon.SdNotify}
}

func (n *Notifier) notify(lines ...string) {
	// A newline in a STATUS value would start a new assignment: control
	// characters become spaces.
	for i, l := range lines {
		lines[i] = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, l)
	}
	if _, err := n.send(false, strings.Join(lines, "\n")); err != nil {
		n.log.Warn("systemd notify failed", "err", err)
	}
}

// Ready says start-up (or a reload) is complete.
func (n *Notifier) Ready(status string) { n.notify(daemon.SdNotifyReady, "STATUS="+status) }

// Reloading says a reload began; systemd (253+) waits for Ready.
func (n *Notifier) Reloading() {
	n.notify(daemon.SdNotifyReloading, daemon.SdNotifyMonotonicUsec(), "STATUS=reloading configuration")
}

// Reloaded ends a reload begun with Reloading: READY=1, with a STATUS
// that says whether the new configuration was taken ("reload refused: …"
// means the previous one keeps running), then status.
func (n *Notifier) Reloaded(refused error, status string) {
	n.Ready(ReloadNote(refused) + "; " + status)
}

// ReloadNote is the outcome of a reload in a status line.
func ReloadNote(refused error) string {
	if refused == nil {
		return "reloaded"
	}
	msg := refused.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = fmt.Sprintf("%s (and %d more)", msg[:i], strings.Count(msg, "\n"))
	}
	return "reload refused, previous configuration kept: " + msg
}

// Stopping says shutdown began.
func (n *Notifier) Stopping() { n.notify(daemon.SdNotifyStopping, "STATUS=stopping") }

// Status sets the one-line status systemctl shows.
func (n *Notifier) Status(s string) { n.notify("STATUS=" + s) }

// Watchdog pings the watchdog; call it only while healthy.
func (n *Notifier) Watchdog() { n.notify(daemon.SdNotifyWatchdog) }

// WatchdogInterval returns how often to ping (half of WatchdogSec), or 0
// when the unit has no watchdog.
func WatchdogInterval() time.Duration {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil || d <= 0 {
		return 0
	}
	return d / 2
}
