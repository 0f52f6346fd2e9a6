package daemon

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// rtAdmin posts a REST 1.0 form as the test RT's administrator (token).
func rtAdmin(t *testing.T, rt testenv.RT, path, content string) {
	t.Helper()
	req, _ := http.NewRequest("POST", strings.TrimSuffix(rt.URL, "/")+"/REST/1.0/"+path,
		strings.NewReader(url.Values{"content": {content}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "token "+rt.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "200 Ok") || !(strings.Contains(string(b), "created") || strings.Contains(string(b), "updated")) {
		t.Fatalf("RT %s: %s", path, b)
	}
}

// A rotated RT password: the password is changed in RT (the old one stops
// working) and in the secret file, then a reload: the daemon goes on with
// the new one, without a restart and without losing the event that failed
// meanwhile. The account is one this test creates, with Basic auth on
// every request (a session cookie would outlive the change and prove
// nothing).
func TestReloadRotatesRTPassword(t *testing.T) {
	rt := testenv.RequireRT(t)
	front := testenv.Require(t, "RT_BASIC_URL")["RT_BASIC_URL"]
	t.Parallel()
	user := fmt.Sprintf("rtbridge-rotate-%d", time.Now().UnixNano())
	pw1, pw2 := "first-"+fmt.Sprint(time.Now().UnixNano()), "second-"+fmt.Sprint(time.Now().UnixNano())
	rtAdmin(t, rt, "user/new", fmt.Sprintf("id: user/new\nName: %s\nEmailAddress: %s@bridge.test\nPassword: %s\nPrivileged: 1", user, user, pw1))

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rt-password"), []byte(pw1+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "hook-token"), []byte("hook-secret\n"), 0o600)
	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`rt:
  url: %s
  auth: basic
  user: %s
  password_file: rt-password
  timeout: 10s
state: { dir: state }
http: { listen: "127.0.0.1:0" }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: { bearer: { token_file: hook-token } } }
executor:
  backoff: { initial: 200ms, max: 1s }
  breaker: { failures: 100, open_for: 1s }
rules:
%s`, front, user, createRule)), 0o600)
	r := start(t, cfgPath)
	c := rtClient(t, rt)
	run := fmt.Sprintf("rotate-%d", time.Now().UnixNano())
	post, creator := numbered(t, r, c, run, 30*time.Second)
	post(1)
	if got := creator(1); got != user {
		t.Fatalf("ticket 1 created by %q, want %q", got, user)
	}

	rtAdmin(t, rt, "user/"+user+"/edit", fmt.Sprintf("id: user/%s\nPassword: %s", user, pw2))
	post(2)
	waitFor(t, "RT refusing the old password", r, func() bool {
		return strings.Contains(r.log.String(), "class=auth")
	})
	if res, _ := c.SearchTickets(context.Background(), fmt.Sprintf("Subject = '%s 2'", run), "id", "s"); len(res) != 0 {
		t.Fatalf("ticket 2 made with the old password: %v", res)
	}
	os.WriteFile(filepath.Join(dir, "rt-password"), []byte(pw2+"\n"), 0o600)
	r.reload <- nil // SIGHUP
	if got := creator(2); got != user {
		t.Fatalf("ticket 2 created by %q", got)
	}
	post(3)
	if got := creator(3); got != user {
		t.Fatalf("ticket 3 created by %q", got)
	}
	if strings.Contains(r.log.String(), pw1) || strings.Contains(r.log.String(), pw2) {
		t.Error("a password appears in the log")
	}
	if !strings.Contains(r.log.String(), "RT client rebuilt") || strings.Contains(r.log.String(), "take effect only after a restart") {
		t.Errorf("reload log:\n%s", grepLines(r.log.String(), "time="))
	}
}

// numbered posts event n of run to the daemon, and reads back who created
// its ticket (waiting up to within for it).
func numbered(t *testing.T, r *running, c *rtapi.Client, run string, within time.Duration) (post func(n int), creator func(n int) string) {
	post = func(n int) {
		t.Helper()
		if code, body := r.post(t, fmt.Sprintf(`{"subject":"%s %d","n":%d}`, run, n, n)); code != 202 {
			t.Fatalf("post %d: %d %s", n, code, body)
		}
	}
	creator = func(n int) string {
		t.Helper()
		res := waitTickets(t, c, fmt.Sprintf("%s %d", run, n), 1, within)
		tk, err := c.Ticket(context.Background(), res[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		return tk.Creator
	}
	return post, creator
}
