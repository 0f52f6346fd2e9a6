package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Payloads are mail and webhook bodies: only the daemon's user may read
// them, whatever the umask. The directories are 0700 and every file 0600;
// SQLite gives its -wal and -shm files the database file's mode, so the
// database is created 0600 before SQLite opens it.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// prepareDir creates the state directory and its payload folder with
// dirMode and the database file with fileMode, and tightens what an older
// version left more open.
func prepareDir(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, RawDir)} {
		if err := os.MkdirAll(d, dirMode); err != nil {
			return fmt.Errorf("store: create state directory: %w", err)
		}
		if err := os.Chmod(d, dirMode); err != nil {
			return fmt.Errorf("store: state directory mode: %w", err)
		}
	}
	db := filepath.Join(dir, DBName)
	f, err := os.OpenFile(db, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", db, err)
	}
	f.Close()
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Chmod(p, fileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: file mode: %w", err)
		}
	}
	return nil
}
