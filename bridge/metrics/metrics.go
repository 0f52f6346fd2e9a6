// Package metrics declares rtbridge's Prometheus metrics on a private
// registry. Every label takes values from a closed set, written beside the
// label; counters with known label values start at zero so rate() works
// from the first scrape.
package metrics

import (
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rtbridge/rtbridge/bridge/mailparse"
)

// Outcomes of an event (label "outcome").
var Outcomes = []string{"done", "ignored", "dead", "duplicate"}

// MailCaps are the parser's caps (label "cap"), as event.Mail.Capped names
// them; any other name counts as "other".
var MailCaps = []string{mailparse.CapHeaderBytes, mailparse.CapDepth, mailparse.CapParts, mailparse.CapAttachments, mailparse.CapTextBytes}

// Metrics holds every metric of the daemon.
type Metrics struct {
	reg *prometheus.Registry

	// source: configured source names. code: the HTTP status answered.
	WebhookRequests *prometheus.CounterVec
	// source: configured source names.
	EventsAccepted *prometheus.CounterVec
	// source; rule: the rule that planned it ("" when none matched or before
	// planning); outcome: done, ignored, dead, duplicate.
	EventsFinished *prometheus.CounterVec
	// class: transient, ambiguous, auth (why a step is tried again).
	Retries *prometheus.CounterVec
	// Ambiguous creates retried without an idempotency field (at-least-once).
	AmbiguousRetries prometheus.Counter
	// rule: configured alert rule names. Keys the storm guard sent to an
	// umbrella ticket instead of their own.
	StormDiversions *prometheus.CounterVec
	// cap: MailCaps, or other. Mails planned that went over a parser cap
	// (the rest is only in the raw message attached to the ticket).
	MailCapped *prometheus.CounterVec
	// endpoint: the REST path with ids, names and unknown words replaced
	// (ticket/:id/comment, queue/:name); code: the HTTP status, or "error"
	// when no answer came.
	RTDuration *prometheus.HistogramVec
	// No labels: present once RT was asked anything.
	RTUp *prometheus.GaugeVec
	// state: the store's event states.
	Queue         *prometheus.GaugeVec
	OldestPending prometheus.Gauge
	StoreBytes    prometheus.Gauge
	DeadLetters   prometheus.Gauge
	// 0 closed, 1 open (RT is being probed, workers pause).
	BreakerOpen prometheus.Gauge
	// source: 1 while the source works, 0 while it reports a problem.
	SourceUp *prometheus.GaugeVec
	// source: IMAP sources with auth: oauth2. 1 while the last token
	// request succeeded, 0 after a refusal or no answer.
	OAuth2TokenOK *prometheus.GaugeVec
	// source: when the current access token expires (Unix time; 0: none).
	OAuth2TokenExpiry *prometheus.GaugeVec
	// result: success, failure.
	Reloads            *prometheus.CounterVec
	LastReloadSuccess  prometheus.Gauge
	LastReloadSuccTime prometheus.Gauge
	ConfigHash         prometheus.Gauge

	sourceMetrics
}

// New registers every metric on a fresh registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// rtbridge_build_info{version,revision,branch,goversion,goos,goarch,tags},
	// the labels `rtbridge version` prints.
	build := versioncollector.NewCollector("rtbridge")
	f(build)

	m := &Metrics{
		reg: reg,
		WebhookRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rtbridge_webhook_requests_total",
			Help: "Webhook requests by source and HTTP status answered."}, []string{"source", "code"}),
		EventsAccepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rtbridge_events_accepted_total",
			Help: "Events durably accepted, by source."}, []string{"source"}),
		EventsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rtbridge_events_finished_total",
			Help: "Events that reached a final state, by source, rule and outcome (done, ignored, dead, duplicate)."}, []string{"source", "rule", "outcome"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rtbridge_executor_retries_total",
			Help: "Step attempts scheduled again, by class (transient, ambiguous, auth)."}, []string{"class"}),
		AmbiguousRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "rtbridge_executor_ambiguous_retries_total",
			Help: "Ambiguous creates retried without rt.idempotency_field (may have made a duplicate ticket)."}),
		StormDiversions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rtbridge_alert_storm_diverted_total",
			Help: "Alert keys an alert rule's storm_limit sent to its umbrella ticket instead of a ticket of their own, by rule."}, []string{"rule"}),
		MailCapped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rtbridge_mail_capped_total",
			Help: "Mails planned that went over a parser cap (header_bytes, depth, parts, attachments, text_bytes), by cap; counted once per mail."}, []string{"cap"}),
		RTDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rtbridge_rt_request_duration_seconds",
			Help:    "RT HTTP requests by endpoint and HTTP status code (\"error\": no answer).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"endpoint", "code"}),
		// No labels, but a vector, so the series appears with the first RT
		// request rather than as a false 0 before it.
		RTUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rtbridge_rt_up",
			Help: "1 when RT answered the last request (any status below 500), 0 when it did not or answered 5xx."}, nil),
		Queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rtbridge_queue_events",
			Help: "Stored events by state."}, []string{"state"}),
		OldestPending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rtbridge_queue_oldest_pending_seconds",
			Help: "Age of the oldest event not yet final (0: none)."}),
		StoreBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rtbridge_store_bytes",
			Help: "Bytes the store takes on disk (database, WAL and payload files)."}),
		DeadLetters: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rtbridge_dead_letters",
			Help: "Dead events waiting for an operator (rtbridge deadletter list)."}),
		BreakerOpen: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rtbridge_rt_breaker_open",
			Help: "1 while the RT circuit breaker is open (RT unreachable; workers pause)."}),
		SourceUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rtbridge_source_up",
			Help: "1 while a source works, 0 while it reports a problem."}, []string{"source"}),
		OAuth2TokenOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rtbridge_imap_oauth2_token_ok",
			Help: "1 while the last OAuth2 token request of an IMAP source succeeded, 0 after it failed."}, []string{"source"}),
		OAuth2TokenExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "rtbridge_imap_oauth2_token_expiry_timestamp_seconds",
			Help: "When the OAuth2 access token of an IMAP source expires (Unix time; 0: none yet)."}, []string{"source"}),
		Reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rtbridge_config_reloads_total",
			Help: "Configuration reloads (SIGHUP) by result (success, failure)."}, []string{"result"}),
		LastReloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rtbridge_config_last_reload_successful",
			Help: "1 when the last load of the configuration succeeded."}),
		LastReloadSuccTime: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rtbridge_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully (Unix time)."}),
		ConfigHash: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rtbridge_config_hash",
			Help: "A hash of the loaded configuration file (changes when it does)."}),
		sourceMetrics: newSourceMetrics(),
	}
	for _, c := range []prometheus.Collector{m.WebhookRequests, m.EventsAccepted, m.EventsFinished, m.Retries, m.AmbiguousRetries, m.StormDiversions, m.MailCapped,
		m.RTDuration, m.RTUp, m.Queue, m.OldestPending, m.StoreBytes, m.DeadLetters, m.BreakerOpen, m.SourceUp,
		m.OAuth2TokenOK, m.OAuth2TokenExpiry, m.Reloads,
		m.LastReloadSuccess, m.LastReloadSuccTime, m.ConfigHash, m.LastAccept, m.SourceDegraded} {
		f(c)
	}
	for _, r := range []string{"success", "failure"} {
		m.Reloads.WithLabelValues(r)
	}
	for _, c := range []string{"transient", "ambiguous", "auth"} {
		m.Retries.WithLabelValues(c)
	}
	for _, c := range MailCaps {
		m.MailCapped.WithLabelValues(c)
	}
	return m
}

// InitSource sets every per-source series to zero, so a source shows up
// before its first event.
func (m *Metrics) InitSource(name string) {
	m.EventsAccepted.WithLabelValues(name)
	m.SourceUp.WithLabelValues(name).Set(1)
	m.SourceDegraded.WithLabelValues(name)
	m.LastAccept.WithLabelValues(name)
	for _, o := range Outcomes {
		m.EventsFinished.WithLabelValues(name, "", o)
	}
}

// Finished counts an event's final state.
func (m *Metrics) Finished(source, rule, outcome string) {
	m.EventsFinished.WithLabelValues(source, rule, outcome).Inc()
}

// OAuth2Token records the token state of an IMAP source with auth: oauth2.
func (m *Metrics) OAuth2Token(source string, ok bool, expiry time.Time) {
	v, e := 0.0, 0.0
	if ok {
		v = 1
	}
	if !expiry.IsZero() {
		e = float64(expiry.Unix())
	}
	m.OAuth2TokenOK.WithLabelValues(source).Set(v)
	m.OAuth2TokenExpiry.WithLabelValues(source).Set(e)
}

// ConfigLoaded records a reload's result; hash identifies the file loaded.
func (m *Metrics) ConfigLoaded(ok bool, hash uint32, at time.Time) {
	if !ok {
		m.Reloads.WithLabelValues("failure").Inc()
		m.LastReloadSuccess.Set(0)
		return
	}
	m.Reloads.WithLabelValues("success").Inc()
	m.LastReloadSuccess.Set(1)
	m.LastReloadSuccTime.Set(float64(at.Unix()))
	m.ConfigHash.Set(float64(hash))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry exposes the registry, for packages that add their own metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Retry counts a step scheduled again; class is transient, ambiguous or auth.
func (m *Metrics) Retry(class string) { m.Retries.WithLabelValues(class).Inc() }

// AmbiguousRetry counts a create retried without an idempotency field.
func (m *Metrics) AmbiguousRetry() { m.AmbiguousRetries.Inc() }

// StormDiverted counts keys rule's storm guard diverted to its umbrella
// ticket.
func (m *Metrics) StormDiverted(rule string, keys int) {
	m.StormDiversions.WithLabelValues(rule).Add(float64(keys))
}

// Capped counts a planned mail that went over the parser's cap c.
func (m *Metrics) Capped(c string) {
	if !slices.Contains(MailCaps, c) {
		c = "other"
	}
	m.MailCapped.WithLabelValues(c).Inc()
}

// Breaker records the RT circuit breaker opening (true) or closing.
func (m *Metrics) Breaker(open bool) {
	v := 0.0
	if open {
		v = 1
	}
	m.BreakerOpen.Set(v)
}
