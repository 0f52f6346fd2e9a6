package metrics

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// Every source accepting through Sink counts, duplicates not; the last
// accept time is set for each.
func TestSinkCountsEverySource(t *testing.T) {
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := New()
	m.InitSource("mail/INBOX")
	m.InitSource("hooks")
	sink := m.Sink(st)
	for _, in := range []source.Incoming{
		{Source: "mail/INBOX", Kind: event.KindMail, DedupKey: "<a@x>", Raw: strings.NewReader("Subject: a\r\n\r\nx")},
		{Source: "mail/INBOX", Kind: event.KindMail, DedupKey: "<a@x>", Raw: strings.NewReader("Subject: a\r\n\r\nx")},
		{Source: "hooks", Kind: event.KindJSON, Raw: strings.NewReader(`{}`)},
	} {
		if _, err := sink.Accept(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	body := scrape(t, m)
	for _, want := range []string{`rtbridge_events_accepted_total{source="mail/INBOX"} 1`, `rtbridge_events_accepted_total{source="hooks"} 1`,
		`rtbridge_source_degraded{source="hooks"} 0`} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(body, `rtbridge_source_last_accept_timestamp_seconds{source="hooks"} 0`) {
		t.Error("last accept time of hooks not set")
	}
}

func TestIMAPCollector(t *testing.T) {
	m := New()
	at := time.Unix(1700000000, 0)
	m.IMAP(func() []IMAPState {
		return []IMAPState{{Source: "support/INBOX", Fetched: 3, Errors: 2, Reconnects: 2, Idle: true, LastSuccess: at, LeaseHeld: true},
			{Source: "support/Standby"}}
	})
	body := scrape(t, m)
	for _, want := range []string{`rtbridge_imap_messages_fetched_total{source="support/INBOX"} 3`,
		`rtbridge_imap_errors_total{source="support/INBOX"} 2`, `rtbridge_imap_reconnects_total{source="support/INBOX"} 2`,
		`rtbridge_imap_idle{source="support/INBOX"} 1`, `rtbridge_imap_last_success_timestamp_seconds{source="support/INBOX"} 1.7e+09`,
		`rtbridge_imap_mailbox_lease_held{source="support/INBOX"} 1`, `rtbridge_imap_mailbox_lease_held{source="support/Standby"} 0`} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
}
