package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/internal/doccheck"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// The docs_*_test.go files hold what the manual shows, beyond the commands
// TestDocsCommands runs, to what the code does: every rtbridge invocation
// uses flags the command has (here), every other shell line names a make
// target, a unit verb, a package and test that exist (docs_shell_test.go),
// every message or log line shown is one the source can print (here), and
// every config snippet, key path and metric is the loader's or the
// registry's (docs_config_test.go, docs_keys_test.go, docs_metrics_test.go).

func manual(t *testing.T) (string, []doccheck.Doc) {
	t.Helper()
	root := testenv.RepoRoot()
	docs, err := doccheck.ReadAll(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, docs
}

// shownLine is one line of a code block, with `\` continuations joined.
type shownLine struct {
	where, text string
	block       doccheck.Block
}

// shellLines lists the lines of the manual's indented and unlabelled
// fenced blocks (where commands are shown).
func shellLines(docs []doccheck.Doc) []shownLine {
	var out []shownLine
	for _, d := range docs {
		for _, b := range d.Blocks {
			if b.Lang != "indented" && b.Lang != "" && b.Lang != "sh" && b.Lang != "console" {
				continue
			}
			file, first := whereOf(b.Where)
			for i := 0; i < len(b.Lines); i++ {
				l, n := b.Lines[i], i
				for strings.HasSuffix(l, `\`) && i+1 < len(b.Lines) {
					i++
					l = strings.TrimSuffix(l, `\`) + " " + strings.TrimSpace(b.Lines[i])
				}
				out = append(out, shownLine{where: file + ":" + strconv.Itoa(first+n), text: l, block: b})
			}
		}
	}
	return out
}

var invocationRe = regexp.MustCompile("(?:^|[\\s/\"|])rtbridge ([a-z][a-z0-9-]*)([^\"#`]*)")

// TestDocsInvocationFlags: every `rtbridge COMMAND …` the manual shows (in
// a block or inline) names a command, and each of its flags is one that
// command's -h lists.
func TestDocsInvocationFlags(t *testing.T) {
	_, docs := manual(t)
	type use struct{ where, text string }
	var uses []use
	for _, l := range shellLines(docs) {
		text, _, _ := strings.Cut(l.text, " # ") // a comment
		uses = append(uses, use{l.where, text})
	}
	for _, d := range docs {
		for _, s := range d.Spans {
			uses = append(uses, use{s.Where, s.Text})
		}
	}
	helps := map[string]string{}
	help := func(args ...string) (string, bool) {
		k := strings.Join(args, " ")
		if h, ok := helps[k]; ok {
			return h, h != ""
		}
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), append(args, "-h"), &out, &errb)
		h := out.String() + errb.String()
		if code != 0 || strings.Contains(h, "unknown command") {
			h = ""
		}
		helps[k] = h
		return h, h != ""
	}
	type shownCmd struct {
		line int
		name string
	}
	shownCmds := map[string][]shownCmd{} // per file, to find the command a table of flags is about
	checked := 0
	flagTables := func(d doccheck.Doc) {
		for _, r := range d.Rows {
			if r.Header[0] != "flag" {
				continue
			}
			_, line := whereOf(r.Where)
			var above shownCmd // the nearest command shown above the table
			for _, c := range shownCmds[d.Path] {
				if c.line < line && c.line > above.line {
					above = c
				}
			}
			if above.name == "" {
				t.Errorf("%s: a table of flags with no rtbridge command shown before it", r.Where)
				continue
			}
			h, _ := help(above.name)
			for _, c := range doccheck.CodeIn(r.Cells[0]) {
				if f, _, _ := strings.Cut(c, " "); strings.HasPrefix(f, "--") && !regexp.MustCompile(`(?m)^ +-`+regexp.QuoteMeta(f[2:])+`\b`).MatchString(h) {
					t.Errorf("%s: `rtbridge %s -h` lists no flag %s", r.Where, above.name, f)
				}
				checked++
			}
		}
	}
	for _, u := range uses {
		if f := strings.Fields(u.text); len(f) > 0 && (f[0] == "systemctl" || f[0] == "journalctl") {
			continue // the unit's name, not a command (TestDocsShellLines)
		}
		for _, m := range invocationRe.FindAllStringSubmatch(u.text, -1) {
			h, ok := help(m[1])
			if !ok {
				t.Errorf("%s: %q: rtbridge has no command %q", u.where, strings.TrimSpace(m[0]), m[1])
				continue
			}
			file, line := whereOf(u.where)
			shownCmds[file] = append(shownCmds[file], shownCmd{line, m[1]})
			args := strings.Fields(strings.Split(m[2], "&&")[0])
			for _, a := range args { // a verb (deadletter retry, rt post) may add flags
				if regexp.MustCompile(`^[a-z]+$`).MatchString(a) {
					if hv, ok := help(m[1], a); ok {
						h += hv
					}
					break
				}
			}
			for _, a := range args {
				for _, part := range strings.Split(a, "|") {
					if !strings.HasPrefix(part, "-") || part == "-" {
						continue
					}
					name, _, _ := strings.Cut(strings.TrimLeft(part, "-"), "=")
					name = strings.TrimRight(name, ".,;:)")
					if name == "h" || name == "help" {
						continue
					}
					if !regexp.MustCompile(`(?m)^ +-` + regexp.QuoteMeta(name) + `\b`).MatchString(h) {
						t.Errorf("%s: %q: `rtbridge %s -h` lists no flag -%s", u.where, strings.TrimSpace(m[0]), m[1], name)
					}
					checked++
				}
			}
		}
	}
	for _, d := range docs {
		flagTables(d)
	}
	if checked < 20 {
		t.Fatalf("checked only %d flags in the manual", checked)
	}
}

func whereOf(w string) (string, int) {
	i := strings.LastIndex(w, ":")
	n, _ := strconv.Atoi(w[i+1:])
	return w[:i], n
}

var (
	msgRe    = regexp.MustCompile(`msg="([^"]+)"`)
	statusRe = regexp.MustCompile(`Status: "([^"]+)"`)
	// Blocks in formats of other programs, shown as they are: a
	// .fetchmailrc, /etc/aliases, Postfix, Apache and nginx; the daemon's
	// log lines, which TestDocsHealthyEventLog (bridge/daemon) produces;
	// a benchmark's example table, which its test code prints and whose
	// figures differ every run.
	foreignRe = regexp.MustCompile(`^(poll |# before|transport_maps|# Apache|level=|Benchmark[A-Za-z0-9]+: )`)
	nameRe    = regexp.MustCompile(`^/?[a-z_]+$`)
)

// TestDocsShownMessages: every log message (msg="…") the manual quotes is
// one the code logs, and every message it shows as what an operator sees
// (the "what you see" and "shown" columns of its tables, a unit's Status:
// and STATUS= lines, a block of rtbridge's output) is one the source can print. What RT
// itself says is checked against the test RT (TestDocsRTMessages).
func TestDocsShownMessages(t *testing.T) {
	root, docs := manual(t)
	lits, err := doccheck.Literals(root)
	if err != nil {
		t.Fatal(err)
	}
	msgs := doccheck.NewMessages(lits)
	checks := shellChecks(root)
	n := 0
	shown := func(where, s string) {
		n++
		for _, m := range msgRe.FindAllStringSubmatch(s, -1) {
			if !msgs.Literal(m[1]) {
				t.Errorf("%s: the code logs no message %q", where, m[1])
			}
		}
		if msgRe.MatchString(s) || strings.HasPrefix(s, "rtbridge") || rtSays[s] {
			return // a log line, a metric or a command
		}
		if !msgs.Explains(s) {
			t.Errorf("%s: the source prints no message like %q", where, s)
		}
	}
	for _, d := range docs {
		for _, s := range d.Spans {
			switch {
			case msgRe.MatchString(s.Text):
				shown(s.Where, s.Text)
			case strings.HasPrefix(s.Text, "STATUS="): // what the daemon tells systemd
				shown(s.Where, strings.TrimPrefix(s.Text, "STATUS="))
			}
		}
		for _, r := range d.Rows {
			if h := r.Header[0]; h == "what you see" || h == "shown" {
				for _, c := range doccheck.CodeIn(r.Cells[0]) {
					if !nameRe.MatchString(c) { // not an endpoint or a JSON key that names where it shows
						shown(r.Where, c)
					}
				}
			}
		}
		for _, b := range d.Blocks {
			if b.Lang != "indented" || len(b.Lines) == 0 || foreignRe.MatchString(b.Lines[0]) {
				continue
			}
			file, first := whereOf(b.Where)
			output := true
			for i, l := range b.Lines {
				where := file + ":" + strconv.Itoa(first+i)
				for _, m := range statusRe.FindAllStringSubmatch(l, -1) {
					shown(where, m[1])
				}
				if msgRe.MatchString(l) {
					shown(where, l)
				}
				if w := commandWords(l); len(w) > 0 && (checks[w[0]] != nil || strings.HasPrefix(l, "$ ") || strings.HasPrefix(l, "#")) {
					output = false // commands and what they print
				}
			}
			for i, l := range b.Lines {
				if output && strings.TrimSpace(l) != "" {
					shown(file+":"+strconv.Itoa(first+i), l)
				}
			}
		}
	}
	if n < 15 {
		t.Fatalf("found only %d shown messages in the manual", n)
	}
}

// rtSays are messages the manual quotes from RT itself, not rtbridge.
var rtSays = map[string]bool{"Queue not set": true, "No permission to create tickets in the queue": true}

// TestDocsRTMessages: what the manual quotes RT as saying is what the test
// RT says: an unknown queue is "Queue not set". (RT's "No permission to
// create tickets in the queue" is checked against the test RT by
// TestRTErrors in rtapi/ticket_integration_test.go.)
func TestDocsRTMessages(t *testing.T) {
	rt := testenv.RequireRT(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("rt: { url: \""+rt.URL+"\", auth: token, token: \""+rt.Token+"\" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	dispatch(context.Background(), []string{"rt", "--config", cfg, "post", "ticket/new", "-f", "Queue=rtbridge-docs-no-such-queue", "-f", "Subject=docs probe"}, &out, &errb)
	if !strings.Contains(out.String(), "Queue not set") || !rtSays["Queue not set"] {
		t.Errorf("RT's answer to a create in an unknown queue: %s%s", out.String(), errb.String())
	}
}
