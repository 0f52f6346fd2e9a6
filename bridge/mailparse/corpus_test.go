package mailparse

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// fileOpener returns an open func over a file, as the store hands it out.
func fileOpener(path string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return os.Open(path) }
}

// checkAccounted parses one file and verifies that every attachment can be
// opened again and yields exactly Size bytes, and that a message with
// content has a body, an attachment or a problem: nothing vanishes silently.
func checkAccounted(t *testing.T, path string) {
	t.Helper()
	m, err := Parse(fileOpener(path))
	if err != nil {
		t.Fatalf("%s: Parse: %v", path, err)
	}
	st, _ := os.Stat(path)
	if m.RawSize != st.Size() {
		t.Errorf("%s: RawSize %d, file has %d bytes", path, m.RawSize, st.Size())
	}
	for i, a := range m.Attachments {
		rc, err := a.Open()
		if err != nil {
			t.Fatalf("%s: attachment %d (%s) Open: %v", path, i, a.Name, err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != a.Size {
			t.Errorf("%s: attachment %d (%s): reread %d bytes (err %v), Size says %d", path, i, a.Name, n, err, a.Size)
		}
		if a.Name == "" || a.ContentType == "" {
			t.Errorf("%s: attachment %d without name or type: %+v", path, i, a)
		}
	}
	raw, _ := os.ReadFile(path)
	_, body, _ := bytes.Cut(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n\n"))
	if len(bytes.TrimSpace(body)) > 0 && strings.TrimSpace(m.TextBody) == "" &&
		strings.TrimSpace(m.HTMLBody) == "" && len(m.Attachments) == 0 && len(m.ParseProblems) == 0 {
		t.Errorf("%s: content vanished: no body, attachment or problem", path)
	}
}

func TestCorpusEnmime(t *testing.T) {
	shared, ok := testenv.SharedDir()
	if !ok {
		t.Skip("../shared absent (fresh clone); corpus test needs shared/corpus/mail-enmime")
	}
	files, _ := filepath.Glob(filepath.Join(shared, "corpus", "mail-enmime", "*.raw"))
	if len(files) == 0 {
		t.Skip("no corpus files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { checkAccounted(t, f) })
	}
	t.Logf("%d corpus mails parsed", len(files))
}
