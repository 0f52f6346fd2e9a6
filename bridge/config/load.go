package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Error is one problem in the file, at a position.
type Error struct {
	File      string
	Line, Col int    // 0 when the problem has no position (e.g. an unreadable file)
	Path      string // key path, e.g. "webhooks[1].auth"
	Msg       string
}

func (e *Error) Error() string {
	prefix := e.File
	if e.Line > 0 {
		prefix = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
	}
	if e.Path == "" {
		return prefix + ": " + e.Msg
	}
	return prefix + ": " + e.Path + ": " + e.Msg
}

// Load reads, checks and completes the config at path. All problems are
// returned at once (errors.Join of *Error), each as FILE:LINE:COL: key: what.
// Secret files are read now; a reload (SIGHUP) reads them again.
func Load(path string) (*Config, error) {
	return load(path, osLookup, false)
}

// LoadForOps loads the config for operator commands (status, deadletter)
// that need only the state directory and the HTTP address: secrets are not
// read and their ${ENV} references may be unset (an operator's shell has no
// $CREDENTIALS_DIRECTORY). Everything else is checked as by Load.
func LoadForOps(path string) (*Config, error) {
	return load(path, osLookup, true)
}

func load(path string, lookup func(string) (string, bool), skipSecrets bool) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	c := &Config{File: path}
	d := &decoder{file: path, lookup: lookup, pos: map[string]*yaml.Node{}, root: &doc, skipSecrets: skipSecrets}
	if len(doc.Content) > 0 {
		d.root = doc.Content[0]
		d.walk(d.root, reflect.ValueOf(c).Elem(), "")
	}
	c.applyDefaults()
	d.resolve(c)
	d.validate(c)
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return c, nil
}

// Dir is the directory relative paths in the config are resolved against.
func (c *Config) Dir() string { return filepath.Dir(c.File) }

// Redacted renders the config as YAML with every secret shown as <secret>,
// for logs and `rtbridge check --print`.
func (c *Config) Redacted() string {
	out, err := yaml.Marshal(redactable(*c))
	if err != nil {
		return "# cannot render config: " + err.Error()
	}
	return string(out)
}

// redactable drops the raw YAML sections (marshalled separately by their
// owners) so the rest renders without surprises.
func redactable(c Config) Config {
	c.IMAP, c.Rules, c.Templates, c.NoMatch = yaml.Node{}, yaml.Node{}, yaml.Node{}, yaml.Node{}
	return c
}
