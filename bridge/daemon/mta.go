package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/executor"
	"github.com/rtbridge/rtbridge/bridge/mailflow"
	"github.com/rtbridge/rtbridge/bridge/metrics"
	"github.com/rtbridge/rtbridge/bridge/mtasource"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
)

// addMTAPolicy adds the mail policy of the mta section (loops, automatic
// mail, subject tags) to policies, under the MTA source's name.
func addMTAPolicy(cfg *config.Config, policies map[string]mailflow.Policy) error {
	m := cfg.MTA
	if m == nil {
		return nil
	}
	p, err := mailflow.MTAPolicy(*m)
	if err != nil {
		return err
	}
	policies[m.Name] = p
	return nil
}

// mtaSources opens the MTA intake (mailgate socket, LMTP) when the config
// has one. Like the IMAP accounts it takes effect at start. It binds its
// sockets, so it is not one of the parts Build (and check) makes.
func mtaSources(cfg *config.Config, log *slog.Logger) ([]source.Source, error) {
	m := cfg.MTA
	if m == nil {
		return nil, nil
	}
	tmp := filepath.Join(cfg.State.Dir, "mta-tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	s, err := mtasource.New(m, mtasource.Options{Logger: log, TmpDir: tmp})
	if err != nil {
		return nil, err
	}
	return []source.Source{s}, nil
}

// gateway is RT's own mail gateway (posted without RT credentials, as
// rt-mailgate does) plus the REST2 search that reconciles a post nobody
// answered.
type gateway struct {
	post *rtapi.Client
	find *rest2.Client
}

func (g gateway) MailGateway(ctx context.Context, m rtapi.GatewayMail) (rtapi.GatewayResult, error) {
	return g.post.MailGateway(ctx, m)
}

func (g gateway) TicketByMessageID(ctx context.Context, id string) (int, error) {
	return g.find.TicketByMessageID(ctx, id)
}

// mtaGateway returns the gateway when the RT access can reconcile a post
// (rules and sources with deliver: gateway are refused otherwise), else
// nil. It connects nowhere, and a reload may add a gateway rule.
func mtaGateway(cfg *config.Config, m *metrics.Metrics, log *slog.Logger) (executor.Gateway, error) {
	if cfg.RT.GatewayProblem() != "" {
		return nil, nil
	}
	hc, auth, err := rtTransport(cfg.RT, m, log)
	if err != nil {
		return nil, err
	}
	post, err := rtapi.New(rtapi.Config{URL: cfg.RT.URL, HTTPClient: hc, Logger: log, Timeout: cfg.RT.Timeout})
	if err != nil {
		return nil, err
	}
	find, err := rest2.New(rest2.Config{URL: cfg.RT.URL, Auth: auth, HTTPClient: hc, Logger: log, Timeout: cfg.RT.Timeout, Attempts: 2})
	if err != nil {
		return nil, err
	}
	return gateway{post, find}, nil
}
