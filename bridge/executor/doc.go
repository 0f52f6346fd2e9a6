// Package executor runs stored events: it derives the event from its raw
// bytes, evaluates the current rules into a plan (stored before the first
// step and frozen from then on), and runs the plan's steps in order through
// RT, recording each step's result before the next.
//
// # Failure contract
//
// Every RT error is classified once, by rtapi (rtapi.KindOf):
//
//   - transient (RT unreachable, 5xx, 429/503) and auth: the step stays
//     pending and the event waits for next_attempt = now + backoff(n)
//     (exponential from Backoff.Base, ±20% jitter, at least Retry-After,
//     at most Backoff.Max). Consecutive failures open an RT-wide circuit
//     breaker that pauses every worker and lets one probe through after
//     Breaker.Cooldown. After Backoff.MaxAttempts attempts of one step, or
//     once the event is older than Backoff.MaxAge, it is dead-lettered.
//   - permanent (RT refused): dead at once, with the step, the class and
//     RT's own message; never retried automatically.
//   - ambiguous (the request may have reached RT), and a step found
//     "started" after a crash: the step is reconciled before it is tried
//     again, and never before its attempt started Settle ago (RT finishes
//     a request whose client gave up; a search before it committed would
//     miss it). create: with IdempotencyField set every ticket carries
//     "<event id>/<step>" of its first attempt in that custom field (the
//     store keeps the value, so a re-plan that moves the step still finds
//     it), RT is searched for it and the ticket adopted; without it the
//     create is retried (at least once delivery, counted by
//     Metrics.AmbiguousRetry). comment/correspond: the ticket's history
//     since the attempt (less a clock margin) is searched for a transaction
//     of that type with the same text. link, unlink, edit: idempotent,
//     retried. A check that fails is retried with backoff; after
//     Backoff.MaxReconciles failed checks, or when RT refuses the check, the
//     event is dead with class ambiguous, the step stays unknown, and the
//     message says what to look for in RT before a retry.
//
// A dead step RT did not act on is "failed"; one of unknown outcome stays
// "unknown". Steps are numbered from 1 in logs and operator output (the
// store counts from 0).
//
// # Ordering
//
// Events sharing a correlation key run one at a time in acceptance (id)
// order: the scheduler learns an unplanned event's keys from the rules
// (RuleSet.Keys) and a planned one's from the store, and dispatches an
// event only when no earlier unfinished event holds one of its keys. So
// two notifications for one alert group yield one create and one comment:
// the second is planned only after the first finished.
//
// After done, ignored, dead (and for duplicates) the source's Finisher runs;
// the store remembers that it ran, so a crash in between repeats only it. A
// duplicate's runs once the event it duplicates is final, with that
// outcome (dead: the failure folder).
package executor
