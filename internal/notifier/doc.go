// Package notifier is packshot's one PostgreSQL LISTEN/NOTIFY connection per instance,
// shared by every package that hears or rings doorbells (the job queue's wake-ups and
// cancellations, realtime's project doorbells).
//
// A Notifier holds one dedicated connection, made from the pool's connection settings but
// not taken from the pool, on which it LISTENs to every topic some handler listens to.
// Handlers are added and removed at any time (Listen and the unlisten function it
// returns); the LISTEN and UNLISTEN statements run on the live connection. The
// connection proves itself alive with a heartbeat: every HeartbeatInterval the notifier
// NOTIFYs a private channel of its own on it, and a heartbeat not received by the next
// one means the connection is dead (a half-open TCP connection delivers nothing and
// reports no error), so it is replaced. Reconnects back off exponentially. Notifications
// sent while the connection was down are lost, so after every (re)connect each handler's
// Connected is called: it re-reads the state it serves. Ready tells readiness checks
// whether the connection is up.
//
// Notify sends through the pool, in one autocommit statement per call, never inside a
// caller's transaction: a transaction that NOTIFYs takes a global lock at commit (5.8×
// fewer commits/s measured on the build machine). Batching and coalescing belong to the
// callers (the queue's and realtime's publishers), which know what may be merged.
//
// This is the only package that issues LISTEN, and, with the SQL entry point
// enqueue_job(), the only code that NOTIFYs.
package notifier
