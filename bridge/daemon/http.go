package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/webhook"
)

// listen opens the HTTP listener with the connection caps of http.limits
// (total, and per client address).
func listen(h config.HTTP) (net.Listener, error) {
	ln, err := net.Listen("tcp", h.Listen)
	if err != nil {
		return nil, fmt.Errorf("http.listen: %w", err)
	}
	l := h.Limits.Resolved()
	return webhook.LimitListener(ln, l.MaxConnections, l.MaxConnectionsPerClient), nil
}

// check is one readiness check, cached so /readyz stays cheap when probed
// often (and RT is asked at most once per ttl).
type check struct {
	name string
	ttl  time.Duration
	fn   func(ctx context.Context) error

	mu   sync.Mutex
	at   time.Time
	last error
}

func (c *check) run(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < c.ttl && !c.at.IsZero() {
		return c.last
	}
	c.last = c.fn(ctx)
	c.at = time.Now()
	return c.last
}

type readyReport struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"` // name → "ok" or the problem
}

func (d *daemon) readiness(ctx context.Context) readyReport {
	rep := readyReport{Ready: true, Checks: map[string]string{}}
	for _, c := range d.checks {
		if err := c.run(ctx); err != nil {
			rep.Ready = false
			rep.Checks[c.name] = err.Error()
		} else {
			rep.Checks[c.name] = "ok"
		}
	}
	return rep
}

func (d *daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rep := d.readiness(r.Context())
		code := http.StatusOK
		if !rep.Ready {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, rep)
	})
	mux.Handle("GET /metrics", d.m.Handler())
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		rep, err := ReadStatus(r.Context(), d.st)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		}
		rep.Breaker = d.x.BreakerState()
		rep.Sources = d.sourceStates()
		rep.OAuth2 = d.oauth2States()
		rep.Daemon = true
		writeJSON(w, http.StatusOK, rep)
	})
	// Everything else is a webhook path (or 404, answered by the webhook
	// server, which knows the current set after a reload).
	mux.Handle("/", d.hooks)
	return mux
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
