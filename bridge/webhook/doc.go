// Package webhook is the HTTP intake: every configured endpoint is an event
// source that authenticates a request, bounds and checks its body, hands
// the exact bytes to the store and answers 202 {"id": "<event id>"} only
// after the store committed them.
//
// # Failure contract
//
// A request is answered 4xx only when retrying it cannot help: 401 (missing
// or wrong credentials), 405 (not POST), 413 (body above the endpoint's
// limit, declared or read), 400 (empty body, or not what the endpoint's
// kind expects; the answer says why). Nothing is stored for any of them.
// 503 (with Retry-After) means every body slot stayed taken for the body
// wait, the store could not commit, or the daemon is stopping: the sender
// should retry, and nothing was accepted. RT is never called inside a
// request.
//
// # Bounds and replays
//
// Header credentials (bearer, basic) are checked before the body is read.
// A body is read, and held until the store has it, only in one of
// Limits.MaxConcurrentBodies slots; LimitListener caps connections in
// total and per client address. On an HMAC endpoint the dedup key is the
// digest of the signed bytes, kept for the replay dedup window (at least
// as long as a signed timestamp stays valid), so a replay is a duplicate
// (202, nothing processed) or refused (401); unsigned delivery id headers
// are not used there.
//
// # Kinds
//
// The json kind is built in. Other kinds (alertmanager, grafana) plug in
// through Options.Kinds: a Kind says which event.Kind the bytes become and
// how to check them; authentication, the body limit and the durable accept
// are shared. HMAC signatures plug in through Options.HMAC, which turns the
// endpoint's config into a Verifier.
package webhook
