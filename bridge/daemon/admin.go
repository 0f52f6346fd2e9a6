package daemon

import (
	"net/http"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/webhook"
)

// adminGuard checks the credentials of http.admin_auth on the admin
// endpoints; nil: none are asked.
type adminGuard struct {
	v         webhook.Verifier
	challenge string
}

// newAdminGuard builds the guard of h.admin_auth (nil when it asks for
// none); Build calls it, so `check` reports a problem as `run` would.
func newAdminGuard(h config.HTTP) (*adminGuard, error) {
	if !h.AdminGuarded() {
		return nil, nil
	}
	v, ch, err := webhook.HeaderAuth(h.AdminAuth)
	if err != nil {
		return nil, &config.KeyError{Key: "admin_auth", Err: err}
	}
	return &adminGuard{v: v, challenge: ch}, nil
}

// adminRoutes adds /healthz, /readyz, /metrics and /status to mux, behind
// the current guard (a reload may rotate its secret).
func (d *daemon) adminRoutes(mux *http.ServeMux) {
	guarded := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if g := d.admin.Load(); g != nil {
				if err := g.v.Verify(r.Header, nil); err != nil {
					d.log.Warn("admin request not authenticated", "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
					if g.challenge != "" {
						w.Header().Set("WWW-Authenticate", g.challenge)
					}
					writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "authentication required"})
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
	mux.Handle("GET /healthz", guarded(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})))
	mux.Handle("GET /readyz", guarded(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := d.readiness(r.Context())
		code := http.StatusOK
		if !rep.Ready {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, rep)
	})))
	mux.Handle("GET /metrics", guarded(d.m.Handler()))
	mux.Handle("GET /status", guarded(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := d.liveStatus(r.Context())
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})))
}

// adminHandler serves http.admin_listen: the admin endpoints only.
func (d *daemon) adminHandler() http.Handler {
	mux := http.NewServeMux()
	d.adminRoutes(mux)
	return mux
}
