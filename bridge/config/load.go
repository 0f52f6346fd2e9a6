package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in the file, at a position.
type Error struct {
	File      string
	Line, Col int    // 0 when the problem has no position (e.g. an unreadable file)
	Path      string // key path, e.g. "webhooks[1].auth"
	Msg       string
	Err       error // the cause, when the problem came from one (errors.Is/As)
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

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Load reads, checks and completes the config at path for `run`, `check`
// and reload: every section is decoded, defaulted and validated, and every
// secret file is read. All problems are returned at once (errors.Join of
// *Error), each as FILE:LINE:COL: key: what. With problems, the Config is
// returned too when the file is YAML, holding what could be decoded, so a
// caller can report the rules' problems with them; it must not be run.
func Load(path string) (*Config, error) {
	return load(path, osLookup, false)
}

// LoadForOps loads the config for commands that use no secret (status,
// deadletter, test): secrets are not read and their ${ENV} references may be
// unset (an operator's shell has no $CREDENTIALS_DIRECTORY). Everything else
// is checked as by Load.
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
		return nil, syntaxError(path, data, err)
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
	c.pos = d.pos
	c.pos[""] = d.root
	if len(d.errs) > 0 {
		return c, errors.Join(d.errs...)
	}
	return c, nil
}

// ErrorIn reports err, a problem of the section at path (e.g. "imap[0]"),
// found after Load (a CA file without a certificate): at the key a
// *KeyError in it names, else at the section; at the nearest enclosing
// section that is in the file when the key is not.
func (c *Config) ErrorIn(path string, err error) error {
	var ke *KeyError
	if errors.As(err, &ke) {
		path, err = join(path, ke.Key), ke.Err
	}
	e := &Error{File: c.File, Path: path, Msg: err.Error(), Err: err}
	if n := (&decoder{pos: c.pos, root: c.pos[""]}).at(path); n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	return e
}

// KeyError is a problem of one key of a section, found by the code that
// uses the section (a CA file that holds no certificate); Key is relative
// to the section (ca_file, kerberos.keytab_file).
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *KeyError) Unwrap() error { return e.Err }

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError positions a YAML syntax error. yaml.v3 reports only the
// line; the column is where the shortest prefix of that line that fails
// the same way ends, which is the offending character.
func syntaxError(path string, data []byte, err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "yaml: "), Err: err}
	}
	line, _ := strconv.Atoi(m[1])
	e := &Error{File: path, Line: line, Col: 1, Msg: m[2], Err: err}
	lines := strings.SplitAfter(string(data), "\n")
	if line < 1 || line > len(lines) {
		return e
	}
	before := strings.Join(lines[:line-1], "")
	text := strings.TrimRight(lines[line-1], "\r\n")
	// The first non-blank column, unless a prefix fails (one parse each,
	// so the search is bounded).
	e.Col = len(text) - len(strings.TrimLeft(text, " \t")) + 1
	for col := 1; col <= min(len(text), 1024); col++ {
		var n yaml.Node
		if perr := yaml.Unmarshal([]byte(before+text[:col]), &n); perr != nil && perr.Error() == err.Error() {
			e.Col = col
			break
		}
	}
	return e
}

// Dir is the directory relative paths in the config are resolved against.
func (c *Config) Dir() string { return filepath.Dir(c.File) }

// Abs makes *p, a path the config names, absolute against Dir ("" stays "").
func (c *Config) Abs(p *string) {
	if *p != "" && !filepath.IsAbs(*p) {
		*p = filepath.Join(c.Dir(), *p)
	}
}

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
	c.Rules, c.Templates, c.NoMatch = yaml.Node{}, yaml.Node{}, yaml.Node{}
	return c
}
