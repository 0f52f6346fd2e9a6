package kerberos

import (
	"errors"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi"
)

// Sentinels for errors.Is; every failure of this package is an *Error that
// matches exactly one of them (and, when returned through an rtapi client, is
// wrapped in an *rtapi.Error of Kind Auth or Transient).
var (
	ErrConfig           = errors.New("kerberos: configuration")
	ErrKDCUnreachable   = errors.New("kerberos: KDC unreachable")
	ErrClockSkew        = errors.New("kerberos: clock skew too great")
	ErrUnknownPrincipal = errors.New("kerberos: client principal unknown to the KDC")
	ErrUnknownService   = errors.New("kerberos: service principal unknown to the KDC")
	ErrBadCredentials   = errors.New("kerberos: wrong password or keytab")
	ErrExpired          = errors.New("kerberos: credentials expired")
	ErrNoNegotiate      = errors.New("kerberos: server does not offer Negotiate")
	ErrRejected         = errors.New("kerberos: server rejected the Kerberos token")
	ErrNoRTSession      = errors.New("kerberos: RT did not accept the authenticated user")
	ErrKerberos         = errors.New("kerberos: protocol error")
)

// Error is a Kerberos failure. Detail is gokrb5's or the server's text, which
// names principals and encryption types but never a password or key.
type Error struct {
	Op        string // "login", "service ticket", "negotiate", …
	Principal string // client principal, e.g. rtuser@BRIDGE.TEST
	Kind      error  // one of the sentinels above
	Detail    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Op != "" {
		b.WriteString(" (")
		b.WriteString(e.Op)
		if e.Principal != "" {
			b.WriteString(" as ")
			b.WriteString(e.Principal)
		}
		b.WriteString(")")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is matches the sentinel Kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// classify turns a gokrb5 error (a flat krberror string: gokrb5 v8 keeps no
// typed cause) into an *Error, by the KRB error names and gokrb5's texts.
func classify(op, principal string, err error) *Error {
	msg := err.Error()
	kind := ErrKerberos
	switch {
	case strings.Contains(msg, "KRB_AP_ERR_SKEW"), strings.Contains(msg, "clock skew"):
		kind = ErrClockSkew
	case strings.Contains(msg, "KDC_ERR_C_PRINCIPAL_UNKNOWN"):
		kind = ErrUnknownPrincipal
	case strings.Contains(msg, "KDC_ERR_S_PRINCIPAL_UNKNOWN"):
		kind = ErrUnknownService
	case strings.Contains(msg, "KDC_ERR_PREAUTH_FAILED"),
		strings.Contains(msg, "password/keytab incorrect"),
		strings.Contains(msg, "KRB_AP_ERR_BAD_INTEGRITY"),
		strings.Contains(msg, "no key found in keytab"),
		strings.Contains(msg, "Matching key not found in keytab"):
		kind = ErrBadCredentials
	case strings.Contains(msg, "KDC_ERR_KEY_EXPIRED"), strings.Contains(msg, "KDC_ERR_TGT_REVOKED"),
		strings.Contains(msg, "no valid existing session"), strings.Contains(msg, "KRB_AP_ERR_TKT_EXPIRED"):
		kind = ErrExpired
	case strings.Contains(msg, "Networking_Error"), strings.Contains(msg, "communicating with KDC"),
		strings.Contains(msg, "communicate with KDC"), strings.Contains(msg, "connection refused"),
		strings.Contains(msg, "i/o timeout"), strings.Contains(msg, "no KDC"):
		kind = ErrKDCUnreachable
	}
	return &Error{Op: op, Principal: principal, Kind: kind, Detail: msg}
}

// rtError wraps e for an rtapi client: an unreachable KDC may come back, so
// the request (never sent) can be retried; everything else needs an operator.
func rtError(e *Error) *rtapi.Error {
	k := rtapi.Auth
	if errors.Is(e, ErrKDCUnreachable) {
		k = rtapi.Transient
	}
	return &rtapi.Error{Op: "kerberos " + e.Op, Kind: k, Err: e}
}
