package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/internal/doccheck"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// TestDocsTroubleshootingLogLines: each log line the troubleshooting table
// of docs/operations.md shows (msg="…" in its "what you see" column) is
// one a real daemon writes when that happens: the test makes it happen
// (provoke) and finds the line, "…" standing for any text.
func TestDocsTroubleshootingLogLines(t *testing.T) {
	rt := testenv.RequireRT(t)
	t.Parallel()
	docs, err := doccheck.ReadAll(testenv.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, testConfig(t, t.TempDir(), rt.URL, rt.Token, ""))
	provoke := map[string]func(){
		"webhook request not authenticated": func() {
			req, _ := http.NewRequest("POST", "http://"+r.addr+"/hooks/deploy", strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer not-the-token")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("a wrong token got %d, the table says senders see 401", resp.StatusCode)
			}
		},
	}
	n := 0
	for _, d := range docs {
		for _, row := range d.Rows {
			if row.Header[0] != "what you see" {
				continue
			}
			for _, shown := range doccheck.CodeIn(row.Cells[0]) {
				m := regexp.MustCompile(`msg="([^"]+)"`).FindStringSubmatch(shown)
				if m == nil {
					continue
				}
				n++
				p, ok := provoke[m[1]]
				if !ok {
					t.Errorf("%s: this test cannot make the daemon log %q; teach it how", row.Where, m[1])
					continue
				}
				p()
				parts := strings.Split(shown, "…")
				for i := range parts {
					parts[i] = regexp.QuoteMeta(parts[i])
				}
				re := regexp.MustCompile(`(?m)` + strings.Join(parts, `.*`) + `$`)
				waitFor(t, "the line "+shown, r, func() bool { return re.MatchString(r.log.String()) })
			}
		}
	}
	if n == 0 {
		t.Fatal("the troubleshooting table shows no log line")
	}
}

// TestDocsTroubleshootingSourceError: the IMAP login error the table shows
// is what /status (and so rtbridge status) says when the test Dovecot
// refuses the password, the user, address and the server's text aside.
func TestDocsTroubleshootingSourceError(t *testing.T) {
	env := testenv.Require(t, "IMAP_HOST", "IMAP_PORT", "IMAP_CA_CERT", "IMAP_USER")
	t.Parallel()
	docs, err := doccheck.ReadAll(testenv.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	var shown string
	for _, d := range docs {
		for _, row := range d.Rows {
			for _, c := range doccheck.CodeIn(row.Cells[0]) {
				if row.Header[0] == "what you see" && strings.HasPrefix(c, "imap login rejected: ") {
					shown = c
				}
			}
		}
	}
	if shown == "" {
		t.Fatal("the troubleshooting table shows no IMAP login error")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "imap-password"), []byte("docs-wrong-password\n"), 0o600)
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token: unused }
state: { dir: state }
http: { listen: "127.0.0.1:0" }
imap:
  - name: docs
    address: %s:%s
    tls: starttls
    ca_file: %s
    server_name: localhost
    username: %s
    password_file: imap-password
    folders: [INBOX]
rules:
  - name: nothing
    do: [ { ignore: "docs test" } ]
`, env["IMAP_HOST"], env["IMAP_PORT"], env["IMAP_CA_CERT"], env["IMAP_USER"])), 0o600)
	r := start(t, cfg)
	// Quoted names and the host:port are the reader's own; "…" is any text.
	pat := regexp.QuoteMeta(shown)
	pat = regexp.MustCompile(`"[^"]*"`).ReplaceAllString(pat, `"[^"]*"`)
	pat = regexp.MustCompile(` on \S+: `).ReplaceAllString(pat, ` on \S+: `)
	re := regexp.MustCompile(`^` + strings.ReplaceAll(pat, "…", ".*") + `$`)
	waitFor(t, "a source error like "+shown+" in /status", r, func() bool {
		_, body := r.get(t, "/status")
		var st struct{ Sources map[string]string }
		json.Unmarshal([]byte(body), &st)
		return re.MatchString(st.Sources["docs/INBOX"])
	})
}
