package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s")
	os.WriteFile(p, []byte("  spaced secret \n"), 0o600)
	got, err := ReadSecretFile(p)
	if err != nil || string(got) != "  spaced secret " {
		t.Fatalf("got %q, %v", got, err)
	}
	os.WriteFile(p, []byte("\n"), 0o600)
	if _, err := ReadSecretFile(p); err == nil {
		t.Error("empty secret file accepted")
	}
	if _, err := ReadSecretFile(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}
