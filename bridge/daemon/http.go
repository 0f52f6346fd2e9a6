package daemon

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/webhook"
)

// listen opens an HTTP listener (key names it in errors) with the
// connection caps of http.limits (total, and per client address).
func listen(key, addr string, h config.HTTP) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	l := h.Limits.Resolved()
	return webhook.LimitListener(ln, l.MaxConnections, l.MaxConnectionsPerClient), nil
}

// handler serves http.listen: the webhook paths, and the admin endpoints
// unless http.admin_listen has them.
func (d *daemon) handler() http.Handler {
	mux := http.NewServeMux()
	if d.cfg.Load().HTTP.AdminListen == "" {
		d.adminRoutes(mux)
	}
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
