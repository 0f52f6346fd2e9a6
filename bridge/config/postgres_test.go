package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func loadPostgres(t *testing.T, pg string, ops bool) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pg.dsn"), []byte("postgres://rtbridge:pw-from-file@db.example.org/rtbridge\n"), 0o600)
	path := filepath.Join(dir, "c.yaml")
	body := "rt:\n  url: http://127.0.0.1:18080/\n  auth: token\n  token: t\nstate:\n  postgres:\n" + pg
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return load(path, testEnv, ops)
}

func TestPostgresDSNFileAndDefaults(t *testing.T) {
	for _, ops := range []bool{false, true} { // operator commands need the DSN too
		c, err := loadPostgres(t, "    dsn_file: pg.dsn\n", ops)
		if err != nil {
			t.Fatal(err)
		}
		p := c.State.Postgres
		if p.DSN != "postgres://rtbridge:pw-from-file@db.example.org/rtbridge" || p.MaxConns != DefaultPostgresMaxConns || p.LeaseTTL != DefaultPostgresLeaseTTL {
			t.Fatalf("ops=%v: %+v", ops, p)
		}
		if r := c.Redacted(); strings.Contains(r, "pw-from-file") {
			t.Fatalf("redacted config shows the DSN:\n%s", r)
		}
	}
}

func TestPostgresErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"    max_conns: 5\n", "c.yaml:7:5: state.postgres: needs dsn or dsn_file"},
		{"    dsn: postgres://x\n    dsn_file: pg.dsn\n", "c.yaml:8:15: state.postgres.dsn_file: dsn and dsn_file are mutually exclusive"},
		{"    dsn: postgres://x\n    sslmode: verify\n", "c.yaml:8:14: state.postgres.sslmode: must be one of disable, allow, prefer, require, verify-ca, verify-full"},
		{"    dsn: postgres://x\n    max_conns: 0\n    lease_ttl: 1s\n", "state.postgres.lease_ttl: must be at least 3s"},
		{"    dsn: postgres://x\n    max_conns: 5000\n", "c.yaml:8:16: state.postgres.max_conns: must be 1..1000; got 5000"},
	} {
		_, err := loadPostgres(t, tc.yaml, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestPostgresConnString(t *testing.T) {
	p := Postgres{DSN: "postgres://u:p@db/rt?sslmode=disable&pool_max_conns=3", SSLMode: "verify-full", CAFile: "/etc/ssl/db ca.pem"}
	if got := p.ConnString(); got != "postgres://u:p@db/rt?pool_max_conns=3&sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fdb+ca.pem" {
		t.Errorf("URL form: %s", got)
	}
	p.DSN = "host=db user=u dbname=rt sslmode=disable"
	if got := p.ConnString(); got != `host=db user=u dbname=rt sslmode=disable sslmode='verify-full' sslrootcert='/etc/ssl/db ca.pem'` {
		t.Errorf("key=value form: %s", got)
	}
	p = Postgres{DSN: "host=db", LeaseTTL: time.Second}
	if p.ConnString() != "host=db" {
		t.Error("a DSN without TLS options changed")
	}
}
