package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

func decodeREST2(t *testing.T, b []byte) (rest2Result, map[string]any) {
	t.Helper()
	var r rest2Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, b)
	}
	var body map[string]any
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
		}
	}
	return r, body
}

func TestRTCLIRest2(t *testing.T) {
	dir := t.TempDir()
	subject := fmt.Sprintf("cli rest2 %d", time.Now().UnixNano())
	data := filepath.Join(dir, "new.json")
	if err := os.WriteFile(data, fmt.Appendf(nil, `{"Queue":"General","Subject":%q,"Content":"line one\nline two"}`, subject), 0o600); err != nil {
		t.Fatal(err)
	}
	// Connection flags before the verb; basic is REST2's default auth.
	code, out, stderr := rtCLI(t, "--api", "rest2", "post", "ticket", "--data", data)
	r, body := decodeREST2(t, out)
	if code != 0 || r.Status != 201 || r.StatusText != "Created" || body["type"] != "ticket" {
		t.Fatalf("create: exit %d, %s, stderr %s", code, out, stderr)
	}
	id, _ := body["id"].(string)

	code, out, _ = rtCLI(t, "get", "ticket/"+id, "--api", "rest2")
	r, body = decodeREST2(t, out)
	if code != 0 || r.Status != 200 || body["Subject"] != subject {
		t.Fatalf("get: exit %d, %s", code, out)
	}

	upd := filepath.Join(dir, "upd.json")
	if err := os.WriteFile(upd, []byte(`{"Subject":"`+subject+` renamed"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// RT answers an update with a list of messages.
	code, out, _ = rtCLI(t, "--api", "rest2", "put", "ticket/"+id, "--data", upd)
	var msgs []string
	if err := json.Unmarshal(out, &r); err != nil || code != 0 || r.Status != 200 || json.Unmarshal(r.Body, &msgs) != nil || len(msgs) != 1 {
		t.Fatalf("put: exit %d, %s", code, out)
	}
	code, out, _ = rtCLI(t, "--api", "rest2", "get", "tickets", "--query", "query=id = "+id, "--query", "fields=Subject")
	r, body = decodeREST2(t, out)
	items, _ := body["items"].([]any)
	if code != 0 || len(items) != 1 || items[0].(map[string]any)["Subject"] != subject+" renamed" {
		t.Fatalf("search after put: exit %d, %s", code, out)
	}

	// RT's refusal: the same JSON, the error and kind, exit 1.
	code, out, _ = rtCLI(t, "--api", "rest2", "get", "ticket/999999999")
	r, body = decodeREST2(t, out)
	if code != 1 || r.Status != 404 || r.Kind != "permanent" || r.Error == "" || body["message"] == nil {
		t.Errorf("missing ticket: exit %d, %s", code, out)
	}
	// Usage errors: exit 2, nothing sent.
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Queue":`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--api", "rest2", "post", "ticket", "--data", bad},
		{"--api", "rest2", "post", "ticket", "-f", "Queue=General"},
		{"put", "ticket/1"}, // put is REST2 only
		{"--api", "rest3", "get", "ticket/1"},
	} {
		if code, out, _ := rtCLI(t, args...); code != 2 || len(out) != 0 {
			t.Errorf("%q: exit %d, stdout %q; want 2 and nothing", args, code, out)
		}
	}
}

func TestRTCLIRest2WrongPasswordAndToken(t *testing.T) {
	rt := testenv.RequireRT(t)
	dir := t.TempDir()
	pw, tok := filepath.Join(dir, "pw"), filepath.Join(dir, "tok")
	_ = os.WriteFile(pw, []byte("wrong-password\n"), 0o600)
	_ = os.WriteFile(tok, []byte(rt.Token+"\n"), 0o600)
	run := func(args ...string) (int, []byte) {
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		code := dispatch(ctx, append([]string{"rt", "--api", "rest2", "--url", rt.URL}, args...), &stdout, &stderr)
		return code, stdout.Bytes()
	}
	code, out := run("--user", rt.User, "--password-file", pw, "get", "queue/General")
	r, _ := decodeREST2(t, out)
	if code != 1 || r.Status != 401 || r.Kind != "auth" || bytes.Contains(out, []byte("wrong-password")) {
		t.Errorf("wrong password: exit %d, %s", code, out)
	}
	code, out = run("--token-file", tok, "get", "queue/General")
	r, body := decodeREST2(t, out)
	if code != 0 || r.Status != 200 || body["Name"] != "General" {
		t.Errorf("token: exit %d, %s", code, out)
	}
}

func TestVerbFirst(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"get x", "get x"},
		{"--api rest2 get x", "get --api rest2 x"},
		{"-v --api=rest2 post x --data -", "post -v --api=rest2 x --data -"},
		{"--user get get x", "get --user get x"}, // a flag's value is not the verb
		{"x get", "x get"},
	} {
		got := fmt.Sprint(verbFirst(splitWords(tc.in)))
		if want := fmt.Sprint(splitWords(tc.want)); got != want {
			t.Errorf("verbFirst(%q) = %s, want %s", tc.in, got, want)
		}
	}
}

func splitWords(s string) []string {
	var out []string
	for _, f := range bytes.Fields([]byte(s)) {
		out = append(out, string(f))
	}
	return out
}
