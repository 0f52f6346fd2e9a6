// Package pgstore is rtbridge's durable store on PostgreSQL, shared by
// several rtbridge instances on different hosts. It keeps the same
// contract as the embedded SQLite store (package store), whose types and
// errors it uses, and passes the same test suite (package storetest).
//
// What sharing adds:
//
//   - Payloads live in the database: small ones in the event's row, larger
//     ones in chunk rows, written and read one chunk at a time, so a large
//     mail never sits whole in memory on any host.
//   - An event runs on one instance at a time: [Store.Claim] leases it (and
//     every correlation key it holds) to this instance with an expiry that a
//     background loop renews. When the holder dies its leases lapse, another
//     instance claims the event, and steps it had started are of unknown
//     outcome, reconciled before anything is sent again.
//   - Runnable and unfinished events are picked with FOR UPDATE SKIP LOCKED,
//     so instances do not queue behind each other's row locks.
//   - Named leases ([Store.AcquireLease]) let one instance poll a mailbox
//     folder while the others stand by.
//   - Migrations run under an advisory lock, so instances that start at the
//     same moment migrate once; a schema newer than the binary is refused.
//
// Lease times use the database's clock, so hosts with skewed clocks agree
// on who holds what. Event times (next attempt, received) are the
// instance's clock, as in the SQLite store.
package pgstore
