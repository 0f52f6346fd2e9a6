package imapsource

import (
	"errors"
	"io"
	"net"
	"time"
)

// Retry delays after a failed session. They double from minRetry; a
// session that got as far as selecting the folder resets them.
//
// A server that cannot be reached (refused, reset, no route) is tried again
// at least every unreachableRetry: one TCP connect every few seconds per
// folder costs nothing, and the source is back within that long of the
// server after an outage of any length. A server that answers and refuses
// (wrong password, no such folder, token endpoint failing) backs off to
// maxRetry, so a configuration error does not turn into a login every few
// seconds (which lockout policies punish).
const (
	minRetry         = time.Second
	unreachableRetry = 3 * time.Second
	maxRetry         = 5 * time.Minute
)

type backoff struct{ n int } // failures in a row

func (b *backoff) reset() { b.n = 0 }

// next is the delay before the next attempt after err.
func (b *backoff) next(err error) time.Duration {
	d := minRetry << min(b.n, 20)
	b.n++
	limit := maxRetry
	if unreachable(err) {
		limit = unreachableRetry
	}
	return min(d, limit)
}

// errUnreachable marks a failure of the connection itself, before the
// server said anything about the request.
var errUnreachable = errors.New("imap server unreachable")

type unreachableError struct{ err error }

func (e unreachableError) Error() string { return e.err.Error() }
func (e unreachableError) Unwrap() []error {
	return []error{e.err, errUnreachable}
}

// markUnreachable wraps err when it is a transport failure: a network
// error, or the connection closing before an answer.
func markUnreachable(err error) error {
	var ne *net.OpError
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return unreachableError{err}
	}
	return err
}

func unreachable(err error) bool { return errors.Is(err, errUnreachable) }
