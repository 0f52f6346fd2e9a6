package executor

import "github.com/rtbridge/rtbridge/bridge/metrics"

// PromMetrics adapts the daemon's Prometheus metrics to Metrics.
type PromMetrics struct{ M *metrics.Metrics }

// Finished implements Metrics.
func (p PromMetrics) Finished(source, rule, outcome string) { p.M.Finished(source, rule, outcome) }

// Retry implements Metrics.
func (p PromMetrics) Retry(class string) { p.M.Retries.WithLabelValues(class).Inc() }

// AmbiguousRetry implements Metrics.
func (p PromMetrics) AmbiguousRetry() { p.M.AmbiguousRetries.Inc() }

// Breaker implements Metrics.
func (p PromMetrics) Breaker(open bool) {
	if open {
		p.M.BreakerOpen.Set(1)
	} else {
		p.M.BreakerOpen.Set(0)
	}
}
