package mailparse

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
)

func TestDedupKey(t *testing.T) {
	withID := "Received: from x\r\nMessage-ID: < abc@example.org >\r\nSubject: s\r\n\r\n"
	if k, err := DedupKey(strings.NewReader(withID), 0); err != nil || k != "msgid:abc@example.org" {
		t.Errorf("with Message-ID: %q %v", k, err)
	}
	noID := "Received: from x\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n"
	sum := sha256.Sum256([]byte(noID))
	if k, err := DedupKey(strings.NewReader(noID), 0); err != nil || k != "header-sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("without Message-ID: %q %v", k, err)
	}
}

// endless is a header that never ends: no blank line, ever.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	const line = "X-Filler: some value\r\n"
	for i := range p {
		p[i] = line[(e.n+int64(i))%int64(len(line))]
	}
	e.n += int64(len(p))
	return len(p), nil
}

// A header without a blank line is read up to the bound, not to its end.
func TestDedupKeyBounded(t *testing.T) {
	r := &endless{}
	k, err := DedupKey(r, 64<<10)
	if err != nil || !strings.HasPrefix(k, "header-sha256:") {
		t.Fatalf("%q %v", k, err)
	}
	if r.n > 64<<10+64<<10 { // at most the bound plus one read
		t.Errorf("read %d bytes for a bound of %d", r.n, 64<<10)
	}
	// The same bytes give the same key.
	head := make([]byte, 64<<10)
	io.ReadFull(&endless{}, head)
	k2, _ := DedupKey(bytes.NewReader(head), 64<<10)
	if k2 != k {
		t.Errorf("key of the first 64 KiB %q, of the endless header %q", k2, k)
	}
}
