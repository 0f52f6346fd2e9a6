// Package config loads rtbridge's one YAML file: strictly (an unknown key is
// an error naming FILE:LINE:COL), with secrets read from *_file paths,
// ${ENV} expansion and systemd credentials ($CREDENTIALS_DIRECTORY).
//
// The rules and templates sections are kept as YAML nodes and compiled by
// package rules, which reports its own positions in the same file.
package config

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole file.
type Config struct {
	RT    RT    `yaml:"rt"`
	State State `yaml:"state"`
	Log   Log   `yaml:"log"`

	// Rules and Templates are compiled by package rules (rules.Compile).
	Rules     yaml.Node `yaml:"rules"`
	Templates yaml.Node `yaml:"templates"`

	// File is the path the config was loaded from; relative paths in it are
	// resolved against its directory.
	File string `yaml:"-"`
}

// RT is how to reach Request Tracker.
type RT struct {
	URL                string        `yaml:"url"`  // base URL (https://rt.example.com/) or …/REST/1.0/
	API                string        `yaml:"api"`  // rest1 (default) or rest2
	Auth               string        `yaml:"auth"` // basic, query, cookie (default), token, kerberos
	User               string        `yaml:"user"`
	Password           Secret        `yaml:"password"`
	PasswordFile       string        `yaml:"password_file"`
	Token              Secret        `yaml:"token"`
	TokenFile          string        `yaml:"token_file"`
	Timeout            time.Duration `yaml:"timeout"` // per request; default 30s
	CAFile             string        `yaml:"ca_file"`
	InsecureSkipVerify bool          `yaml:"insecure_skip_verify"`
	// IdempotencyField names a ticket custom field in which every created
	// ticket records its event key, so an ambiguous create is reconciled by
	// searching RT instead of creating a second ticket.
	IdempotencyField string `yaml:"idempotency_field"`
	// MaxConcurrency bounds concurrent RT requests (RT on SQLite gains
	// nothing from more than 1 writer).
	MaxConcurrency int `yaml:"max_concurrency"`
}

// State is where the durable store lives.
type State struct {
	Dir string `yaml:"dir"` // default /var/lib/rtbridge
}

// Log configures log/slog output.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // text (default) or json
}

// Secret is a string that never prints: it marshals and formats as <secret>.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<secret>"
}

// MarshalYAML hides the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }
