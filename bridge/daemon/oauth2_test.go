package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/oauth2test"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// An IMAP account whose refresh token was revoked is down, says why in
// /status and /metrics, and the other sources (an OAuth2 account with the
// client-credentials grant, a webhook) keep working.
func TestOAuth2SourcesInStatusAndMetrics(t *testing.T) {
	rt := testenv.RequireRT(t)
	env := testenv.Require(t, "OAUTH_IMAP_HOST", "OAUTH_IMAP_PORT", "OAUTH_IMAP_USER", "OAUTH_IMAP_CA_CERT",
		"OAUTH_RS256_PRIVATE_KEY", "OAUTH_ISSUER", "OAUTH_KID", "OAUTH_AZP", "OAUTH_USERNAME_CLAIM")
	env["OAUTH_REQUIRED_SCOPE"], _ = testenv.Lookup("OAUTH_REQUIRED_SCOPE")
	good := oauth2test.New(t, oauth2test.NewSigner(t, env), env["OAUTH_IMAP_USER"])
	var requests atomic.Int32
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)
	}))
	defer endpoint.Close()

	dir := t.TempDir()
	cfgPath := testConfig(t, dir, rt.URL, rt.Token, "")
	const refresh, secret = "1//revoked-refresh-xyzzy", "client-secret-xyzzy"
	os.WriteFile(filepath.Join(dir, "refresh"), []byte(refresh+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "client-secret"), []byte(secret+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "good-secret"), []byte(good.Secret+"\n"), 0o600)
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, `imap:
  - name: mailbox
    address: %[1]s:%[2]s
    tls: starttls
    ca_file: %[3]s
    server_name: localhost
    username: %[4]s
    auth: oauth2
    oauth2:
      token_url: %[5]s/token
      client_id: rtbridge-test
      client_secret_file: client-secret
      grant: refresh_token
      refresh_token_file: refresh
  - name: good
    address: %[1]s:%[2]s
    tls: starttls
    ca_file: %[3]s
    server_name: localhost
    username: %[4]s
    auth: oauth2
    oauth2:
      token_url: %[6]s
      client_id: %[7]s
      client_secret_file: good-secret
      grant: client_credentials
      scopes: [imap]
`, env["OAUTH_IMAP_HOST"], env["OAUTH_IMAP_PORT"], env["OAUTH_IMAP_CA_CERT"], env["OAUTH_IMAP_USER"], endpoint.URL, good.URL, good.ClientID)
	f.Close()

	r := start(t, cfgPath)
	var st Status
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body := r.get(t, "/status")
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("/status: %v\n%s", err, body)
		}
		if strings.Contains(st.Sources["mailbox/INBOX"], "invalid_grant") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/status never showed the token error: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts, ok := st.OAuth2["mailbox/INBOX"]
	if !ok || ts.OK || ts.Grant != "refresh_token" || !strings.Contains(ts.LastError, "invalid_grant") {
		t.Fatalf("oauth2 status %+v", st.OAuth2)
	}
	if st.Sources["deploys"] != "ok" {
		t.Fatalf("the webhook source is %q, want ok", st.Sources["deploys"])
	}
	for deadline := time.Now().Add(10 * time.Second); st.Sources["good/INBOX"] != "ok" || !st.OAuth2["good/INBOX"].OK; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the good OAuth2 source: %q, %+v", st.Sources["good/INBOX"], st.OAuth2["good/INBOX"])
		}
		_, body := r.get(t, "/status")
		st = Status{}
		json.Unmarshal([]byte(body), &st)
	}
	if exp := st.OAuth2["good/INBOX"].Expiry; time.Until(exp) < 50*time.Minute {
		t.Errorf("good token expires %s, want in about an hour", exp)
	}
	if code, body := r.post(t, `{"service":"x","marker":"oauth2-other-source","version":"1"}`); code != http.StatusAccepted {
		t.Fatalf("webhook answered %d: %s", code, body)
	}

	var metrics string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, metrics = r.get(t, "/metrics")
		if strings.Contains(metrics, `rtbridge_imap_oauth2_token_ok{source="mailbox/INBOX"} 0`) &&
			strings.Contains(metrics, `rtbridge_source_up{source="mailbox/INBOX"} 0`) &&
			strings.Contains(metrics, `rtbridge_imap_oauth2_token_ok{source="good/INBOX"} 1`) &&
			strings.Contains(metrics, `rtbridge_source_up{source="good/INBOX"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics do not show the source down:\n%s", grepLines(metrics, "rtbridge_"))
		}
	}
	_, status := r.get(t, "/status")
	texts := map[string]string{"status": status, "metrics": metrics, "log": r.log.String()}
	for name, text := range texts {
		if strings.Contains(text, "xyzzy") {
			t.Errorf("a secret shows in %s", name)
		}
	}
	oauth2test.AssertNoSecrets(t, good.Secrets(), texts)
	if n := requests.Load(); n < 1 || n > 10 {
		t.Errorf("%d token requests; want a few (backoff between attempts)", n)
	}
	t.Logf("status of the source: %s", st.Sources["mailbox/INBOX"])
}
