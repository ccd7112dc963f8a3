// Package realtime tells browsers about project changes as they happen, on whichever
// instance they are connected to, without ever leaving one behind.
//
// A NOTIFY is only a doorbell: {project_id, user_id, version}. The truth is always re-read
// from the database. The doorbells travel through the instance's one Postgres notifier
// (internal/notifier, topic Channel), which owns the LISTEN connection, its heartbeat and
// its reconnects. Two parts of this package make the rest work:
//
//   - Publisher collects doorbells (and in-memory job progress) from code that has just
//     committed a change, coalesces them per project, and sends them through the notifier
//     in one small transaction at most every 20 ms. It never blocks its caller and is
//     never called inside a business transaction: a transaction that NOTIFYs takes a
//     global lock at commit (5.8× fewer commits/s measured on the build machine). It is
//     built before the job queue, whose job handlers publish through it, and it serves
//     this instance's hub directly, without waiting for the NOTIFY to come back.
//   - Hub keeps the subscriptions, by project and by user. On a doorbell it loads the
//     project's snapshot once (coalescing a burst of doorbells into one load) and offers
//     it to every subscriber. Each subscriber has a one-slot mailbox per project that
//     keeps only the newest state, so a slow client skips intermediate states instead of
//     blocking the hub or growing memory. Loads are de-duplicated (one running and one
//     waiting per project and per user's list, however many subscribe) and a queued
//     load whose subscribers all left is dropped, so a flood of subscribes from one
//     user cannot fill the load queue ahead of everyone else's updates.
//
// Broker is the hub of one instance, wired to the notifier (it listens on Channel; every
// reconnect resyncs every subscriber, because notifications sent meanwhile are lost) and
// to the publisher: Start it, Subscribe to it, and ask it Healthy for readiness.
//
// Versions only increase, and every visible change bumps the project's version. A
// subscriber that says it has seen version v (tRPC lastEventId) gets the current
// snapshot at once if it is newer, then every later one. A dropped notification, a
// notifier reconnect and a slow client are all resolved the same way: the newest
// snapshot is sent again.
//
// Job progress between versions travels as overlays: the hub applies the latest progress
// of each job to the last loaded snapshot and offers the result with the SAME version (at
// most 10 per second per project). The event id stays the version, so a client resuming
// from an overlay's id never skips a real version: at worst it misses progress that the
// next overlay or version replaces.
package realtime
