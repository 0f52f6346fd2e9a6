package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDefaultConfigEverywhere: every subcommand's --config defaults to the
// file the systemd unit runs the daemon with, so "rtbridge check" on the
// host checks what "rtbridge run" will load.
func TestDefaultConfigEverywhere(t *testing.T) {
	other := regexp.MustCompile(`/etc/rtbridge/[\w.-]+\.ya?ml`)
	for _, c := range commands() {
		if c.name == "version" { // reads no config
			continue
		}
		var out, errb bytes.Buffer
		dispatch(context.Background(), []string{c.name, "-h"}, &out, &errb)
		help := errb.String()
		i := strings.Index(help, "  -config ")
		if i < 0 {
			t.Errorf("%s -h: no -config flag in:\n%s", c.name, help)
			continue
		}
		flagHelp := help[i:]
		if j := strings.Index(flagHelp[len("  -config "):], "\n  -"); j >= 0 {
			flagHelp = flagHelp[:len("  -config ")+j]
		}
		if !strings.Contains(flagHelp, defaultConfig) {
			t.Errorf("%s: -config does not default to %s:\n%s", c.name, defaultConfig, flagHelp)
		}
		for _, m := range other.FindAllString(help, -1) {
			if m != defaultConfig {
				t.Errorf("%s -h mentions %s, not %s", c.name, m, defaultConfig)
			}
		}
	}
	unit, err := os.ReadFile("../../systemd/rtbridge.service")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "--config ${CONFIGURATION_DIRECTORY}/config.yaml") || !strings.HasSuffix(defaultConfig, "/config.yaml") {
		t.Errorf("the unit's ExecStart and defaultConfig %s name different files", defaultConfig)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range other.FindAllString(string(readme), -1) {
		if m != defaultConfig {
			t.Errorf("README mentions %s, not %s", m, defaultConfig)
		}
	}
}

// TestRTNoURLMessage: without a default config on the machine, "rt" says
// which file it looked for besides the flags and environment.
func TestRTNoURLMessage(t *testing.T) {
	if _, err := os.Stat(defaultConfig); err == nil {
		t.Skipf("%s exists on this machine", defaultConfig)
	}
	t.Setenv("RTBRIDGE_RT_URL", "")
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"rt", "get", "user/root"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2; stderr: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), defaultConfig) {
		t.Errorf("the error does not say which default was tried: %s", errb.String())
	}
}

// TestRTHelpForOperators: "rt -h" explains the status in RT's terms, not
// in terms of the code's history.
func TestRTHelpForOperators(t *testing.T) {
	var out, errb bytes.Buffer
	dispatch(context.Background(), []string{"rt", "-h"}, &out, &errb)
	help := errb.String()
	for _, internal := range []string{"seed", "rtkit"} {
		if strings.Contains(help, internal) {
			t.Errorf("rt -h uses internal wording %q", internal)
		}
	}
	if !strings.Contains(help, `"# Ticket 9 does not exist." is 404`) || !strings.Contains(help, `RT REST 1.0 says "200 Ok"`) {
		t.Errorf("rt -h does not explain the status mapping:\n%s", help)
	}
}

// TestUnitCredentials: the shipped unit loads exactly the secrets of
// README's minimal config (systemd refuses to start when a listed file is
// missing, so it lists no more), and every further secret
// config.example.yaml reads is named in the unit's drop-in hint.
func TestUnitCredentials(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	unit := read("../../systemd/rtbridge.service")
	loadRe := regexp.MustCompile(`(?m)^(#\s*)?LoadCredential=([\w.-]+):(\S+)$`)
	loaded, hinted := map[string]bool{}, map[string]bool{}
	for _, m := range loadRe.FindAllStringSubmatch(unit, -1) {
		if m[3] != "/etc/rtbridge/credentials/"+m[2] {
			t.Errorf("LoadCredential=%s reads %s, not /etc/rtbridge/credentials/%s", m[2], m[3], m[2])
		}
		if m[1] == "" {
			loaded[m[2]] = true
		} else {
			hinted[m[2]] = true
		}
	}
	credRe := regexp.MustCompile(`\$\{CREDENTIALS_DIRECTORY\}/([\w.-]+)`)
	// Secrets a config reads, leaving out commented-out lines.
	secrets := func(text string) map[string]bool {
		got := map[string]bool{}
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			for _, m := range credRe.FindAllStringSubmatch(line, -1) {
				got[m[1]] = true
			}
		}
		return got
	}
	readme := read("../../README.md")
	start := strings.Index(readme, "```yaml\n")
	end := strings.Index(readme[start+1:], "```\n")
	if start < 0 || end < 0 {
		t.Fatal("README has no yaml block")
	}
	minimal := secrets(readme[start : start+1+end])
	if len(minimal) == 0 || len(minimal) != len(loaded) {
		t.Errorf("unit loads %v, README's minimal config reads %v", loaded, minimal)
	}
	for name := range minimal {
		if !loaded[name] {
			t.Errorf("README's minimal config reads %s; the unit does not load it", name)
		}
	}
	for name := range secrets(read("../../config.example.yaml")) {
		if !loaded[name] && !hinted[name] {
			t.Errorf("config.example.yaml reads %s; the unit neither loads it nor names it in its hint", name)
		}
	}
	if strings.Contains(readme, "sed -i 's|^LoadCredential=") {
		t.Error("README still edits the unit with sed")
	}
}

// TestCheckCatchesBeforeAnEvent: check reports a misspelt template field
// and an unknown event kind with their positions, and exits 1.
func TestCheckCatchesBeforeAnEvent(t *testing.T) {
	cfg := t.TempDir() + "/config.yaml"
	src := "rules:\n  - name: r\n    when: { kind: mial }\n    do:\n      - create: { queue: Ops, subject: '{{ .Subjct }}' }\n"
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"check", "--config", cfg}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{
		cfg + `:3:19: rule "r": kind: unknown kind "mial" (did you mean "mail"?)`,
		cfg + `:5:44: rule "r": template create.subject: unknown field .Subjct (did you mean .Subject?)`,
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("missing %q in:\n%s", want, errb.String())
		}
	}
}
