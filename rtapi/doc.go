// Package rtapi is a client for Request Tracker's REST 1.0 API (and, through
// package rtapi/rest2, REST2). It speaks RT's form language byte-exactly
// (package rtapi/form), classifies every RT answer into a typed *Error, and
// never retries a write whose outcome it cannot know.
//
// The operations (CreateTicket, Comment, AddLink, …) take and return the
// plain types in types.go, so callers can switch backends without change.
package rtapi
