// Package imapsource feeds mail from IMAP folders into the store: one Source
// per folder, IDLE where the server offers it and polling otherwise,
// reconnecting after any error (see backoff.go).
//
// Progress is a cursor (UIDVALIDITY, last UID accepted) kept in the store,
// never the \Seen flag, so a human reading the mailbox changes nothing. A
// message is streamed from the FETCH literal into Sink.Accept; only after
// the store committed it does the cursor advance. What happens to the
// message on the server (seen, move, delete, failure folder) waits until the
// event is final: see Finish.
package imapsource

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/source"
)

// Origin keys this source stores with each event and reads back in Finish.
const (
	OriginFolder      = "folder"
	OriginUIDValidity = "uidvalidity"
	OriginUID         = "uid"
	// OriginOversize is set ("bytes") when the message was larger than
	// max_message_bytes: only its header was stored, the full message stays
	// on the server, and a delete disposition is downgraded to seen.
	OriginOversize = "oversize"
)

// Source reads one folder of one IMAP account.
type Source struct {
	cfg     config.IMAP
	folder  string
	name    string
	cursors source.Cursors
	log     *slog.Logger
	tls     *tls.Config
	tok     *tokens // auth: oauth2; shared by the folders of the account
	pw      password

	mu      sync.Mutex
	st      Status
	failing map[string]string // disposition target → its latest error

	fin   finisher
	lease *lease // the folder's mailbox lease (always held on a single host)
}

// Status is what `rtbridge status` and /readyz show for a source.
type Status struct {
	Name        string       `json:"name"`
	Address     string       `json:"address"`
	Folder      string       `json:"folder"`
	Connected   bool         `json:"connected"`
	Idling      bool         `json:"idling"`
	UIDValidity uint32       `json:"uidvalidity"`
	LastUID     uint32       `json:"last_uid"`
	LastCheck   time.Time    `json:"last_check"`  // last successful search for new mail
	LastAccept  time.Time    `json:"last_accept"` // last message committed
	Accepted    int64        `json:"accepted"`
	Reconnects  int64        `json:"reconnects"`
	Errors      int64        `json:"errors"` // sessions that failed
	Logins      int64        `json:"logins"`
	Auth        string       `json:"auth"`                // password or oauth2
	Mechanism   string       `json:"mechanism,omitempty"` // SASL mechanism of the last OAuth2 login
	OAuth2      *TokenStatus `json:"oauth2,omitempty"`    // auth: oauth2
	LastError   string       `json:"last_error,omitempty"`
	LastErrorAt time.Time    `json:"last_error_at,omitzero"`
	RetryAt     time.Time    `json:"retry_at,omitzero"`
	// Degraded names the dispositions that keep failing (mail left where
	// it is), e.g. a move to a folder that does not exist.
	Degraded      string    `json:"degraded,omitempty"`
	DegradedSince time.Time `json:"degraded_since,omitzero"`
	// Lease is "held" or "standby" (another instance polls the folder)
	// when instances share the store; empty on a single host.
	Lease string `json:"lease,omitempty"`
	err   error
}

// NewAll returns one Source per folder of the account. cursors is the
// store (with auth: oauth2 it also keeps a rotated refresh token when it
// implements TokenStore); log may be nil.
func NewAll(cfg config.IMAP, cursors source.Cursors, log *slog.Logger) ([]*Source, error) {
	var out []*Source
	for _, f := range cfg.Folders {
		s, err := New(cfg, f, cursors, log)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			s.tok = out[0].tok // one token (and refresh token) per account
		}
		out = append(out, s)
	}
	return out, nil
}

// New returns the source for one folder. Its name is "<account>/<folder>".
// cfg is as config.Load completed it (defaults applied, values checked).
func New(cfg config.IMAP, folder string, cursors source.Cursors, log *slog.Logger) (*Source, error) {
	if cursors == nil {
		return nil, errors.New("imapsource: no cursor store")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _, err := net.SplitHostPort(cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("imapsource: address %q: %w", cfg.Address, err)
	}
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if cfg.ServerName != "" {
		tc.ServerName = cfg.ServerName
	}
	if cfg.CAFile != "" {
		if tc.RootCAs, err = config.LoadCertPool(cfg.CAFile); err != nil {
			return nil, &config.KeyError{Key: "ca_file", Err: err}
		}
	}
	name := cfg.Name + "/" + folder
	s := &Source{cfg: cfg, folder: folder, name: name, cursors: cursors, tls: tc,
		log: log.With("source", name)}
	s.st = Status{Name: name, Address: cfg.Address, Folder: folder, Auth: config.AuthPassword}
	s.pw.p = cfg.Password
	if cfg.Auth == config.AuthOAuth2 {
		if cfg.OAuth2 == nil {
			return nil, errors.New("imapsource: auth oauth2 without an oauth2 block")
		}
		ts, _ := cursors.(TokenStore)
		s.tok = newTokens(*cfg.OAuth2, cfg.Name, ts, log.With("imap", cfg.Name))
		s.st.Auth = config.AuthOAuth2
	}
	s.fin.s = s
	s.lease = newLease(nil, name, 0)
	return s, nil
}

// UseLease makes the source poll its folder, and run its dispositions, only
// while this instance holds the folder's mailbox lease in l (a store that
// several instances share); ttl is how soon another instance takes over
// from one that died. Call it before Run. The lease is named after the
// source (Name).
func (s *Source) UseLease(l Leaser, ttl time.Duration) {
	s.lease = newLease(l, s.name, ttl)
	s.st.Lease = "standby"
}

// LeaseHeld reports whether this instance holds the folder's mailbox lease
// (always on a single host).
func (s *Source) LeaseHeld() bool { return s.lease.l == nil || !s.lease.heldUntil().IsZero() }

// Name is the configured source name.
func (s *Source) Name() string { return s.name }

// Health is nil while the source is connected and checking mail, else the
// latest problem (wrong password, server unreachable, …).
func (s *Source) Health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.err
}

// Status returns a snapshot for `rtbridge status`.
func (s *Source) Status() Status {
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	if s.tok != nil {
		ts := s.tok.Status()
		st.OAuth2 = &ts
	}
	return st
}

// TokenStatus is the OAuth2 token state of the source's account; ok is
// false for password accounts.
func (s *Source) TokenStatus() (ts TokenStatus, ok bool) {
	if s.tok == nil {
		return TokenStatus{}, false
	}
	return s.tok.Status(), true
}

func (s *Source) update(f func(st *Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
}

func (s *Source) fail(err error, retryAt time.Time) {
	s.update(func(st *Status) {
		st.err = err
		st.Errors++
		st.LastError = err.Error()
		st.LastErrorAt = time.Now()
		st.RetryAt = retryAt
		st.Connected, st.Idling = false, false
	})
}

// Run reads the folder until ctx ends. Failures are retried after a delay
// (see retryDelay) and shown by Health; Run returns nil when ctx ends.
//
// It polls only while it holds the mailbox lease: a standby tries for it
// every fifth of the TTL; a holder that loses it closes its connections
// at once. A clean stop releases it, so a standby takes over at once.
func (s *Source) Run(ctx context.Context, sink source.Sink) error {
	defer s.fin.close()
	defer func() {
		if err := s.lease.release(context.WithoutCancel(ctx)); err != nil {
			s.log.Warn("could not release the mailbox lease; another instance takes over when it lapses", "err", err)
		}
	}()
	for {
		if !s.lease.wait(ctx, s.standby) {
			return nil
		}
		if s.lease.l != nil {
			s.log.Info("mailbox lease acquired; polling the folder")
			s.update(func(st *Status) { st.Lease = "held" })
		}
		hctx, lose := context.WithCancelCause(ctx)
		kept := make(chan struct{})
		go func() {
			defer close(kept)
			s.lease.keep(hctx, lose)
		}()
		s.poll(hctx, sink)
		lose(nil)
		<-kept
		s.fin.close() // no disposition on a lease this instance may have lost
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("mailbox lease lost; IMAP session closed", "err", context.Cause(hctx))
		s.update(func(st *Status) { st.Lease = "standby" })
	}
}

// standby records that another instance holds the mailbox lease (err: the
// store could not be asked). Standing by is healthy: an earlier session's
// error is no longer this source's problem.
func (s *Source) standby(err error) {
	s.update(func(st *Status) { st.Lease, st.Connected, st.Idling, st.err = "standby", false, false, err })
	if err != nil {
		s.log.Warn("mailbox lease: store unavailable; retrying", "err", err)
		return
	}
	s.log.Info("mailbox lease held by another instance; standing by")
}

// poll runs sessions until ctx ends.
func (s *Source) poll(ctx context.Context, sink source.Sink) {
	var b backoff
	for {
		start := time.Now()
		selected, err := s.session(ctx, sink)
		if ctx.Err() != nil {
			s.update(func(st *Status) { st.Connected, st.Idling = false, false })
			return
		}
		if errors.Is(err, errRelogin) {
			s.log.Info("oauth2 token near expiry; logging in again with a new one")
			s.update(func(st *Status) { st.Connected, st.Idling = false, false })
			if time.Since(start) < time.Second {
				// Tokens that last a few seconds only: no tighter loop
				// against the token endpoint and the server.
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
			continue
		}
		if err == nil {
			err = errors.New("connection ended")
		}
		if selected {
			b.reset() // the session worked: a new failure starts over
		}
		wait := b.next(err)
		s.fail(err, time.Now().Add(wait))
		s.log.Warn("imap session failed; reconnecting", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		s.update(func(st *Status) { st.Reconnects++ })
	}
}
