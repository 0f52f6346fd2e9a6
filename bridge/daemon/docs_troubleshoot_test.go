package daemon

import (
	"net/http"
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
