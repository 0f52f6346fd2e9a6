package form

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

const transcripts = "../testdata/rt503"

// transcript returns the HTTP body of a recorded RT answer (the bytes after
// the CRLF CRLF that ends the headers).
func transcript(t testing.TB, prefix string) []byte {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(transcripts, prefix+"-*.http"))
	if err != nil || len(m) != 1 {
		t.Fatalf("transcript %s: %v %v", prefix, m, err)
	}
	raw, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatalf("transcript %s: no header end", prefix)
	}
	return raw[i+4:]
}

func allTranscripts(t testing.TB) map[string][]byte {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(transcripts, "*.http"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range m {
		name := filepath.Base(p)
		out[name] = transcript(t, name[:2])
	}
	return out
}
