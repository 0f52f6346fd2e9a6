package daemon

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// config.example.yaml loads (secrets from a stand-in credentials
// directory), its IMAP section and rules compile, and it mentions every
// key of the config structs.
func TestConfigExample(t *testing.T) {
	creds := t.TempDir()
	for _, n := range []string{"rt-token", "webhook-token", "alertmanager-password", "grafana-hmac", "imap-password", "admin-token"} {
		os.WriteFile(filepath.Join(creds, n), []byte("x-"+n+"\n"), 0o600)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	path := filepath.Join(testenv.RepoRoot(), "config.example.yaml")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CompileRules(cfg); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(path)
	for _, key := range yamlKeys(reflect.TypeOf(config.Config{}), map[reflect.Type]bool{}) {
		if !strings.Contains(string(text), key+":") {
			t.Errorf("config.example.yaml does not document %q", key)
		}
	}
}

// yamlKeys lists the yaml keys of a struct type and of the structs it
// holds (config.IMAP too: the imap section is decoded by its own call).
func yamlKeys(t reflect.Type, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() != reflect.TypeOf(config.Config{}).PkgPath() {
		return nil
	}
	seen[t] = true
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		keys = append(keys, tag)
		keys = append(keys, yamlKeys(f.Type, seen)...)
	}
	if t == reflect.TypeOf(config.Config{}) {
		keys = append(keys, yamlKeys(reflect.TypeOf(config.IMAP{}), seen)...)
	}
	return keys
}
