package rtapi

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Kind says what a caller may do about an error.
type Kind int

const (
	// Permanent: RT refused (unknown queue, no permission, syntax, missing
	// ticket). Retrying the same request cannot help.
	Permanent Kind = iota
	// Transient: RT was not reached or said "try later" (refused connection,
	// 5xx, 429/503, a proxy's HTML page). Retrying can help.
	Transient
	// Ambiguous: a write may have reached RT but no answer was read (timeout
	// or reset after the body was sent). Reconcile before retrying.
	Ambiguous
	// Auth: the credentials were refused even after one fresh login.
	Auth
)

func (k Kind) String() string {
	switch k {
	case Permanent:
		return "permanent"
	case Transient:
		return "transient"
	case Ambiguous:
		return "ambiguous"
	case Auth:
		return "auth"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Sentinels for errors.Is. An *Error matches the ones its Code and text imply.
var (
	ErrNotFound       = errors.New("rt: not found")
	ErrBadRequest     = errors.New("rt: bad request")
	ErrCredentials    = errors.New("rt: credentials required")
	ErrSyntax         = errors.New("rt: syntax error")
	ErrPermission     = errors.New("rt: permission denied")
	ErrOutcomeUnknown = errors.New("rt: outcome unknown (the request may have reached RT)")
)

// FieldError is one per-field message of a 409 answer, e.g. ("queue",
// "Queue Nope does not exist").
type FieldError struct {
	Field   string
	Message string
}

// Error is every failure of an RT call: RT's own refusal (Code and Text from
// its status line, after mapping "# Ticket N does not exist." to 404 and the
// like) or a transport failure (Code 0, Err set).
type Error struct {
	Op          string       // e.g. "create ticket", "comment on ticket 17"
	Path        string       // REST path without credentials, e.g. "ticket/new"
	Code        int          // RT status after mapping (404, 400, 401, 409, …); HTTP status for non-RT answers; 0 for transport errors
	Text        string       // RT's message, e.g. "Could not create ticket. Queue not set"
	Comments    []string     // RT's "# …" lines, without "# "
	FieldErrors []FieldError // for 409
	Partial     bool         // an edit whose other fields were applied (409 with "updated")
	Kind        Kind
	RetryAfter  string // the Retry-After header, when RT or a proxy sent one
	Err         error  // underlying transport error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("rt: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, "%d ", e.Code)
	}
	if e.Text != "" {
		b.WriteString(e.Text)
	}
	for i, fe := range e.FieldErrors {
		if i == 0 {
			b.WriteString(" [")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%s, %s)", fe.Field, fe.Message)
		if i == len(e.FieldErrors)-1 {
			b.WriteString("]")
		}
	}
	if e.Err != nil {
		if e.Text != "" || e.Code != 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrNotFound) and friends work on *Error.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Code == 404
	case ErrCredentials:
		return e.Code == 401 || e.Kind == Auth
	case ErrSyntax:
		return e.Code == 409
	case ErrBadRequest:
		return e.Code == 400
	case ErrPermission:
		return e.Code == 403 || strings.Contains(e.Text, "not allowed") || strings.Contains(e.Text, "No permission") || strings.Contains(e.Text, "Permission denied")
	case ErrOutcomeUnknown:
		return e.Kind == Ambiguous
	}
	return false
}

// KindOf returns the Kind of any error: an *Error's own, Transient for
// unknown errors (bounded by the caller's attempts), Permanent for nil.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if err == nil {
		return Permanent
	}
	return Transient
}

// ErrRefererRefused matches a *CSRFError: RT's referrer check
// ($RestrictReferrer) refused a state-changing REST2 request made on a
// session cookie because its Origin is not RT's own host.
var ErrRefererRefused = errors.New("rt: request refused by RT's referrer check")

// CSRFError is RT's "403 Cross-site request forgery protection refused this
// request" to a REST2 write on a session cookie. RT accepts the request only
// when its Origin (or Referer) names the host:port of RT's $WebBaseURL or
// one listed in $ReferrerWhitelist; Origin is what the client sent.
type CSRFError struct {
	Origin string
}

func (e *CSRFError) Error() string {
	hp := e.Origin
	if u, err := url.Parse(e.Origin); err == nil && u.Host != "" {
		hp = u.Host
	}
	return fmt.Sprintf("RT's referrer check ($RestrictReferrer) refused origin %s: it is neither the host of RT's $WebBaseURL "+
		"nor listed in $ReferrerWhitelist; reach RT under its own URL, or add Set(@ReferrerWhitelist, qw(%s)); to RT's configuration", e.Origin, hp)
}

// Is lets errors.Is(err, ErrRefererRefused) work.
func (e *CSRFError) Is(target error) bool { return target == ErrRefererRefused }
