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

// The tests in this file hold what the manual shows, beyond the commands
// TestDocsCommands runs, to what the code does: every rtbridge invocation
// uses flags the command has, every other shell line names a make target,
// a unit verb, a package and test that exist, and every message or log
// line shown is one the source can print.

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

// shellChecks says, for each program the manual's shell lines start with,
// what must hold for the line to be right. A program not listed is output
// or a config line, not a command.
func shellChecks(root string) map[string]func(args []string) string {
	read := func(p string) string {
		b, _ := os.ReadFile(filepath.Join(root, p))
		return string(b)
	}
	unit, makefile := read("systemd/rtbridge.service"), read("Makefile")
	version := strings.TrimSpace(read("VERSION"))
	return map[string]func([]string) string{
		"rtbridge": func([]string) string { return "" }, // TestDocsCommands, TestDocsInvocationFlags
		"systemctl": func(a []string) string {
			verbs := map[string]bool{"daemon-reload": true, "enable": true, "start": true, "stop": true, "restart": true, "reload": true, "status": true, "edit": true}
			a = nonFlags(a)
			switch {
			case len(a) == 0 || !verbs[a[0]]:
				return "not a systemctl verb the manual may use"
			case a[0] == "daemon-reload":
				return ""
			case len(a) != 2 || strings.TrimSuffix(a[1], ".service") != "rtbridge":
				return "the unit is rtbridge"
			case a[0] == "reload" && !strings.Contains(unit, "\nExecReload=/bin/kill -HUP $MAINPID"):
				return "the unit has no ExecReload= sending SIGHUP"
			}
			return ""
		},
		"journalctl": func(a []string) string {
			if strings.Join(a[:min(2, len(a))], " ") != "-u rtbridge" || unit == "" {
				return "journalctl -u rtbridge: the unit is systemd/rtbridge.service"
			}
			return ""
		},
		"make": func(a []string) string {
			for _, target := range nonFlags(a) {
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(target) + `:`).MatchString(makefile) {
					return "the Makefile has no target " + target
				}
			}
			return ""
		},
		"go":      func(a []string) string { return goTestProblem(root, a) },
		"install": func(a []string) string { return installProblem(root, makefile, a) },
		"dpkg": func(a []string) string {
			// make deb writes build/rtbridge_$(VERSION)-1_amd64.deb.
			built := "build/rtbridge_" + version + "-1_amd64.deb"
			if !strings.Contains(makefile, "build/rtbridge_$(VERSION)-1_amd64.deb") {
				return "the Makefile's deb target no longer writes " + built
			}
			a = nonFlags(a)
			if len(a) != 1 {
				return "dpkg -i takes the package"
			}
			p := strings.ReplaceAll(a[0], "VERSION", version)
			if ok, _ := filepath.Match(p, built); !ok {
				return "make deb writes " + built
			}
			return ""
		},
		"tar": func(a []string) string {
			// Under DynamicUser= the state is /var/lib/private/<StateDirectory>.
			if !strings.Contains(unit, "\nDynamicUser=yes") || !strings.Contains(unit, "\nStateDirectory=rtbridge\n") {
				return "the unit's state is no longer /var/lib/private/rtbridge"
			}
			if !strings.Contains(strings.Join(a, " "), "-C /var/lib/private ") || a[len(a)-1] != "rtbridge" {
				return "the state directory is /var/lib/private/rtbridge"
			}
			return ""
		},
		"curl":       func(a []string) string { return "" }, // README's post: TestDocsHealthyEventLog (bridge/daemon) checks path and answer
		"export":     credentialsDir(unit),
		"mkdir":      credentialsDir(unit),
		"chmod":      credentialsDir(unit),
		"newaliases": func([]string) string { return "" }, // the MTA's, after editing /etc/aliases
	}
}

// credentialsDir: a path under /etc/rtbridge/credentials is where the
// unit's LoadCredential= lines read the secrets from.
func credentialsDir(unit string) func([]string) string {
	return func(a []string) string {
		if strings.Contains(strings.Join(a, " "), "/etc/rtbridge/credentials") && !strings.Contains(unit, "\nLoadCredential=rt-token:/etc/rtbridge/credentials/rt-token") {
			return "the unit no longer loads its credentials from /etc/rtbridge/credentials"
		}
		return ""
	}
}

// TestDocsShellLines checks each shell line the manual shows (outside the
// `$ ` lines TestDocsCommands runs) against what it names: the unit, the
// Makefile, the Go packages and their tests, the files it installs.
func TestDocsShellLines(t *testing.T) {
	root, docs := manual(t)
	checks := shellChecks(root)
	seen := map[string]int{}
	lines := shellLines(docs)
	for _, d := range docs { // and make and go test shown inline (other inline names are prose: `systemctl reload`)
		for _, sp := range d.Spans {
			if w := commandWords(sp.Text); len(w) > 1 && (w[0] == "make" || w[0] == "go" && w[1] == "test") {
				lines = append(lines, shownLine{where: sp.Where, text: sp.Text})
			}
		}
	}
	for _, l := range lines {
		text := strings.TrimPrefix(l.text, "$ ")
		if c, _, ok := strings.Cut(text, " #"); ok {
			text = c
		}
		if d, rest, ok := strings.Cut(text, " && "); ok && strings.HasPrefix(d, "cd ") {
			text = rest
		}
		args := commandWords(text)
		if len(args) == 0 {
			continue
		}
		check, ok := checks[args[0]]
		if !ok {
			continue
		}
		seen[args[0]]++
		if msg := check(args[1:]); msg != "" {
			t.Errorf("%s: %q: %s", l.where, l.text, msg)
		}
	}
	for _, p := range []string{"systemctl", "journalctl", "make", "go", "install", "dpkg", "tar"} {
		if seen[p] == 0 {
			t.Errorf("the manual shows no %s line: the extractor is broken", p)
		}
	}
}

// goTestProblem: `go test [flags] PKG…` names packages that exist, and its
// -run, -bench and -fuzz each match a test of theirs ('^$' and XXX match
// none on purpose). PKG and NAME in capitals are placeholders.
func goTestProblem(root string, a []string) string {
	if len(a) == 0 || a[0] != "test" {
		return "only go test is shown"
	}
	var pkgs []string
	pats := map[string]string{}
	for i := 1; i < len(a); i++ {
		switch f := strings.TrimLeft(a[i], "-"); {
		case f == "run" || f == "bench" || f == "fuzz":
			if i+1 < len(a) {
				pats[f] = a[i+1]
				i++
			}
		case strings.HasPrefix(a[i], "./"):
			pkgs = append(pkgs, a[i])
		case strings.HasPrefix(a[i], "-") && i+1 < len(a) && !strings.HasPrefix(a[i+1], "-") && !strings.HasPrefix(a[i+1], "./") &&
			(f == "benchtime" || f == "timeout" || f == "count" || f == "fuzztime"):
			i++
		}
	}
	if len(pkgs) == 0 {
		return "no package"
	}
	var funcs []string
	for _, p := range pkgs {
		if strings.ToUpper(p) == p {
			return "" // ./PKG: a placeholder
		}
		dir := filepath.Join(root, strings.TrimSuffix(p, "/..."))
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return "no package " + p
		}
		filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() && path != dir && !strings.HasSuffix(p, "/...") {
				return filepath.SkipDir
			}
			if strings.HasSuffix(path, "_test.go") {
				b, _ := os.ReadFile(path)
				for _, m := range regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz)\w*)\(`).FindAllStringSubmatch(string(b), -1) {
					funcs = append(funcs, m[1])
				}
			}
			return nil
		})
	}
	kinds := map[string]string{"run": "Test", "bench": "Benchmark", "fuzz": "Fuzz"}
	for flag, pat := range pats {
		if pat == "^$" || pat == "XXX" || pat == "NAME" || (flag == "bench" && pat == ".") {
			continue
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return "-" + flag + " " + pat + ": " + err.Error()
		}
		found := false
		for _, f := range funcs {
			found = found || strings.HasPrefix(f, kinds[flag]) && re.MatchString(f)
		}
		if !found {
			return "-" + flag + " " + pat + " matches no " + kinds[flag] + " function in " + strings.Join(pkgs, " ")
		}
	}
	return ""
}

// installProblem: `install -m MODE SRC DST` installs a file of the
// repository or one `make build` writes.
func installProblem(root, makefile string, a []string) string {
	a = nonFlags(a)
	if len(a) != 3 {
		return "install -m MODE SRC DST"
	}
	src := a[1]
	if m := regexp.MustCompile(`(?m)^BIN := (\S+)`).FindStringSubmatch(makefile); m != nil && m[1] == src {
		return ""
	}
	if _, err := os.Stat(filepath.Join(root, src)); err != nil {
		return src + " is not in the repository"
	}
	return ""
}

// nonFlags drops flags (and -m's mode).
func nonFlags(a []string) []string {
	var out []string
	for _, s := range a {
		if !strings.HasPrefix(s, "-") {
			out = append(out, s)
		}
	}
	return out
}

// commandWords is a shell line's words without its `$ ` prompt and the
// VAR=value assignments before the program.
func commandWords(l string) []string {
	args := shellWords(strings.TrimPrefix(l, "$ "))
	for len(args) > 0 && regexp.MustCompile(`^[A-Z_0-9]+=`).MatchString(args[0]) {
		args = args[1:]
	}
	return args
}

// shellWords splits a line at spaces outside single quotes and drops the
// quotes.
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	in, any := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			in, any = !in, true
		case r == ' ' && !in:
			if any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
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
	// log lines, which TestDocsHealthyEventLog (bridge/daemon) produces.
	foreignRe = regexp.MustCompile(`^(poll |# before|transport_maps|# Apache|level=)`)
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
