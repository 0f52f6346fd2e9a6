package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/internal/doccheck"
	"github.com/rtbridge/rtbridge/rules"
)

// configKeys are the config file's top-level keys.
var configKeys = map[string]bool{"rt": true, "state": true, "log": true, "http": true, "webhooks": true, "executor": true,
	"imap": true, "mta": true, "rules": true, "templates": true, "no_match": true}

// TestDocsConfigSnippets loads every ```yaml block of the manual that is
// rtbridge config with the real loader and compiles its rules, so a key,
// value or template the manual shows is one the daemon takes. A snippet
// without an rt: section gets a placeholder one; one that uses templates
// defined in another snippet of its page gets that page's templates:.
// Secrets are not read (as for status and deadletter), since the files a
// snippet names are the reader's. Blocks for other programs (an
// alertmanager.yml) have none of the config's keys and are left alone.
func TestDocsConfigSnippets(t *testing.T) {
	_, docs := manual(t)
	n := 0
	for _, d := range docs {
		var pageTemplates string
		for _, b := range d.Blocks {
			if b.Lang == "yaml" && strings.HasPrefix(b.Text(), "templates:") {
				pageTemplates, _, _ = strings.Cut(b.Text(), "\nrules:")
				break
			}
		}
		for _, b := range d.Blocks {
			if b.Lang != "yaml" {
				continue
			}
			keys, err := topKeys(b.Text())
			if err != nil {
				t.Errorf("%s: not YAML: %v", b.Where, err)
				continue
			}
			mine := 0
			for _, k := range keys {
				if configKeys[k] {
					mine++
				}
			}
			if mine == 0 {
				continue
			}
			n++
			if mine != len(keys) {
				t.Errorf("%s: top-level keys %v: some are not rtbridge config keys", b.Where, keys)
				continue
			}
			loadSnippet(t, b, keys, pageTemplates)
		}
	}
	if n < 8 {
		t.Fatalf("found only %d config snippets in the manual", n)
	}
}

func loadSnippet(t *testing.T, b doccheck.Block, keys []string, pageTemplates string) {
	t.Helper()
	text := b.Text()
	if !contains(keys, "rt") {
		text = "rt: { url: \"https://rt.example.com/\", auth: token, token: placeholder }\n" + text
	}
	if !contains(keys, "templates") && strings.Contains(text, "{{ template ") {
		text += pageTemplates
	}
	// Each ${CREDENTIALS_DIRECTORY}/NAME it names, as systemd provides it.
	creds := t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	for _, m := range credRe.FindAllStringSubmatch(text, -1) {
		os.WriteFile(filepath.Join(creds, m[1]), []byte("postgres://placeholder@localhost/placeholder\n"), 0o600)
	}
	f := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.LoadForOps(f)
	if err != nil {
		t.Errorf("%s: the loader refuses the snippet:\n%v\n%s", b.Where, err, text)
		return
	}
	if _, err := rules.Compile(rules.Source{File: f, Rules: &c.Rules, Templates: &c.Templates, NoMatch: &c.NoMatch}); err != nil {
		t.Errorf("%s: the snippet's rules do not compile:\n%v\n%s", b.Where, err, text)
	}
}

var credRe = regexp.MustCompile(`\$\{CREDENTIALS_DIRECTORY\}/([a-z0-9.-]+)`)

func topKeys(text string) ([]string, error) {
	var m yaml.Node
	if err := yaml.Unmarshal([]byte(text), &m); err != nil {
		return nil, err
	}
	var keys []string
	if len(m.Content) == 1 && m.Content[0].Kind == yaml.MappingNode {
		for i := 0; i < len(m.Content[0].Content); i += 2 {
			keys = append(keys, m.Content[0].Content[i].Value)
		}
	}
	return keys, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
