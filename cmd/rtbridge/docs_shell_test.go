package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

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
