// Package realtime tells browsers about project changes as they happen, on whichever
// instance they are connected to, without ever leaving one behind.
//
// A NOTIFY is only a doorbell: {project_id, user_id, version}. The truth is always re-read
// from the database. Four parts make that work:
//
//   - Publisher collects doorbells (and in-memory job progress) from code that has just
//     committed a change, coalesces them per project, and sends them in one small
//     transaction at most every 20 ms. It never blocks its caller and is never called
//     inside a business transaction: a transaction that NOTIFYs takes a global lock at
//     commit (5.8× fewer commits/s measured on the build machine).
//   - Listener holds one dedicated connection per instance (not from the pool) that
//     LISTENs, proves itself alive with a self-addressed heartbeat, and reconnects with
//     backoff. Notifications sent while it was away are lost, so every reconnect
//     triggers a resync.
//   - Hub keeps the subscriptions, by project and by user. On a doorbell it loads the
//     project's snapshot once (coalescing a burst of doorbells into one load) and offers
//     it to every subscriber. Each subscriber has a one-slot mailbox per project that
//     keeps only the newest state, so a slow client skips intermediate states instead of
//     blocking the hub or growing memory. Loads are de-duplicated (one running and one
//     waiting per project and per user's list, however many subscribe) and a queued
//     load whose subscribers all left is dropped, so a flood of subscribes from one
//     user cannot fill the load queue ahead of everyone else's updates.
//   - Broker bundles the three for one instance: Run it, Publish to it, Subscribe to it,
//     and ask it Healthy for readiness.
//
// Versions only increase, and every visible change bumps the project's version. A
// subscriber that says it has seen version v (tRPC lastEventId) gets the current
// snapshot at once if it is newer, then every later one. A dropped notification, a
// listener reconnect and a slow client are all resolved the same way: the newest
// snapshot is sent again.
//
// Job progress between versions travels as overlays: the hub applies the latest progress
// of each job to the last loaded snapshot and offers the result with the SAME version (at
// most 10 per second per project). The event id stays the version, so a client resuming
// from an overlay's id never skips a real version: at worst it misses progress that the
// next overlay or version replaces.
package realtime
