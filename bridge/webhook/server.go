package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/metrics"
	"github.com/rtbridge/rtbridge/bridge/source"
)

// Options wires a Server.
type Options struct {
	Sink    source.Sink
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Kinds maps a config kind name (alertmanager, grafana) to its Kind;
	// "json" is built in.
	Kinds map[string]Kind
	// HMAC builds the verifier of an endpoint with `auth: {hmac: …}`.
	HMAC func(config.HMACAuth) (Verifier, error)
	// AcceptTimeout bounds the store's durable accept; default 10s.
	AcceptTimeout time.Duration
	// Limits bounds concurrent bodies (MaxConcurrentBodies, BodyWait) and
	// how long signed bodies are remembered (ReplayDedupWindow); zero
	// fields take the config defaults.
	Limits config.HTTPLimits
}

// MaxDedupKey bounds a delivery id taken from a header.
const MaxDedupKey = 256

// IdempotencyHeader is always honoured as a delivery id.
const IdempotencyHeader = "Idempotency-Key"

type endpoint struct {
	cfg       config.Webhook
	kind      Kind
	verifier  Verifier
	challenge string
}

// Server serves every configured webhook endpoint. Update swaps the set
// atomically (reload); Stop closes intake (503) while the daemon drains.
type Server struct {
	opts    Options
	table   atomic.Pointer[map[string]*endpoint]
	stopped atomic.Bool
	bodies  slots
}

// New builds the endpoints; any endpoint that cannot be built fails it all.
func New(hooks []config.Webhook, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AcceptTimeout <= 0 {
		opts.AcceptTimeout = 10 * time.Second
	}
	opts.Limits = opts.Limits.Resolved()
	s := &Server{opts: opts, bodies: newSlots(opts.Limits.MaxConcurrentBodies)}
	if err := s.Update(hooks); err != nil {
		return nil, err
	}
	return s, nil
}

// Update replaces the endpoints after building all of them; on error the
// old set stays.
func (s *Server) Update(hooks []config.Webhook) error {
	table := map[string]*endpoint{}
	var errs []error
	for _, h := range hooks {
		k, ok := s.opts.Kinds[h.Kind]
		if !ok && h.Kind == config.KindJSON {
			k, ok = JSONKind, true
		}
		if !ok {
			errs = append(errs, fmt.Errorf("webhook %s: kind %q is not available in this build", h.Name, h.Kind))
			continue
		}
		v, err := verifierFor(h.Auth, s.opts.HMAC)
		if err != nil {
			errs = append(errs, fmt.Errorf("webhook %s: %w", h.Name, err))
			continue
		}
		table[h.Path] = &endpoint{cfg: h, kind: k, verifier: v, challenge: challenge(h.Auth)}
		if s.opts.Metrics != nil {
			s.opts.Metrics.InitSource(h.Name)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	s.table.Store(&table)
	return nil
}

// Handles reports whether path is a configured endpoint.
func (s *Server) Handles(path string) bool {
	_, ok := (*s.table.Load())[path]
	return ok
}

// Stop makes every endpoint answer 503 (intake closed for shutdown).
func (s *Server) Stop() { s.stopped.Store(true) }

type reply struct {
	ID          string `json:"id,omitempty"`
	Duplicate   bool   `json:"duplicate,omitempty"`
	DuplicateOf string `json:"duplicate_of,omitempty"`
	Error       string `json:"error,omitempty"`
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, ok := (*s.table.Load())[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	code, rep := s.serve(w, r, ep)
	if s.opts.Metrics != nil {
		s.opts.Metrics.WebhookRequests.WithLabelValues(ep.cfg.Name, strconv.Itoa(code)).Inc()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(rep)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, ep *endpoint) (int, reply) {
	log := s.opts.Logger.With("source", ep.cfg.Name)
	if s.stopped.Load() {
		w.Header().Set("Retry-After", "5")
		return http.StatusServiceUnavailable, reply{Error: "rtbridge is stopping; retry later"}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return http.StatusMethodNotAllowed, reply{Error: "use POST"}
	}
	// Credentials in headers are checked before a byte of the body is read.
	_, early := ep.verifier.(headerOnly)
	if early {
		if code, rep, ok := s.auth(w, r, ep, nil, log); !ok {
			return code, rep
		}
	}
	if r.ContentLength > ep.cfg.MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, reply{Error: fmt.Sprintf("body larger than %d bytes", ep.cfg.MaxBodyBytes)}
	}
	// A body is read, and held until the store has it, only in a slot, so
	// a flood holds at most MaxConcurrentBodies bodies. 503, not 429:
	// Alertmanager's webhook retries any 5xx but drops a 4xx.
	if !s.bodies.acquire(r.Context(), s.opts.Limits.BodyWait) {
		log.Warn("webhook busy: every body slot is taken; sender told to retry", "remote", r.RemoteAddr, "slots", s.opts.Limits.MaxConcurrentBodies)
		w.Header().Set("Retry-After", "1")
		return http.StatusServiceUnavailable, reply{Error: "too many requests in flight; retry later"}
	}
	defer s.bodies.release()
	return s.serveBody(w, r, ep, early, log)
}

// serveBody reads the body, authenticates it when the scheme needs it,
// checks it and hands it to the store; the caller holds a body slot.
func (s *Server) serveBody(w http.ResponseWriter, r *http.Request, ep *endpoint, authenticated bool, log *slog.Logger) (int, reply) {
	body, err := readBody(w, r, ep.cfg.MaxBodyBytes)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return http.StatusRequestEntityTooLarge, reply{Error: fmt.Sprintf("body larger than %d bytes", mbe.Limit)}
		}
		return http.StatusBadRequest, reply{Error: "could not read the body: " + err.Error()}
	}
	if !authenticated {
		if code, rep, ok := s.auth(w, r, ep, body, log); !ok {
			return code, rep
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return http.StatusBadRequest, reply{Error: "empty body"}
	}
	if err := ep.kind.Check(body); err != nil {
		log.Info("webhook body refused", errAttr(err))
		return http.StatusBadRequest, reply{Error: err.Error()}
	}
	dedup, window := s.deliveryID(r, ep, body)
	if len(dedup) > MaxDedupKey {
		return http.StatusBadRequest, reply{Error: fmt.Sprintf("delivery id header longer than %d bytes", MaxDedupKey)}
	}
	meta := map[string]string{MetaPath: r.URL.Path}
	secretHeader := ""
	if ep.cfg.Auth.HMAC != nil {
		secretHeader = ep.cfg.Auth.HMAC.Header
	}
	safeHeaders(r.Header, secretHeader, meta)

	ctx, cancel := context.WithTimeout(r.Context(), s.opts.AcceptTimeout)
	defer cancel()
	acc, err := s.opts.Sink.Accept(ctx, source.Incoming{
		Source: ep.cfg.Name, Kind: ep.kind.Event, DedupKey: dedup, DedupWindow: window, Raw: bytes.NewReader(body), Meta: meta,
	})
	if err != nil {
		log.Error("store did not accept the event; sender told to retry", errAttr(err))
		w.Header().Set("Retry-After", "5")
		return http.StatusServiceUnavailable, reply{Error: "the event could not be stored; retry later"}
	}
	log.Info("event accepted", "event", acc.ID, "bytes", len(body), "duplicate_of", acc.DuplicateOf)
	return http.StatusAccepted, reply{ID: acc.ID, Duplicate: acc.Duplicate, DuplicateOf: acc.DuplicateOf}
}

// deliveryID is the event's dedup key and how long it holds. A signed
// body is keyed by the digest of its signed bytes, remembered for the
// replay dedup window (at least as long as its signature stays valid):
// delivery id headers are not signed, so a replayer could change them.
// Otherwise the endpoint's dedup header or Idempotency-Key, kept for good.
func (s *Server) deliveryID(r *http.Request, ep *endpoint, body []byte) (string, time.Duration) {
	if rk, ok := ep.verifier.(replayKeyer); ok {
		key, horizon := rk.ReplayKey(r.Header, body)
		return key, max(s.opts.Limits.ReplayDedupWindow, horizon)
	}
	dedup := r.Header.Get(IdempotencyHeader)
	if ep.cfg.DedupHeader != "" && r.Header.Get(ep.cfg.DedupHeader) != "" {
		dedup = r.Header.Get(ep.cfg.DedupHeader)
	}
	return dedup, 0
}

func (s *Server) auth(w http.ResponseWriter, r *http.Request, ep *endpoint, body []byte, log *slog.Logger) (int, reply, bool) {
	err := ep.verifier.Verify(r.Header, body)
	if err == nil {
		return 0, reply{}, true
	}
	// The reason goes to the log (never a secret), not to the sender.
	log.Warn("webhook request not authenticated", "remote", r.RemoteAddr, errAttr(err))
	if ep.challenge != "" {
		w.Header().Set("WWW-Authenticate", ep.challenge)
	}
	return http.StatusUnauthorized, reply{Error: "authentication required"}, false
}

// readBody reads at most limit bytes. A declared length is read into one
// buffer of that size (io.ReadAll would grow it by doubling and hold up to
// twice the body while copying).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength <= 0 {
		return io.ReadAll(rd)
	}
	// bytes.Buffer wants 512 bytes free before each read, so the final
	// read (of EOF) does not grow a buffer of the exact size.
	buf := bytes.NewBuffer(make([]byte, 0, r.ContentLength+bytes.MinRead))
	_, err := buf.ReadFrom(rd)
	return buf.Bytes(), err
}
