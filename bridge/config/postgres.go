package config

import (
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Postgres selects the PostgreSQL store (state.postgres), which several
// rtbridge instances on different hosts share; without it the store is
// SQLite in state.dir, for one host.
type Postgres struct {
	// DSN is a postgres:// URL or a key=value list; DSNFile reads it from
	// a file instead (it usually holds a password).
	DSN     Secret `yaml:"dsn"`
	DSNFile string `yaml:"dsn_file"`
	// MaxConns bounds the connection pool; default 10.
	MaxConns int `yaml:"max_conns"`
	// SSLMode and CAFile set libpq's sslmode and sslrootcert, over what
	// the DSN says.
	SSLMode string `yaml:"sslmode"`
	CAFile  string `yaml:"ca_file"`
	// LeaseTTL is how long a dead instance's events and mailboxes stay
	// claimed before another instance takes them over; default 15s.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// Defaults of state.postgres.
const (
	DefaultPostgresMaxConns = 10
	DefaultPostgresLeaseTTL = 15 * time.Second
)

var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// resolvePostgres applies the defaults, makes ca_file absolute and reads
// dsn_file. The DSN is read even for operator commands (which skip other
// secrets): status and deadletter need it to reach the store at all.
func (d *decoder) resolvePostgres(c *Config) {
	p := c.State.Postgres
	if p == nil {
		return
	}
	setDefault(&p.MaxConns, DefaultPostgresMaxConns)
	setDefault(&p.LeaseTTL, DefaultPostgresLeaseTTL)
	if p.CAFile != "" && !filepath.IsAbs(p.CAFile) {
		p.CAFile = filepath.Join(c.Dir(), p.CAFile)
	}
	skip := d.skipSecrets
	d.skipSecrets = false
	d.secret(c, &p.DSN, &p.DSNFile, "state.postgres", "dsn")
	d.skipSecrets = skip
}

func (d *decoder) validatePostgres(c *Config) {
	p := c.State.Postgres
	if p == nil {
		return
	}
	const sec = "state.postgres"
	if p.DSN == "" && p.DSNFile == "" {
		d.errorf(d.at(sec), sec, "needs dsn or dsn_file")
	}
	if p.MaxConns < 1 || p.MaxConns > 1000 {
		d.errorf(d.at(sec+".max_conns"), sec+".max_conns", "must be 1..1000; got %d", p.MaxConns)
	}
	if p.SSLMode != "" && !slices.Contains(sslModes, p.SSLMode) {
		d.errorf(d.at(sec+".sslmode"), sec+".sslmode", "must be one of %s; got %q", strings.Join(sslModes, ", "), p.SSLMode)
	}
	if p.LeaseTTL < 3*time.Second {
		d.errorf(d.at(sec+".lease_ttl"), sec+".lease_ttl", "must be at least 3s (it is renewed every third); got %s", p.LeaseTTL)
	}
}

// ConnString is the DSN with sslmode and ca_file applied.
func (p *Postgres) ConnString() string {
	dsn := string(p.DSN)
	params := [][2]string{}
	if p.SSLMode != "" {
		params = append(params, [2]string{"sslmode", p.SSLMode})
	}
	if p.CAFile != "" {
		params = append(params, [2]string{"sslrootcert", p.CAFile})
	}
	if len(params) == 0 {
		return dsn
	}
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		for _, kv := range params {
			q.Set(kv[0], kv[1])
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	// key=value form: a later key wins.
	for _, kv := range params {
		v := strings.ReplaceAll(strings.ReplaceAll(kv[1], `\`, `\\`), `'`, `\'`)
		dsn += " " + kv[0] + "='" + v + "'"
	}
	return dsn
}
