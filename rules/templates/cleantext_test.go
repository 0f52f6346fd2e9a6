package templates

import (
	"strings"
	"testing"
)

// cleanTextCases are texts on both sides of isCleanText's line.
var cleanTextCases = []string{
	"", "plain text\nwith lines\tand tabs", "crlf\r\nline", "lone\rcr", "nul\x00byte", "del\x7f",
	"esc\x1b[31m", "bell\x07", "invalid \xff\xfe bytes", "truncated \xe2\x82", "C1 \u0085 next line",
	"C1 \u009f end", "first non-C1 \u00a0 nbsp", "Grüße, naïve café ✓ 日本語 🙂", "ok \ufffd replacement",
	"line sep \u2028 para \u2029", "bom \ufeff", strings.Repeat("2 KB of ordinary ASCII text. ", 70),
}

func TestCleanTextFastPathAgrees(t *testing.T) {
	for _, s := range cleanTextCases {
		checkCleanText(t, s)
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range cleanTextCases {
		f.Add(s)
	}
	f.Fuzz(checkCleanText)
}

// checkCleanText: text the fast path passes through is text the full
// cleaning leaves unchanged, and CleanText equals the full cleaning.
func checkCleanText(t *testing.T, s string) {
	want := cleanTextSlow(s)
	if isCleanText(s) && want != s {
		t.Fatalf("isCleanText(%q) but cleaning gives %q", s, want)
	}
	if got := CleanText(s); got != want {
		t.Fatalf("CleanText(%q) = %q, want %q", s, got, want)
	}
}
