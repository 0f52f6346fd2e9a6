package imapsource

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/rtbridge/rtbridge/bridge/source"
)

// finisher owns a second connection for dispositions, so they never wait
// for the fetch connection's IDLE. It is reused while busy and closed when
// idle for a while.
type finisher struct {
	s     *Source
	mu    sync.Mutex
	c     *imapclient.Client
	uv    uint32    // UIDVALIDITY of the selected folder
	until time.Time // when its OAuth2 token runs out (zero: never)
	timer *time.Timer
}

const finisherIdle = 30 * time.Second

func (f *finisher) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop()
}

func (f *finisher) drop() {
	if f.c != nil {
		f.c.Close()
		f.c = nil
	}
}

// conn returns a logged-in connection with the folder selected.
func (f *finisher) conn(ctx context.Context) (*imapclient.Client, error) {
	if f.c != nil && !f.until.IsZero() && time.Now().After(f.until) {
		f.drop() // log in again with a fresh token
	}
	if f.c != nil {
		select {
		case <-f.c.Closed():
			f.c = nil
		default:
			return f.c, nil
		}
	}
	c, until, err := f.s.dial(ctx, nil)
	if err != nil {
		return nil, err
	}
	stop := f.s.guard(ctx, c, commandTimeout)
	sel, err := c.Select(f.s.folder, nil).Wait()
	stop()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("imap select %q: %w", f.s.folder, err)
	}
	f.c, f.uv, f.until = c, sel.UIDValidity, until
	if f.timer == nil {
		f.timer = time.AfterFunc(finisherIdle, f.close)
	}
	return c, nil
}

// Finish applies the disposition once the event is final: done, ignored and
// duplicate mail gets the configured disposition (seen, move, delete); dead
// mail moves to the failure folder when one is set and is left alone
// otherwise. It is idempotent: a UID that is already gone is success.
func (s *Source) Finish(ctx context.Context, fin source.Final) error {
	o := fin.Origin
	uv, err1 := strconv.ParseUint(o[OriginUIDValidity], 10, 32)
	uid, err2 := strconv.ParseUint(o[OriginUID], 10, 32)
	if err1 != nil || err2 != nil || o[OriginFolder] != s.folder {
		return fmt.Errorf("imapsource %s: event %s has no usable origin (%v)", s.name, fin.EventID, o)
	}
	mode, folder := s.cfg.DispositionMode()
	if fin.State == source.Dead {
		if s.cfg.FailureFolder == "" {
			return nil
		}
		mode, folder = "move", s.cfg.FailureFolder
	}
	if mode == "delete" && o[OriginOversize] != "" {
		mode = "seen" // the server holds the only full copy
	}
	if !s.lease.held() {
		// The instance that polls the folder disposes of its mail; the
		// store lists this event to it (pgstore Unfinished).
		return fmt.Errorf("imapsource %s: event %s: %w", s.name, fin.EventID, errNotHolder)
	}

	s.fin.mu.Lock()
	defer s.fin.mu.Unlock()
	if s.fin.timer != nil {
		s.fin.timer.Reset(finisherIdle)
	}
	err := s.dispose(ctx, uint32(uv), imap.UID(uid), mode, folder)
	if !errors.Is(err, errNotHolder) { // not a failing target
		s.dispositionResult(strings.TrimSpace(mode+" "+folder), err)
	}
	if err != nil {
		s.fin.drop() // start clean next time
		return fmt.Errorf("imapsource %s: %s uid %d of event %s: %w", s.name, mode, uid, fin.EventID, err)
	}
	s.log.Info("disposition done", "event", fin.EventID, "state", fin.State, "uid", uid, "action", mode, "folder", folder)
	return nil
}

func (s *Source) dispose(ctx context.Context, uv uint32, uid imap.UID, mode, folder string) error {
	c, err := s.fin.conn(ctx)
	if err != nil {
		return err
	}
	if s.fin.uv != uv {
		// The folder was rebuilt: this UID names another message now, or
		// none. Acting on it could hit the wrong mail.
		s.log.Warn("UIDVALIDITY changed since the message was fetched; disposition skipped", "uid", uid, "old", uv, "now", s.fin.uv)
		return nil
	}
	stop := s.guard(ctx, c, commandTimeout)
	defer stop()
	// A reused connection knows only the messages that existed when it
	// selected the folder (or last synced): without this NOOP the search
	// below misses newer mail and the disposition is skipped as "done".
	if err := c.Noop().Wait(); err != nil {
		return fmt.Errorf("noop: %w", err)
	}
	set := imap.UIDSetNum(uid)
	sd, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if len(sd.AllUIDs()) == 0 {
		return nil // already moved or deleted: done before
	}
	if !s.lease.held() { // the commands above took long enough to lose it
		return errNotHolder
	}
	caps := c.Caps()
	switch mode {
	case "seen":
		return addFlags(c, set, imap.FlagSeen)
	case "move":
		return move(c, set, folder)
	case "delete":
		if caps.Has(imap.CapUIDPlus) {
			if err := addFlags(c, set, imap.FlagDeleted); err != nil {
				return err
			}
			// UID EXPUNGE of exactly this UID: never a bare EXPUNGE, which
			// would also remove other clients' \Deleted mail.
			if _, err := c.UIDExpunge(set).Collect(); err != nil {
				return fmt.Errorf("uid expunge: %w", err)
			}
			return nil
		}
		if s.cfg.TrashFolder != "" && caps.Has(imap.CapMove) {
			return move(c, set, s.cfg.TrashFolder)
		}
		// Nothing safe can remove it: mark it so a human sees it is done.
		s.log.Warn("server has neither UIDPLUS nor MOVE with a trash folder; message flagged \\Deleted and \\Seen but not expunged", "uid", uid)
		return addFlags(c, set, imap.FlagSeen, imap.FlagDeleted)
	}
	return fmt.Errorf("unknown disposition %q", mode)
}

func addFlags(c *imapclient.Client, set imap.UIDSet, flags ...imap.Flag) error {
	err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}, nil).Close()
	if err != nil {
		return fmt.Errorf("store %v: %w", flags, err)
	}
	return nil
}

// errUnsafeMove: without MOVE or UIDPLUS, the library's fallback would send
// a bare EXPUNGE.
var errUnsafeMove = errors.New("server has neither MOVE nor UIDPLUS; a move would need a bare EXPUNGE")

func move(c *imapclient.Client, set imap.UIDSet, folder string) error {
	caps := c.Caps()
	if !caps.Has(imap.CapMove) && !caps.Has(imap.CapUIDPlus) {
		// Copy and mark seen: the message is where it should be, and the
		// original is visibly handled.
		if _, err := c.Copy(set, folder).Wait(); err != nil {
			return fmt.Errorf("copy to %q: %w (%w)", folder, err, errUnsafeMove)
		}
		return addFlags(c, set, imap.FlagSeen)
	}
	// With MOVE this is UID MOVE; with only UIDPLUS the library falls back
	// to UID COPY + UID STORE + UID EXPUNGE of this UID.
	if _, err := c.Move(set, folder).Wait(); err != nil {
		return fmt.Errorf("move to %q: %w", folder, err)
	}
	return nil
}
