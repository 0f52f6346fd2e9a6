package daemon

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// http.limits reaches the listener: with one connection per client, a
// second connection from the same address is closed while the first is
// open, and served once it is closed.
func TestHTTPLimitsPerClient(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte("unused\n"), 0o600)
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token_file: rt-token }
state: { dir: state }
http: { listen: "127.0.0.1:0", limits: { max_connections_per_client: 1 } }
rules:
%s`, createRule)), 0o600)
	r := start(t, cfg)
	first, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	time.Sleep(100 * time.Millisecond) // accepted, holding the client's one slot
	second, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	fmt.Fprintf(second, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	second.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := second.Read(make([]byte, 64)); err == nil {
		t.Fatalf("second connection from the same address answered (%d bytes)", n)
	}
	first.Close()
	time.Sleep(100 * time.Millisecond)
	if code, _ := r.get(t, "/healthz"); code != 200 {
		t.Fatalf("after the first closed: %d", code)
	}
}
