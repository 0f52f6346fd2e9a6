package store

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
)

// SizeBytes is what the store takes on disk: the database, its WAL and the
// payload files. It walks the directory, so callers sample it (the daemon
// does every few seconds), never per request.
func (s *Store) SizeBytes(ctx context.Context) (int64, error) {
	var total int64
	err := filepath.WalkDir(s.dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	return total, nil
}
