package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/internal/doccheck"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// docCommand is one `$ rtbridge …` line of the manual with the output
// shown under it.
type docCommand struct {
	where string // FILE:LINE
	cmd   string
	want  []string
}

// docCommands reads every `$ ` line of the manual's indented blocks and
// the lines after it, up to the next command or a blank line.
func docCommands(t *testing.T, root string) []docCommand {
	t.Helper()
	docs, err := doccheck.ReadAll(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []docCommand
	for _, d := range docs {
		for _, b := range d.Blocks {
			if b.Lang != "indented" {
				continue
			}
			file, first := whereOf(b.Where)
			var cur *docCommand
			for i, line := range b.Lines {
				switch {
				case strings.HasPrefix(line, "$ "):
					out = append(out, docCommand{where: file + ":" + strconv.Itoa(first+i), cmd: strings.TrimPrefix(line, "$ ")})
					cur = &out[len(out)-1]
				case cur != nil && line != "":
					cur.want = append(cur.want, line)
				default:
					cur = nil
				}
			}
		}
	}
	return out
}

// TestDocsCommands runs every command the manual shows and compares its
// output with what the manual says ("…" stands for text left out: inside
// a line any text, alone on a line any lines). Commands that talk to RT run
// against the test RT, with ids and numbers free. A command the manual
// shows that this test cannot run fails it, so the manual cannot drift.
func TestDocsCommands(t *testing.T) {
	root := testenv.RepoRoot()
	cmds := docCommands(t, root)
	if len(cmds) < 5 {
		t.Fatalf("found only %d commands in the manual", len(cmds))
	}
	quick := quickStart(t, root)
	for _, c := range cmds {
		t.Run(c.where, func(t *testing.T) {
			dir, line, numbersFree := root, c.cmd, false
			if d, rest, ok := strings.Cut(line, " && "); ok && strings.HasPrefix(d, "cd ") {
				dir, line = filepath.Join(root, strings.TrimPrefix(d, "cd ")), rest
			}
			if file, body, ok := echoTo(line); ok { // the quick start's sample event
				if err := os.WriteFile(filepath.Join(quick, file), []byte(body+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := c.want
			args := strings.Fields(line)
			if len(args) == 0 || args[0] != "rtbridge" {
				t.Fatalf("%s: %q is not an rtbridge command this test can run", c.where, c.cmd)
			}
			args = args[1:]
			if args[0] == "rt" {
				// The manual's RT examples, against the test RT.
				rt := testenv.RequireRT(t)
				cfg := filepath.Join(t.TempDir(), "config.yaml")
				os.WriteFile(cfg, []byte(fmt.Sprintf("rt: { url: %q, auth: token, token: %q }\n", rt.URL, rt.Token)), 0o600)
				for i, a := range args {
					if a == defaultConfig {
						args[i] = cfg
					}
				}
				numbersFree = true
			} else if strings.Contains(line, defaultConfig) {
				// The quick start's config (README's first yaml block) with
				// its secrets, in place of /etc/rtbridge/config.yaml.
				dir = quick
				t.Setenv("CREDENTIALS_DIRECTORY", filepath.Join(quick, "credentials"))
				cfg := filepath.Join(quick, "config.yaml")
				for i, a := range args {
					if a == defaultConfig {
						args[i] = cfg
					}
				}
				want = nil
				for _, w := range c.want {
					want = append(want, strings.ReplaceAll(w, defaultConfig, cfg))
				}
			}
			t.Chdir(dir)
			var out, errb bytes.Buffer
			dispatch(context.Background(), args, &out, &errb)
			got := strings.Split(strings.TrimRight(out.String()+errb.String(), "\n"), "\n")
			if msg := matchLines(want, got, numbersFree); msg != "" {
				t.Errorf("%s: %s\nthe manual shows:\n%s\nthe command printed:\n%s", c.where, msg,
					strings.Join(c.want, "\n"), strings.Join(got, "\n"))
			}
		})
	}
}

var digits = regexp.MustCompile(`[0-9]+`)

// matchLines reports how got differs from want, "" when it does not.
func matchLines(want, got []string, numbersFree bool) string {
	g := 0
	for w := 0; w < len(want); w++ {
		if strings.TrimSpace(want[w]) == "…" {
			if w == len(want)-1 {
				return ""
			}
			for g < len(got) && !lineMatches(want[w+1], got[g], numbersFree) {
				g++
			}
			continue
		}
		if g >= len(got) {
			return fmt.Sprintf("output ends before %q", want[w])
		}
		if !lineMatches(want[w], got[g], numbersFree) {
			return fmt.Sprintf("line %d: %q does not match %q", g+1, got[g], want[w])
		}
		g++
	}
	if g < len(got) {
		return fmt.Sprintf("more output than the manual shows, from %q", got[g])
	}
	return ""
}

func lineMatches(want, got string, numbersFree bool) bool {
	parts := strings.Split(want, "…")
	for i, p := range parts {
		p = regexp.QuoteMeta(p)
		if numbersFree {
			p = digits.ReplaceAllString(p, `[0-9]+`)
		}
		parts[i] = p
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `$`).MatchString(strings.TrimRight(got, " "))
}

// quickStart lays out README's quick start: its first yaml block as the
// config and the two secrets that config names.
func quickStart(t *testing.T, root string) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "```yaml\n")
	end := strings.Index(text[start+8:], "```\n")
	if start < 0 || end < 0 {
		t.Fatal("README has no yaml block")
	}
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	os.Mkdir(creds, 0o700)
	os.WriteFile(filepath.Join(creds, "rt-token"), []byte("docs-example-rt-token\n"), 0o600)
	os.WriteFile(filepath.Join(creds, "webhook-token"), []byte("docs-example-webhook-token\n"), 0o600)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(text[start+8:start+8+end]), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

var echoRe = regexp.MustCompile(`^echo '([^']*)' > ([\w.-]+)$`)

// echoTo reads `echo 'TEXT' > FILE`.
func echoTo(line string) (file, body string, ok bool) {
	m := echoRe.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	return m[2], m[1], true
}
