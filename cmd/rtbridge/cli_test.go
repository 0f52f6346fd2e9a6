package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/store"
)

// TestCLIExitCodes: every command answers -h with 0, an unknown flag with 2,
// a config it cannot load with 1, and takes its flags after positional
// arguments too; every command that prints takes --json and prints JSON.
func TestCLIExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("rt:\n  url: [\n"), 0o600)
	event := filepath.Join(dir, "event.json")
	os.WriteFile(event, []byte(`{"a":1}`), 0o600)
	// The arguments each command needs besides flags.
	args := map[string][]string{
		"test":       {event},
		"rt":         {"get", "ticket/1"},
		"deadletter": {"list"},
		"store":      {"migrate"},
	}
	noConfig := map[string]bool{"version": true}
	// mailgate's exit codes are the MTA's (sysexits: 75 makes it retry,
	// whatever went wrong); only its -h is the common one.
	mtaExits := map[string]bool{"mailgate": true}
	run := func(argv ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), argv, &out, &errb)
		return code, out.String(), errb.String()
	}
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			if code, _, errs := run(c.name, "-h"); code != exitOK {
				t.Errorf("-h: exit %d, want 0\n%s", code, errs)
			}
			if mtaExits[c.name] {
				return
			}
			if code, _, errs := run(append([]string{c.name, "--no-such-flag"}, args[c.name]...)...); code != exitUsage {
				t.Errorf("unknown flag: exit %d, want 2\n%s", code, errs)
			}
			if noConfig[c.name] {
				return
			}
			// The flag after the positional arguments.
			argv := append(append([]string{c.name}, args[c.name]...), "--config", bad)
			code, _, errs := run(argv...)
			if code != exitFailure {
				t.Errorf("bad config: exit %d, want 1\n%s", code, errs)
			}
			if !strings.Contains(errs, bad+":2:") {
				t.Errorf("bad config: no FILE:LINE in %q", errs)
			}
		})
	}
	if code, out, errs := run("version", "--json"); code != exitOK || !json.Valid([]byte(out)) {
		t.Errorf("version --json: exit %d, %q %s", code, out, errs)
	}
}

// TestCLIJSON: every command that prints takes --json, after its
// positional arguments too, and prints one JSON document on stdout, with
// the exit code of its outcome (rt: 1, as RT is unreachable here; check
// of a bad config: 1, with the problems in the JSON).
func TestCLIJSON(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tok"), []byte("unused\n"), 0o600)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`rt: { url: "http://127.0.0.1:9/", auth: token, token_file: tok }
state: { dir: state }
http: { listen: "127.0.0.1:0" }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: none }
rules:
  - name: r
    when: { kind: json }
    do: [ { ignore: test } ]
`), 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("rt:\n  url: [\n"), 0o600)
	event := filepath.Join(dir, "event.json")
	os.WriteFile(event, []byte(`{"a":1}`), 0o600)
	st, err := store.Open(context.Background(), filepath.Join(dir, "state"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, tc := range []struct {
		argv []string
		code int
	}{
		{[]string{"check", "--json", "--config", good}, exitOK},
		{[]string{"check", "--config", bad, "--json"}, exitFailure},
		{[]string{"test", event, "--config", good, "--json"}, exitOK},
		{[]string{"test", event, "--config", good, "--format", "json"}, exitOK},
		{[]string{"status", "--config", good, "--json"}, exitOK},
		{[]string{"deadletter", "list", "--config", good, "--json"}, exitOK},
		{[]string{"rt", "get", "ticket/1", "--config", good, "--json"}, exitFailure},
		{[]string{"version", "--json"}, exitOK},
	} {
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), tc.argv, &out, &errb)
		if code != tc.code || !json.Valid(out.Bytes()) || out.Len() == 0 {
			t.Errorf("%v: exit %d (want %d), stdout %q, stderr %q", tc.argv, code, tc.code, out.String(), errb.String())
		}
	}
	// Usage errors are 2 for every command: an unknown subcommand, too many
	// arguments, a missing one.
	for _, argv := range [][]string{{"nosuch"}, {}, {"check", "extra", "--config", good}, {"status", "extra"},
		{"version", "extra"}, {"run", "extra"}, {"test", "--config", good}, {"deadletter"}, {"deadletter", "frobnicate"},
		{"rt"}, {"rt", "get"}, {"test", event, "--format", "yaml"}} {
		var out, errb bytes.Buffer
		if code := dispatch(context.Background(), argv, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want 2\n%s", argv, code, errb.String())
		}
	}
}
