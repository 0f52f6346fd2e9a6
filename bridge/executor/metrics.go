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

// StormDiverted implements Metrics.
func (p PromMetrics) StormDiverted(rule string, keys int) { p.M.StormDiverted(rule, keys) }

// Breaker implements Metrics.
func (p PromMetrics) Breaker(open bool) {
	if open {
		p.M.BreakerOpen.Set(1)
	} else {
		p.M.BreakerOpen.Set(0)
	}
}
