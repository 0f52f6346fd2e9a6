package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// TestDocsHealthyEventLog: the log lines docs/operations.md shows for a
// healthy event are the ones the daemon writes, in that order (event ids,
// numbers and the time aside), so the troubleshooting section cannot drift.
func TestDocsHealthyEventLog(t *testing.T) {
	rt := testenv.RequireRT(t)
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, "    level=") {
			want = append(want, strings.TrimPrefix(l, "    "))
		}
	}
	if len(want) < 4 {
		t.Fatalf("docs/operations.md shows %d log lines of a healthy event", len(want))
	}
	dir := t.TempDir()
	r := start(t, testConfig(t, dir, rt.URL, rt.Token, `  - name: failed deploys open a ticket
    when: { kind: json, source: deploys, json: { status: failed } }
    do:
      - create: { queue: General, subject: 'Deploy of {{ .JSON.service }} failed {{ .JSON.marker }}' }
`))
	marker := fmt.Sprintf("docs-%d", time.Now().UnixNano())
	code, body := r.post(t, fmt.Sprintf(`{"service":"billing","version":"2.4.1","host":"app3","status":"failed","marker":%q}`, marker))
	if code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	// README's quick start shows the answer to that post.
	readme, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	shown := regexp.MustCompile(`(?m)^    (\{"id":"[0-9A-Z]{26}"\})$`).FindSubmatch(readme)
	if shown == nil {
		t.Fatal(`README shows no webhook answer {"id":"…"}`)
	}
	if !regexp.MustCompile(`^\{"id":"[0-9A-Z]{26}"\}\n?$`).MatchString(body) {
		t.Errorf("the webhook answered %q; README shows %s", body, shown[1])
	}
	waitTickets(t, rtClient(t, rt), "Deploy of billing failed "+marker, 1, 30*time.Second)
	var got []string
	waitFor(t, "the event done line", r, func() bool {
		got = got[:0]
		for _, l := range strings.Split(r.log.String(), "\n") {
			got = append(got, timeRe.ReplaceAllString(l, ""))
		}
		return strings.Contains(r.log.String(), `msg="event done"`)
	})
	g := 0
	for _, w := range want {
		re := docLineRe(w)
		for g < len(got) && !re.MatchString(got[g]) {
			g++
		}
		if g == len(got) {
			t.Fatalf("the daemon wrote no line like %q (after the ones before it); its log:\n%s", w, r.log)
		}
		g++
	}
}

var (
	timeRe   = regexp.MustCompile(`^time=\S+ `)
	idRe     = regexp.MustCompile(`event=[0-9A-Z]{26}`)
	numberRe = regexp.MustCompile(`[0-9]+`)
)

// docLineRe matches a documented log line: any event id and any numbers.
func docLineRe(line string) *regexp.Regexp {
	parts := idRe.Split(line, -1)
	for i, p := range parts {
		parts[i] = numberRe.ReplaceAllString(regexp.QuoteMeta(p), `[0-9]+`)
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `event=[0-9A-Z]{26}`) + `$`)
}
