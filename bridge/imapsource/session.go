package imapsource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"

	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/event"
)

// ErrAuth marks a rejected login (wrong user or password).
var ErrAuth = errors.New("imap login rejected")

// commandTimeout bounds a command that should answer quickly; a server that
// stops answering (network black hole) ends the session instead of hanging
// it forever.
const commandTimeout = 2 * time.Minute

// maxIdle re-issues IDLE well before the 29-minute limit of RFC 2177.
const maxIdle = 25 * time.Minute

// dial connects and logs in. wake, when not nil, is signalled on EXISTS.
// until is when the session should log in again (OAuth2; zero: never).
func (s *Source) dial(ctx context.Context, wake chan<- struct{}) (c *imapclient.Client, until time.Time, err error) {
	opts := &imapclient.Options{
		TLSConfig:   s.tls.Clone(),
		WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader},
		Dialer:      &net.Dialer{Timeout: 30 * time.Second},
	}
	if wake != nil {
		opts.UnilateralDataHandler = &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			},
		}
	}
	switch s.cfg.TLS {
	case "starttls":
		c, err = imapclient.DialStartTLS(s.cfg.Address, opts)
	case "none":
		c, err = imapclient.DialInsecure(s.cfg.Address, opts)
	default:
		c, err = imapclient.DialTLS(s.cfg.Address, opts)
	}
	if err != nil {
		return nil, time.Time{}, markUnreachable(fmt.Errorf("imap connect %s (%s): %w", s.cfg.Address, s.cfg.TLS, err))
	}
	stop := s.guard(ctx, c, commandTimeout)
	defer stop()
	until, err = s.login(ctx, c)
	if err != nil {
		c.Close()
		return nil, time.Time{}, err
	}
	return c, until, nil
}

// guard closes c when ctx ends or d passes, unless stop is called first.
func (s *Source) guard(ctx context.Context, c *imapclient.Client, d time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			c.Close()
		case <-t.C:
			s.log.Warn("imap server did not answer in time; closing the connection", "timeout", d)
			c.Close()
		case <-done:
		}
	}()
	return func() { close(done) }
}

// session runs one connection: select, catch up, then wait (IDLE or poll)
// and catch up again, until an error or ctx ends. selected reports that it
// got as far as selecting the folder.
func (s *Source) session(ctx context.Context, sink source.Sink) (selected bool, err error) {
	wake := make(chan struct{}, 1)
	c, until, err := s.dial(ctx, wake)
	if err != nil {
		return false, err
	}
	s.update(func(st *Status) { st.Logins++ })
	defer c.Close()
	// Close the connection when ctx ends, whatever it is doing.
	stopWatch := s.guard(ctx, c, 1<<62)
	defer stopWatch()

	if s.cfg.CreateFolders {
		s.createFolders(ctx, c)
	}
	stop := s.guard(ctx, c, commandTimeout)
	sel, err := c.Select(s.folder, nil).Wait()
	stop()
	if err != nil {
		return false, fmt.Errorf("imap select %q: %w", s.folder, err)
	}
	s.update(func(st *Status) {
		st.Connected, st.UIDValidity, st.RetryAt = true, sel.UIDValidity, time.Time{}
	})
	s.log.Info("imap folder selected", "uidvalidity", sel.UIDValidity, "messages", sel.NumMessages,
		"idle", s.cfg.UseIdle() && c.Caps().Has(imap.CapIdle))
	for {
		if err := s.catchUp(ctx, c, sel.UIDValidity, sink); err != nil {
			return true, err
		}
		if err := s.wait(ctx, c, wake, until); err != nil {
			if errors.Is(err, errRelogin) {
				stop := s.guard(ctx, c, commandTimeout)
				c.Logout().Wait() // a clean end; the next session logs in anew
				stop()
			}
			return true, err
		}
	}
}

// wait blocks until new mail may be there: EXISTS during IDLE, or the poll
// interval (also the IDLE safety net: the search after it never depends on
// the EXISTS arriving).
//
// At until (the OAuth2 token's end; zero: none) it returns errRelogin.
func (s *Source) wait(ctx context.Context, c *imapclient.Client, wake chan struct{}, until time.Time) error {
	period := min(s.cfg.PollInterval, maxIdle)
	var relogin <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		relogin = t.C
	}
	if !s.cfg.UseIdle() || !c.Caps().Has(imap.CapIdle) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.Closed():
			return errors.New("imap connection closed by server")
		case <-relogin:
			return errRelogin
		case <-time.After(s.cfg.PollInterval):
		}
		stop := s.guard(ctx, c, commandTimeout)
		defer stop()
		if err := c.Noop().Wait(); err != nil {
			return fmt.Errorf("imap noop: %w", err)
		}
		return nil
	}
	select { // drop a wake-up that the last catch-up already covered
	case <-wake:
	default:
	}
	idle, err := c.Idle()
	if err != nil {
		return fmt.Errorf("imap idle: %w", err)
	}
	s.update(func(st *Status) { st.Idling = true })
	var closed, expired bool
	select {
	case <-ctx.Done():
	case <-wake:
	case <-c.Closed():
		closed = true
	case <-relogin:
		expired = true
	case <-time.After(period):
	}
	s.update(func(st *Status) { st.Idling = false })
	if closed {
		return errors.New("imap connection closed by server during IDLE")
	}
	stop := s.guard(ctx, c, commandTimeout)
	defer stop()
	if err := idle.Close(); err != nil {
		return fmt.Errorf("imap idle done: %w", err)
	}
	if err := idle.Wait(); err != nil {
		return fmt.Errorf("imap idle: %w", err)
	}
	if expired {
		return errRelogin
	}
	return ctx.Err()
}

// cursor is the stored progress of the folder.
type cursor struct {
	uidValidity uint32
	lastUID     imap.UID
}

const cursorKey = "cursor"

func (s *Source) loadCursor(ctx context.Context) (cursor, error) {
	v, err := s.cursors.Cursor(ctx, s.name, cursorKey)
	if err != nil || v == "" {
		return cursor{}, err
	}
	a, b, ok := strings.Cut(v, ":")
	uv, err1 := strconv.ParseUint(a, 10, 32)
	uid, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return cursor{}, fmt.Errorf("imapsource: stored cursor %q unreadable", v)
	}
	return cursor{uint32(uv), imap.UID(uid)}, nil
}

func (s *Source) saveCursor(ctx context.Context, c cursor) error {
	return s.cursors.SetCursor(ctx, s.name, cursorKey, fmt.Sprintf("%d:%d", c.uidValidity, c.lastUID))
}

// catchUp accepts every message above the cursor, in UID order, in batches.
func (s *Source) catchUp(ctx context.Context, c *imapclient.Client, uidValidity uint32, sink source.Sink) error {
	cur, err := s.loadCursor(ctx)
	if err != nil {
		return err
	}
	if cur.uidValidity != uidValidity {
		if cur.uidValidity != 0 {
			// UIDs mean something else now: read the folder again; the
			// store's Message-ID dedup keeps already accepted mail from
			// being processed twice.
			s.log.Warn("UIDVALIDITY changed; rescanning the folder", "old", cur.uidValidity, "new", uidValidity)
		}
		cur = cursor{uidValidity: uidValidity}
		if err := s.saveCursor(ctx, cur); err != nil {
			return err
		}
	}
	for {
		stop := s.guard(ctx, c, commandTimeout)
		crit := &imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: cur.lastUID + 1, Stop: 0}}}}
		sd, err := c.UIDSearch(crit, nil).Wait()
		stop()
		if err != nil {
			return fmt.Errorf("imap search: %w", err)
		}
		// "n:*" also matches the highest UID when it is below n.
		uids := slices.DeleteFunc(sd.AllUIDs(), func(u imap.UID) bool { return u <= cur.lastUID })
		slices.Sort(uids)
		s.update(func(st *Status) { st.LastCheck, st.err, st.LastError = time.Now(), nil, "" })
		if len(uids) == 0 {
			return nil
		}
		if len(uids) > s.cfg.BatchSize {
			uids = uids[:s.cfg.BatchSize]
		}
		heads, err := s.fetchHeaders(ctx, c, uids)
		if err != nil {
			return err
		}
		for _, uid := range uids {
			h, ok := heads[uid]
			if !ok {
				s.log.Info("message vanished before it was fetched (expunged by another client)", "uid", uid)
			} else if err := s.acceptOne(ctx, c, uidValidity, uid, h, sink); err != nil {
				return err
			}
			cur.lastUID = uid
			if err := s.saveCursor(ctx, cur); err != nil {
				return err
			}
			s.update(func(st *Status) { st.LastUID = uint32(uid) })
		}
	}
}

type head struct {
	header []byte
	size   int64
}

// headerSection is at most the parser's header cap: a message without a
// blank line would otherwise come whole, a batch at a time, before
// max_message_bytes is even looked at.
var headerSection = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true,
	Partial: &imap.SectionPartial{Offset: 0, Size: mailparse.DefaultMaxHeaderBytes}}

// fetchHeaders gets the size and header block of each message: enough to
// decide the dedup key and the size limit before the body is streamed.
func (s *Source) fetchHeaders(ctx context.Context, c *imapclient.Client, uids []imap.UID) (map[imap.UID]head, error) {
	stop := s.guard(ctx, c, commandTimeout)
	defer stop()
	msgs, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{headerSection},
	}).Collect()
	if err != nil {
		return nil, fmt.Errorf("imap fetch headers: %w", err)
	}
	out := make(map[imap.UID]head, len(msgs))
	for _, m := range msgs {
		out[m.UID] = head{header: m.FindBodySection(headerSection), size: m.RFC822Size}
	}
	return out, nil
}

// dedupKey is the normalised Message-ID, or a hash of the header block for
// mail without one (the header carries Received lines and a Date, so it is
// the same only for the same delivery).
func dedupKey(header []byte) string {
	k, err := mailparse.DedupKey(bytes.NewReader(header), mailparse.DefaultMaxHeaderBytes)
	if err != nil { // a bytes.Reader does not fail; keep a key all the same
		sum := sha256.Sum256(header)
		return "header-sha256:" + hex.EncodeToString(sum[:])
	}
	return k
}

var wholeMessage = &imap.FetchItemBodySection{Peek: true}

// acceptOne streams one message into the store. The FETCH literal is handed
// to Accept as it arrives; nothing is buffered whole.
func (s *Source) acceptOne(ctx context.Context, c *imapclient.Client, uidValidity uint32, uid imap.UID, h head, sink source.Sink) error {
	in := source.Incoming{
		Source:   s.name,
		Kind:     event.KindMail,
		DedupKey: dedupKey(h.header),
		Origin: map[string]string{
			OriginFolder:      s.folder,
			OriginUIDValidity: strconv.FormatUint(uint64(uidValidity), 10),
			OriginUID:         strconv.FormatUint(uint64(uid), 10),
		},
	}
	if h.size > s.cfg.MaxMessageBytes {
		// Too big to take: store the header so RT hears of it; the message
		// itself stays on the server.
		size := strconv.FormatInt(h.size, 10)
		in.Origin[OriginOversize] = size
		in.Meta = map[string]string{source.MetaOversize: size, source.MetaLimit: strconv.FormatInt(s.cfg.MaxMessageBytes, 10)}
		in.Raw = bytes.NewReader(h.header)
		s.log.Warn("message exceeds max_message_bytes; accepting its header only", "uid", uid, "size", h.size)
		return s.accept(ctx, sink, in, uid)
	}
	fc := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{wholeMessage}})
	var acceptErr error
	msg := fc.Next()
	got := false
	for item := nextItem(msg); item != nil; item = nextItem(msg) {
		body, ok := item.(imapclient.FetchItemDataBodySection)
		if !ok || body.Literal == nil {
			continue
		}
		got = true
		in.Raw = body.Literal
		acceptErr = s.accept(ctx, sink, in, uid)
		// Keep the protocol in step even when the store stopped reading.
		if _, err := io.Copy(io.Discard, body.Literal); acceptErr == nil && err != nil {
			acceptErr = fmt.Errorf("imap fetch uid %d: %w", uid, err)
		}
		break
	}
	closeErr := fc.Close()
	switch {
	case acceptErr != nil:
		return acceptErr
	case closeErr != nil:
		return fmt.Errorf("imap fetch uid %d: %w", uid, closeErr)
	case msg == nil:
		s.log.Info("message vanished before it was fetched (expunged by another client)", "uid", uid)
		return nil
	case !got:
		return fmt.Errorf("imap fetch uid %d: server sent no body", uid)
	}
	return nil
}

func nextItem(m *imapclient.FetchMessageData) imapclient.FetchItemData {
	if m == nil {
		return nil
	}
	return m.Next()
}

func (s *Source) accept(ctx context.Context, sink source.Sink, in source.Incoming, uid imap.UID) error {
	res, err := sink.Accept(ctx, in)
	if err != nil {
		return fmt.Errorf("store accept uid %d: %w", uid, err)
	}
	s.log.Info("mail accepted", "uid", uid, "event", res.ID, "duplicate", res.Duplicate)
	s.update(func(st *Status) { st.Accepted++; st.LastAccept = time.Now() })
	return nil
}
