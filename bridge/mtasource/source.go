package mtasource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/source"
)

// Source is the MTA intake: the mailgate socket and the LMTP listener,
// whichever the config has. Its listeners open in New, so a socket
// problem stops the start and the MTA never sees a half-started daemon;
// they take mail only once Run has the store.
type Source struct {
	name            string
	log             *slog.Logger
	sink            atomic.Pointer[source.Sink]
	mailgate        net.Listener
	lmtp            net.Listener
	lmtpSrv         *smtp.Server
	mailgateHandler *mailgateHandler
	health          atomic.Pointer[error]
}

// Options are New's dependencies.
type Options struct {
	Logger *slog.Logger
	// TmpDir holds a mail with several LMTP recipients while it is
	// stored once per recipient; default os.TempDir().
	TmpDir string
}

// New opens the configured listeners.
func New(c *config.MTA, o Options) (*Source, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Source{name: c.Name, log: o.Logger.With("source", c.Name)}
	in := intake{source: c.Name, defaultQueue: c.DefaultQueue, maxBytes: c.MaxMessageBytes}
	sink := func() source.Sink {
		if p := s.sink.Load(); p != nil {
			return *p
		}
		return nil
	}
	if g := c.Mailgate; g != nil {
		mode, err := config.SocketMode(g.Mode)
		if err != nil {
			return nil, fmt.Errorf("mta.mailgate: %w", err)
		}
		if s.mailgate, err = listenUnix(g.Socket, mode, g.Group); err != nil {
			return nil, fmt.Errorf("mta.mailgate: %w", err)
		}
	}
	if l := c.LMTP; l != nil {
		ln, err := listenLMTP(*l)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("mta.lmtp: %w", err)
		}
		s.lmtp = ln
		srv := smtp.NewServer(&lmtpBackend{in: in, routes: router(l.Routes), sink: sink, tmpDir: o.TmpDir, log: s.log})
		srv.LMTP = true
		srv.Domain = "rtbridge"
		srv.MaxMessageBytes = c.MaxMessageBytes + 64<<10 // our own limit answers first, with our text
		srv.MaxRecipients = 100
		srv.ReadTimeout, srv.WriteTimeout = 10*time.Minute, time.Minute
		srv.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
		s.lmtpSrv = srv
	}
	s.mailgateHandler = &mailgateHandler{in: in, sink: sink, log: s.log}
	return s, nil
}

func listenLMTP(l config.LMTPListener) (net.Listener, error) {
	if p := l.UnixPath(); p != "" {
		mode, err := config.SocketMode(l.Mode)
		if err != nil {
			return nil, err
		}
		return listenUnix(p, mode, l.Group)
	}
	return net.Listen("tcp", l.Listen)
}

// Name is the source name.
func (s *Source) Name() string { return s.name }

// Health is nil while the listeners serve.
func (s *Source) Health() error {
	if p := s.health.Load(); p != nil {
		return *p
	}
	return nil
}

// Run serves until ctx ends, then stops taking mail; mail in flight
// finishes its commit (or fails, and the MTA keeps it).
func (s *Source) Run(ctx context.Context, sink source.Sink) error {
	s.sink.Store(&sink)
	var wg sync.WaitGroup
	var hs *http.Server
	if s.mailgate != nil {
		hs = &http.Server{Handler: s.mailgateHandler, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
		wg.Go(func() { s.served("mailgate", hs.Serve(s.mailgate), http.ErrServerClosed) })
	}
	if s.lmtpSrv != nil {
		wg.Go(func() { s.served("lmtp", s.lmtpSrv.Serve(s.lmtp), smtp.ErrServerClosed) })
	}
	s.log.Info("mta intake listening", "mailgate", addrOf(s.mailgate), "lmtp", addrOf(s.lmtp))
	<-ctx.Done()
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if hs != nil {
		if err := hs.Shutdown(stop); err != nil {
			s.log.Warn("mailgate shutdown", "err", err)
		}
	}
	if s.lmtpSrv != nil {
		// Close, not Shutdown: Postfix keeps idle LMTP connections open for
		// a while, and a session in LMTPData still answers its recipients.
		s.lmtpSrv.Close()
	}
	wg.Wait()
	return nil
}

func (s *Source) served(what string, err, closed error) {
	if err != nil && !errors.Is(err, closed) && !errors.Is(err, net.ErrClosed) {
		e := fmt.Errorf("%s listener: %w", what, err)
		s.health.Store(&e)
		s.log.Error("mta listener stopped", "listener", what, "err", err)
	}
}

func (s *Source) close() {
	if s.mailgate != nil {
		s.mailgate.Close()
	}
	if s.lmtp != nil {
		s.lmtp.Close()
	}
}

func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}
