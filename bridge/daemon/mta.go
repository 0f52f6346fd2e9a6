package daemon

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/mailflow"
	"github.com/rtbridge/rtbridge/bridge/mtasource"
	"github.com/rtbridge/rtbridge/bridge/source"
)

// addMTAPolicy adds the mail policy of the mta section (loops, automatic
// mail, subject tags) to policies, under the MTA source's name.
func addMTAPolicy(cfg *config.Config, policies map[string]mailflow.Policy) error {
	m, err := cfg.MTASource()
	if err != nil || m == nil {
		return err
	}
	p, err := mailflow.MTAPolicy(*m)
	if err != nil {
		return err
	}
	policies[m.Name] = p
	return nil
}

// mtaSources opens the MTA intake (mailgate socket, LMTP) when the config
// has one. Like the IMAP accounts it takes effect at start.
func mtaSources(cfg *config.Config, log *slog.Logger) ([]source.Source, error) {
	m, err := cfg.MTASource()
	if err != nil || m == nil {
		return nil, err
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
