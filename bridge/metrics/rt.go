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
	code := "error"
	up := 0.0
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
		if resp.StatusCode < 500 {
			up = 1
		}
	}
	rt.m.RTDuration.WithLabelValues(Endpoint(req.URL.Path), code).Observe(time.Since(start).Seconds())
	rt.m.RTUp.WithLabelValues().Set(up)
	return resp, err
}

// pathWords are the literal segments of the RT REST paths rtbridge calls;
// any other word becomes ":arg", and the segment after one of nameWords
// (a queue, user or custom field name, which comes from data) ":name", so
// the endpoint label takes values from a closed set.
var pathWords = map[string]bool{"ticket": true, "tickets": true, "new": true, "show": true, "edit": true,
	"comment": true, "correspond": true, "history": true, "id": true, "links": true, "link": true,
	"attachments": true, "attachment": true, "content": true, "search": true, "transaction": true,
	"transactions": true, "queue": true, "queues": true, "user": true, "users": true,
	"customfield": true, "customfields": true, "merge": true, "take": true, "steal": true, "untake": true}

var nameWords = map[string]bool{"queue": true, "user": true, "customfield": true}

// Endpoint turns an RT URL path into a label of bounded cardinality: the
// part after REST/1.0/ or REST/2.0/, numeric segments replaced by ":id",
// at most three segments ("/REST/1.0/ticket/17/comment" → "ticket/:id/comment"),
// names and unknown words replaced too (see pathWords).
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
		switch _, err := strconv.Atoi(s); {
		case s == "":
			segs[j] = "/"
		case err == nil:
			segs[j] = ":id"
		case j > 0 && nameWords[segs[j-1]]:
			segs[j] = ":name"
		case !pathWords[s]:
			segs[j] = ":arg"
		}
	}
	return prefix + strings.Join(segs, "/")
}
