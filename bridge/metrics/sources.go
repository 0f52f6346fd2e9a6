package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rtbridge/rtbridge/bridge/source"
)

// sourceMetrics are the per-source series beyond accepted and up.
type sourceMetrics struct {
	// source: every configured source. When the last event was accepted
	// (Unix time; 0: none since start).
	LastAccept *prometheus.GaugeVec
	// source: 1 while the source reads but cannot finish what it read
	// (an IMAP disposition that keeps failing).
	SourceDegraded *prometheus.GaugeVec
}

func newSourceMetrics() sourceMetrics {
	return sourceMetrics{
		LastAccept: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rtbridge_source_last_accept_timestamp_seconds",
			Help: "When a source last had an event accepted (Unix time; 0: none since start)."}, []string{"source"}),
		SourceDegraded: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rtbridge_source_degraded",
			Help: "1 while a source works but cannot finish what it read (an IMAP disposition that keeps failing)."}, []string{"source"}),
	}
}

// Sink wraps the store every source accepts into: each accepted event
// (not a duplicate) counts in rtbridge_events_accepted_total and sets the
// source's last-accept time, whatever the source.
func (m *Metrics) Sink(next source.Sink) source.Sink { return countingSink{next: next, m: m} }

type countingSink struct {
	next source.Sink
	m    *Metrics
}

func (c countingSink) Accept(ctx context.Context, in source.Incoming) (source.Accepted, error) {
	acc, err := c.next.Accept(ctx, in)
	if err == nil {
		c.m.LastAccept.WithLabelValues(in.Source).Set(float64(time.Now().Unix()))
		if !acc.Duplicate {
			c.m.EventsAccepted.WithLabelValues(in.Source).Inc()
		}
	}
	return acc, err
}

// IMAPState is one IMAP source's counts, read at each scrape.
type IMAPState struct {
	Source      string
	Fetched     int64 // messages fetched and stored (duplicates too)
	Errors      int64 // sessions that failed (connect, login, server errors)
	Reconnects  int64
	Idle        bool
	LastSuccess time.Time // the last successful check for new mail
	LeaseHeld   bool      // this instance holds the folder's mailbox lease (always on one host)
}

var (
	imapFetched = prometheus.NewDesc("rtbridge_imap_messages_fetched_total",
		"Messages an IMAP source fetched and stored (duplicates too).", []string{"source"}, nil)
	imapErrors = prometheus.NewDesc("rtbridge_imap_errors_total",
		"IMAP sessions that failed (connect, login, or a server error).", []string{"source"}, nil)
	imapReconnects = prometheus.NewDesc("rtbridge_imap_reconnects_total",
		"IMAP reconnect attempts.", []string{"source"}, nil)
	imapIdle = prometheus.NewDesc("rtbridge_imap_idle",
		"1 while an IMAP source waits in IDLE.", []string{"source"}, nil)
	imapLastSuccess = prometheus.NewDesc("rtbridge_imap_last_success_timestamp_seconds",
		"When an IMAP source last checked its folder successfully (Unix time; 0: not yet).", []string{"source"}, nil)
	imapLease = prometheus.NewDesc("rtbridge_imap_mailbox_lease_held",
		"1 while this instance holds the IMAP source's mailbox lease and polls the folder (always 1 on one host).", []string{"source"}, nil)
)

// imapCollector reads the IMAP sources' counts at scrape time.
type imapCollector struct{ read func() []IMAPState }

func (c imapCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{imapFetched, imapErrors, imapReconnects, imapIdle, imapLastSuccess, imapLease} {
		ch <- d
	}
}

func (c imapCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.read() {
		idle, last, lease := 0.0, 0.0, 0.0
		if s.Idle {
			idle = 1
		}
		if s.LeaseHeld {
			lease = 1
		}
		if !s.LastSuccess.IsZero() {
			last = float64(s.LastSuccess.Unix())
		}
		ch <- prometheus.MustNewConstMetric(imapFetched, prometheus.CounterValue, float64(s.Fetched), s.Source)
		ch <- prometheus.MustNewConstMetric(imapErrors, prometheus.CounterValue, float64(s.Errors), s.Source)
		ch <- prometheus.MustNewConstMetric(imapReconnects, prometheus.CounterValue, float64(s.Reconnects), s.Source)
		ch <- prometheus.MustNewConstMetric(imapIdle, prometheus.GaugeValue, idle, s.Source)
		ch <- prometheus.MustNewConstMetric(imapLastSuccess, prometheus.GaugeValue, last, s.Source)
		ch <- prometheus.MustNewConstMetric(imapLease, prometheus.GaugeValue, lease, s.Source)
	}
}

// IMAP registers the IMAP series; read returns the configured IMAP
// sources' states (names from the config only). Call it once.
func (m *Metrics) IMAP(read func() []IMAPState) {
	m.reg.MustRegister(imapCollector{read: read})
}

// Degraded records whether a source is degraded.
func (m *Metrics) Degraded(source string, degraded bool) {
	v := 0.0
	if degraded {
		v = 1
	}
	m.SourceDegraded.WithLabelValues(source).Set(v)
}
