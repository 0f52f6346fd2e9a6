package mailparse

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// DedupKey is the key intake deduplicates a message by: its normalised
// Message-ID ("msgid:…"), or for mail without one a hash of the header as
// read ("header-sha256:…"; the header carries Received lines and a Date,
// so it is the same only for the same delivery). It reads at most maxBytes
// from header (DefaultMaxHeaderBytes when maxBytes <= 0), so a message
// without a blank line costs no more than that; the hash covers exactly
// the bytes read.
func DedupKey(header io.Reader, maxBytes int) (string, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxHeaderBytes
	}
	sum := sha256.New()
	br := bufio.NewReader(io.TeeReader(io.LimitReader(header, int64(maxBytes)), sum))
	h, _, _, _, err := readHeader(bufLines{br}, maxBytes)
	if err != nil {
		return "", fmt.Errorf("mailparse: read header: %w", err)
	}
	if id := NormalizeMessageID(h.get("Message-Id")); id != "" {
		return "msgid:" + id, nil
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return "", fmt.Errorf("mailparse: read header: %w", err)
	}
	return "header-sha256:" + hex.EncodeToString(sum.Sum(nil)), nil
}
