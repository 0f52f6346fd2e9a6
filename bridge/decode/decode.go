// Package decode is the one event decoder: it turns an event's stored
// bytes and metadata into an event.Event. The executor decodes every
// attempt with it (so a parser fix applies to retries and replays),
// `rtbridge test` decodes its files with it, and the IMAP source derives a
// mail's dedup key with it, so all three see the same event.
package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/rtbridge/rtbridge/bridge/alerts"
	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/webhook"
	"github.com/rtbridge/rtbridge/event"
)

// Stored is an event as the store keeps it.
type Stored struct {
	ID         string
	Source     string
	Kind       event.Kind
	ReceivedAt time.Time
	Meta       map[string]string // parse context the source stored (never secrets)
	// Open returns the payload from its start, anew on each call. A mail is
	// streamed from it (its attachments are read from it again when sent,
	// so a large file never sits in memory); webhook bodies are read whole.
	// Its errors come back wrapped (%w): a storage failure is not a parse one.
	Open func() (io.ReadCloser, error)
}

// Event decodes s by its kind.
func Event(s Stored) (*event.Event, error) {
	ev := &event.Event{ID: s.ID, Source: s.Source, Kind: s.Kind, ReceivedAt: s.ReceivedAt}
	var err error
	var raw []byte
	switch s.Kind {
	case event.KindJSON:
		if raw, err = readAll(s.Open); err == nil {
			ev.JSON, err = webhook.ParseJSON(raw, s.Meta)
		}
	case event.KindAlertmanager, event.KindGrafana:
		if raw, err = readAll(s.Open); err == nil {
			ev.Alert, err = alerts.Parse(s.Kind, raw)
		}
	case event.KindMail:
		ev.Mail, err = mail(s.Open, s.Meta)
	default:
		err = fmt.Errorf("unknown event kind %q (mail, alertmanager, grafana, json)", s.Kind)
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// readAll reads a (small) payload whole.
func readAll(open func() (io.ReadCloser, error)) ([]byte, error) {
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("open payload: %w", err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read payload: %w", err)
	}
	return raw, nil
}

// mail parses a stored mail, streaming it from open. A source that kept
// only the header of an oversize message says so in meta; the mail then
// carries a problem saying so, which also attaches what was kept.
func mail(open func() (io.ReadCloser, error), meta map[string]string) (*event.Mail, error) {
	m, err := mailparse.Parse(open)
	if err != nil {
		return nil, err
	}
	m.Delivery = source.DeliveryOf(meta)
	if size := meta[source.MetaOversize]; size != "" {
		m.ParseProblems = append(m.ParseProblems, fmt.Sprintf(
			"the message (%s bytes) is larger than max_message_bytes (%s): only its header was kept; the full message stays in the mailbox",
			oneToken(size), oneToken(meta[source.MetaLimit])))
	}
	return m, nil
}

// oneToken keeps a meta value to the digits it should be.
func oneToken(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return "?"
	}
	return s
}

// DetectKind guesses the kind of an event file that comes without one
// (`rtbridge test`): a JSON body is an Alertmanager or Grafana
// notification when it looks like one, else a generic JSON webhook;
// anything else is a mail.
func DetectKind(data []byte) event.Kind {
	trimmed := bytes.TrimSpace(data)
	if !bytes.HasPrefix(trimmed, []byte("{")) {
		return event.KindMail
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(trimmed, &top) != nil {
		return event.KindJSON
	}
	_, v := top["version"]
	_, g := top["groupKey"]
	_, a := top["alerts"]
	if !v || !g || !a {
		return event.KindJSON
	}
	_, org := top["orgId"]
	_, state := top["state"]
	if org || state {
		return event.KindGrafana
	}
	return event.KindAlertmanager
}
