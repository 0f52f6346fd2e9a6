package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"/REST/1.0/ticket/new":                      "rest1 ticket/new",
		"/rt/REST/1.0/ticket/17/comment":            "rest1 ticket/:id/comment",
		"/REST/1.0/ticket/17/attachments/4/content": "rest1 ticket/:id/attachments",
		"/REST/1.0/search/ticket":                   "rest1 search/ticket",
		"/REST/1.0/":                                "rest1 /",
		"/REST/2.0/ticket/5":                        "rest2 ticket/:id",
		"/NoAuth/Login.html":                        "other",
		"/REST/1.0/queue/Support%20EU":              "rest1 queue/:name",
		"/REST/2.0/queue/Any Name From A Template":  "rest2 queue/:name",
		"/REST/1.0/evil/words/here":                 "rest1 :arg/:arg/:arg",
	} {
		if got := Endpoint(in); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInstrumentRTAndHandler(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "RT/5.0.3 200 Ok\n")
	}))
	defer srv.Close()
	m := New()
	m.InitSource("hooks")
	hc := &http.Client{Transport: m.InstrumentRT(nil)}
	resp, err := hc.Get(srv.URL + "/REST/1.0/ticket/42/show")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := (&http.Client{Transport: m.InstrumentRT(nil)}).Get("http://127.0.0.1:1/REST/1.0/ticket/new"); err == nil {
		t.Fatal("request to a closed port succeeded")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`rtbridge_rt_request_duration_seconds_count{code="200",endpoint="rest1 ticket/:id/show"} 1`,
		`rtbridge_rt_request_duration_seconds_count{code="error",endpoint="rest1 ticket/new"} 1`,
		`rtbridge_events_accepted_total{source="hooks"} 0`,
		`rtbridge_events_finished_total{outcome="dead",rule="",source="hooks"} 0`,
		`rtbridge_build_info{branch="`,
		`,goversion="go`,
		`,revision="`,
		`rtbridge_config_reloads_total{result="failure"} 0`,
		"rtbridge_rt_up 0", // the last request found no RT
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics output lacks %q", want)
		}
	}
}
