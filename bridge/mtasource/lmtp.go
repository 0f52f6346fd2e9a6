package mtasource

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/source"
)

// router maps an envelope recipient to its delivery parameters.
type router []config.LMTPRoute

// route returns the parameters of the first route whose recipient (an
// address or pattern, case ignored) matches rcpt without its +extension.
func (rt router) route(rcpt string) (Params, bool) {
	addr, ext, ok := splitRecipient(rcpt)
	if !ok {
		return Params{}, false
	}
	for _, r := range rt {
		if ok, _ := path.Match(strings.ToLower(r.Recipient), addr); ok {
			return Params{Queue: r.Queue, Action: r.Action, ExtensionMode: r.Extension, Extension: ext, Recipient: rcpt}, true
		}
	}
	return Params{}, false
}

// splitRecipient returns the lower-cased address without its +extension,
// and the extension as written (it may name a queue).
func splitRecipient(rcpt string) (addr, ext string, ok bool) {
	at := strings.LastIndexByte(rcpt, '@')
	if at <= 0 || at == len(rcpt)-1 {
		return "", "", false
	}
	local, domain := rcpt[:at], rcpt[at+1:]
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local, ext = local[:i], local[i+1:]
	}
	return strings.ToLower(local + "@" + domain), ext, true
}

// lmtpBackend is go-smtp's backend in LMTP mode.
type lmtpBackend struct {
	in     intake
	routes router
	sink   func() source.Sink
	tmpDir string
	log    *slog.Logger
}

func (b *lmtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &lmtpSession{b: b}, nil
}

type lmtpSession struct {
	b      *lmtpBackend
	from   string
	rcpts  []string
	params []Params
}

var (
	errUnknownUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no route for this recipient"}
	errBadParams   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "recipient not usable"}
	errTooLarge    = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "message exceeds max_message_bytes"}
	errStore       = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "not stored, try again later"}
)

func (s *lmtpSession) Reset()        { s.from, s.rcpts, s.params = "", nil, nil }
func (s *lmtpSession) Logout() error { return nil }

func (s *lmtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.Reset()
	s.from = from
	return nil
}

func (s *lmtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	p, ok := s.b.routes.route(to)
	if !ok {
		return errUnknownUser
	}
	p.Sender = s.from
	if err := p.Check(); err != nil {
		return errBadParams
	}
	s.rcpts, s.params = append(s.rcpts, to), append(s.params, p)
	return nil
}

// Data is never called in LMTP mode (LMTPData is); go-smtp's Session
// interface wants it.
func (s *lmtpSession) Data(r io.Reader) error {
	return s.LMTPData(r, nil)
}

// LMTPData stores the mail once per recipient and answers each recipient
// only after its commit: 250, or 451 when the store failed (the MTA keeps
// the mail for that recipient).
func (s *lmtpSession) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	sink := s.b.sink()
	if sink == nil {
		return errStore
	}
	// Return-Path is the final delivery agent's to add (RFC 5321 4.4); it
	// carries the envelope sender, which tells a bounce ("<>") apart.
	rp := "Return-Path: <" + s.from + ">\r\n"
	var open func() (io.Reader, error)
	if len(s.rcpts) == 1 {
		used := false
		open = func() (io.Reader, error) {
			if used {
				return nil, errors.New("read twice")
			}
			used = true
			return io.MultiReader(strings.NewReader(rp), r), nil
		}
	} else {
		f, err := s.spool(r)
		if err != nil {
			return s.fail(err)
		}
		defer func() { f.Close(); os.Remove(f.Name()) }()
		open = func() (io.Reader, error) {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			return io.MultiReader(strings.NewReader(rp), f), nil
		}
	}
	var last error
	for i, rcpt := range s.rcpts {
		err := s.acceptOne(context.Background(), sink, open, s.params[i])
		if status == nil {
			last = err
			continue
		}
		status.SetStatus(rcpt, err)
	}
	return last
}

func (s *lmtpSession) acceptOne(ctx context.Context, sink source.Sink, open func() (io.Reader, error), p Params) error {
	mail, err := open()
	if err != nil {
		return s.fail(err)
	}
	acc, err := s.b.in.accept(ctx, sink, ViaLMTP, mail, p)
	if err != nil {
		return s.fail(err)
	}
	s.b.log.Debug("lmtp: accepted", "event", acc.ID, "duplicate", acc.Duplicate, "recipient", p.Recipient)
	return nil
}

// spool copies the mail to a temporary file, for several recipients.
func (s *lmtpSession) spool(r io.Reader) (*os.File, error) {
	f, err := os.CreateTemp(s.b.tmpDir, "lmtp-*.eml")
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, &limitReader{r: r, n: s.b.in.maxBytes}); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// fail maps an intake error to the LMTP answer.
func (s *lmtpSession) fail(err error) error {
	if errors.Is(err, ErrTooLarge) || errors.Is(err, smtp.ErrDataTooLarge) {
		return errTooLarge
	}
	s.b.log.Warn("lmtp: mail not accepted; the MTA keeps it", "err", err)
	return errStore
}
