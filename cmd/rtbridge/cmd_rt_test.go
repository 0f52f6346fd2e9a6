package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// rtCLI runs "rtbridge rt ARGS… --url … --user … --password-file …" in-process.
func rtCLI(t *testing.T, args ...string) (int, []byte, string) {
	t.Helper()
	rt := testenv.RequireRT(t)
	return rtCLIAs(t, rt.User, rt.Password, args...)
}

// rtCLIAs is rtCLI as another RT user.
func rtCLIAs(t *testing.T, user, password string, args ...string) (int, []byte, string) {
	t.Helper()
	rt := testenv.RequireRT(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	all := append([]string{"rt"}, args...)
	all = append(all, "--url", rt.URL, "--user", user, "--password-file", pw)
	code := dispatch(ctx, all, &stdout, &stderr)
	return code, stdout.Bytes(), stderr.String()
}

func decodeResult(t *testing.T, b []byte) rtResult {
	t.Helper()
	var r rtResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, b)
	}
	return r
}

func field(rec [][2]string, key string) string {
	for _, kv := range rec {
		if kv[0] == key {
			return kv[1]
		}
	}
	return ""
}

func TestRTCLIPostGetContentAndErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "blob.bin")
	blob := []byte{0, 1, 2, 255, '\n', '\r', 'x'}
	if err := os.WriteFile(file, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	subject := fmt.Sprintf("cli test %d", time.Now().UnixNano())
	code, out, errOut := rtCLI(t, "post", "ticket/new", "-f", "id=ticket/new", "-f", "Queue=General",
		"-f", "Subject="+subject, "-f", "Text=line one\n  line two", "-a", file)
	r := decodeResult(t, out)
	if code != 0 || r.Status != 200 || len(r.Comments) == 0 {
		t.Fatalf("post: code %d %+v stderr %s", code, r, errOut)
	}
	m := regexp.MustCompile(`^Ticket (\d+) created\.$`).FindStringSubmatch(r.Comments[0])
	if m == nil {
		t.Fatalf("comments = %q", r.Comments)
	}
	id := m[1]

	code, out, _ = rtCLI(t, "get", "ticket/"+id+"/show", "--query", "fields=Subject,Queue")
	r = decodeResult(t, out)
	if code != 0 || len(r.Records) != 1 || field(r.Records[0], "id") != "ticket/"+id || field(r.Records[0], "Subject") != subject {
		t.Fatalf("get: %d %+v", code, r)
	}

	code, out, _ = rtCLI(t, "get", "ticket/"+id+"/attachments")
	r = decodeResult(t, out)
	am := regexp.MustCompile(`(\d+): blob\.bin`).FindStringSubmatch(field(r.Records[0], "Attachments"))
	if code != 0 || am == nil {
		t.Fatalf("attachments: %+v", r)
	}
	code, out, _ = rtCLI(t, "get", "ticket/"+id+"/attachments/"+am[1]+"/content")
	if code != 0 || !bytes.Equal(out, blob) {
		t.Errorf("content: code %d bytes %q", code, out)
	}

	code, out, _ = rtCLI(t, "get", "ticket/999999999")
	r = decodeResult(t, out)
	if code == 0 || r.Status != 404 || r.Error == "" || r.StatusText != "Ticket 999999999 does not exist" {
		t.Errorf("missing ticket: %d %+v", code, r)
	}

	code, out, _ = rtCLI(t, "post", "ticket/"+id, "-f", "Subject=cli partial", "-f", "Queue=NoSuchQueueCLI", "-f", "spam=1")
	r = decodeResult(t, out)
	errs := map[string]string{}
	for _, e := range r.Errors {
		errs[e[0]] = e[1]
	}
	if code == 0 || r.Status != 409 || !r.Partial || errs["spam"] != "Unknown field." || !strings.Contains(errs["queue"], "does not exist") {
		t.Errorf("409: %d %+v", code, r)
	}

	code, out, _ = rtCLI(t, "get", "search/ticket", "--query", "query=id = "+id, "--query", "orderby=+id", "--query", "format=s")
	r = decodeResult(t, out)
	if code != 0 || len(r.Lines) != 1 || r.Lines[0] != id+": cli partial" {
		t.Errorf("search: %d %+v", code, r)
	}
}

func TestRTCLIUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := dispatch(context.Background(), []string{"rt", "--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "credential check") {
		t.Errorf("--help: %d %q", code, stderr.String())
	}
	stderr.Reset()
	t.Setenv("RTBRIDGE_RT_URL", "")
	if code := dispatch(context.Background(), []string{"rt", "get", "ticket/1"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "no RT URL") {
		t.Errorf("no URL: %d %q", code, stderr.String())
	}
	stderr.Reset()
	if code := dispatch(context.Background(), []string{"rt", "get", "--url", "http://127.0.0.1:1/", "--auth", "token", "x"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "token-file") {
		t.Errorf("token without file: %d %q", code, stderr.String())
	}
}
