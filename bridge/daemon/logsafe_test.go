package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/config"
)

type stringer string

func (s stringer) String() string { return string(s) }

// Whatever an attribute carries (a forged mail subject, an error quoting
// a server, a Stringer, a group), NewLogger writes one line per record
// with no control byte, in text and JSON; clean text is left as it is.
func TestLoggerReplacesControlCharacters(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log := NewLogger(&buf, config.Log{Level: "debug", Format: format}, new(slog.LevelVar))
			log = log.With("account", "sup\nport").WithGroup("g\x07")
			log.Warn("mail\nskipped", "subject", "hello\r\nlevel=ERROR msg=forged\x1b[31m", "err", fmt.Errorf("wrap: %w", errors.New("unauthorized\nbearer token missing")),
				"who", stringer("a\x00b"), "to", []string{"x\ny"}, slog.Group("grp", "inner", "t\tab"), "n", 3, "addr", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 25})
			out := buf.String()
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("not one line:\n%q", out)
			}
			for i, c := range []byte(strings.TrimSuffix(out, "\n")) {
				if c < 0x20 || c == 0x7f {
					t.Fatalf("control byte %#x at %d in %q", c, i, out)
				}
			}
			// Replaced once, not escaped: no \n or \u001b sequences either.
			for _, esc := range []string{`\n`, `\r`, `\u001b`, `\x1b`, `\t`, `\u0000`} {
				if strings.Contains(out, esc) {
					t.Errorf("escape %s left in %q", esc, out)
				}
			}
			for _, want := range []string{"unauthorized; bearer token missing", "hello; level=ERROR msg=forged [31m", "sup; port", "mail; skipped", "t ab", "127.0.0.1:25"} {
				if !strings.Contains(out, want) {
					t.Errorf("lacks %q: %s", want, out)
				}
			}
			if format == "json" {
				var m map[string]any
				if err := json.Unmarshal([]byte(out), &m); err != nil {
					t.Fatalf("not JSON: %v %s", err, out)
				}
				if g, _ := m["g "].(map[string]any); g == nil || g["n"] != 3.0 {
					t.Errorf("group or number lost: %s", out)
				}
			}
		})
	}
	var buf bytes.Buffer
	NewLogger(&buf, config.Log{Level: "info"}, new(slog.LevelVar)).Info("event accepted", "source", "deploys", "bytes", 112)
	if got := buf.String(); !strings.HasSuffix(got, `level=INFO msg="event accepted" source=deploys bytes=112`+"\n") {
		t.Errorf("clean record changed: %q", got)
	}
}

// BenchmarkLogger: the cost of the control-character guard on the accept
// path's log line ("event accepted", clean) and on a record with an error.
func BenchmarkLogger(b *testing.B) {
	plain := slog.New(slog.NewTextHandler(io.Discard, nil))
	safe := NewLogger(io.Discard, config.Log{Level: "info"}, new(slog.LevelVar))
	err := errors.New("unauthorized\nbearer token missing")
	for _, bc := range []struct {
		name string
		log  *slog.Logger
	}{{"plain", plain}, {"safe", safe}} {
		b.Run(bc.name+"/clean", func(b *testing.B) {
			for b.Loop() {
				bc.log.Info("event accepted", "source", "deploys", "event", "01M8T720WG2Z5D0ETY3PM3PG21", "bytes", 112, "duplicate_of", "")
			}
		})
		b.Run(bc.name+"/error", func(b *testing.B) {
			for b.Loop() {
				bc.log.Warn("webhook request not authenticated", "remote", "127.0.0.1:4711", "err", err)
			}
		})
	}
}
