package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// InstrumentRT wraps an RT transport so every request is timed in
// rtbridge_rt_request_duration_seconds. Install it as the Transport of the
// http.Client given to rtapi.Config.HTTPClient.
func (m *Metrics) InstrumentRT(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper{m: m, next: next}
}

type roundTripper struct {
	m    *Metrics
	next http.RoundTripper
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := rt.next.RoundTrip(req)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	rt.m.RTDuration.WithLabelValues(Endpoint(req.URL.Path), status).Observe(time.Since(start).Seconds())
	return resp, err
}

// Endpoint turns an RT URL path into a label of bounded cardinality: the
// part after REST/1.0/ or REST/2.0/, numeric segments replaced by ":id",
// at most three segments ("/REST/1.0/ticket/17/comment" → "ticket/:id/comment").
// Paths outside the REST API (login pages) are "other".
func Endpoint(path string) string {
	i := strings.Index(path, "/REST/")
	if i < 0 {
		return "other"
	}
	rest := path[i+len("/REST/"):]
	ver, rest, _ := strings.Cut(rest, "/")
	prefix := "rest1 "
	if ver == "2.0" {
		prefix = "rest2 "
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	if len(segs) > 3 {
		segs = segs[:3]
	}
	for j, s := range segs {
		if s == "" {
			segs[j] = "/"
			continue
		}
		if _, err := strconv.Atoi(s); err == nil {
			segs[j] = ":id"
		} else if len(s) > 32 || strings.ContainsAny(s, "?=&% ") {
			segs[j] = ":arg"
		}
	}
	return prefix + strings.Join(segs, "/")
}
