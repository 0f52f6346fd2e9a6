package imapsource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// targetFolders are the folders dispositions put mail in.
func (s *Source) targetFolders() []string {
	var out []string
	mode, folder := s.cfg.DispositionMode()
	if mode == "move" {
		out = append(out, folder)
	}
	if mode == "delete" && s.cfg.TrashFolder != "" {
		out = append(out, s.cfg.TrashFolder)
	}
	if s.cfg.FailureFolder != "" {
		out = append(out, s.cfg.FailureFolder)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// createFolders creates the target folders that do not exist (with
// create_folders). A folder it cannot create is logged and left to show as
// a failing disposition: intake goes on.
func (s *Source) createFolders(ctx context.Context, c *imapclient.Client) {
	stop := s.guard(ctx, c, commandTimeout)
	defer stop()
	for _, f := range s.targetFolders() {
		list, err := c.List("", f, nil).Collect()
		if err == nil && len(list) > 0 {
			continue
		}
		if err == nil {
			err = c.Create(f, nil).Wait()
		}
		var ie *imap.Error
		switch {
		case err == nil:
			s.log.Info("folder created (create_folders)", "folder", f)
		case errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists:
			// another folder of the account made it meanwhile
		default:
			s.log.Warn("could not create folder (create_folders)", "folder", f, "err", err)
		}
	}
}

// dispositionResult records how the latest disposition to target (its
// action and folder) went: one that failed makes the source degraded until
// a disposition to the same target succeeds.
func (s *Source) dispositionResult(target string, err error) {
	s.update(func(st *Status) {
		if err == nil {
			if _, ok := s.failing[target]; !ok {
				return
			}
			delete(s.failing, target)
		} else {
			if s.failing == nil {
				s.failing = map[string]string{}
			}
			s.failing[target] = err.Error()
		}
		var parts []string
		for _, e := range s.failing {
			parts = append(parts, e) // names the action and folder
		}
		sort.Strings(parts)
		if st.Degraded == "" && len(parts) > 0 {
			st.DegradedSince = time.Now()
		}
		if len(parts) == 0 {
			st.DegradedSince = time.Time{}
		}
		st.Degraded = strings.Join(parts, "; ")
	})
}

// Degraded is nil while dispositions work, else what keeps failing (the
// mail stays where it is, e.g. a move to a folder that does not exist).
func (s *Source) Degraded() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Degraded == "" {
		return nil
	}
	return fmt.Errorf("disposition failing: %s", s.st.Degraded)
}
