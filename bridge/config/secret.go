package config

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret is a string that never prints: every formatter, marshaller and
// slog sees <secret>. string(s) gives the value to the code that needs it.
type Secret string

const hidden = "<secret>"

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return hidden
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalYAML hides the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText hides the value (encoding/xml, flag, …).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// ReadSecretFile reads a secret from a file, dropping trailing newlines
// (echo and systemd-creds add one). An empty secret is an error; the error
// names the path, never the content.
func ReadSecretFile(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("file %s is empty", path)
	}
	return Secret(s), nil
}
