// Package store is rtbridge's durable state: accepted events with their raw
// bytes, each event's plan and per-step results, the correlation ledger,
// per-source cursors, dead letters and a bounded history of outcomes.
//
// # Place in the flow
//
// Sources hand events to [Store.Accept] (it implements source.Sink); the
// executor claims runnable events ([Store.Runnable]), stores their plan
// ([Store.SavePlan]) and records every step attempt before and after it talks
// to RT ([Store.StepStarted], [Store.StepDone], [Store.StepFailed]); operators
// list, retry and drop dead letters ([Store.DeadLetters], [Store.Retry],
// [Store.Drop]) and read [Store.Stats], from the daemon or from a second
// process (SQLite WAL allows one writer and many readers across processes).
//
// # States
//
//	accepted ──> planned ──> running ──> done
//	    │            │          │  └───> waiting (retry at next_attempt) ──> running
//	    │            │          └──────> dead (step, class, RT's message)
//	    │            └──> ignored (reason)
//	    └──> duplicate (duplicate_of)
//	dead ──retry──> accepted (re-planned; steps that succeeded keep their results,
//	                          steps of unknown outcome are reconciled first)
//	dead ──drop───> dropped
//
// done, ignored, dead, duplicate and dropped are final. A final event keeps
// finished=false until the source's disposition ran ([Store.MarkFinished]).
//
// Steps are pending, started (attempt committed, no result yet), unknown
// (an attempt may have reached RT: reconcile before retrying), done, or
// failed (the event died there and RT did not act on it). A step found
// "started" after a crash is treated as unknown. Step indexes are 0-based
// here (Step.Index, Event.DeadStep); logs and operator output count from 1.
//
// # Failure contract
//
// Accept returns only after the row (and, for payloads above InlineMax, the
// file beside the database, fsync'd together with its directory) is
// committed with synchronous=FULL; on error nothing was accepted. Concurrent
// Accepts share one transaction and one fsync (group commit): the ones that
// arrive while a commit is fsync'ing form the next batch, with no fixed wait.
// WAL checkpoints run beside the writer (checkpoint.go), never inside a
// commit. Every other write is its own transaction and returns only after
// it committed.
//
// The API speaks plain Go types (time.Time, []byte, strings); nothing of
// SQLite leaks through it, so a PostgreSQL implementation can follow.
package store
