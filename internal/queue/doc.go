// Package queue is packshot's PostgreSQL job queue: jobs live in the job_queue table, a
// Client enqueues them and, once started, dispatches them to the workers it was built with:
// one Worker[T] per kind, T the kind's typed args (JobArgs), added to a Workers set with
// AddWorker. A Client built without workers only enqueues and manages jobs.
//
// Delivery is at least once: a job whose worker dies is rescued when its lease expires and
// runs again, so handlers must be idempotent. The README's section "The job queue:
// semantics and options" describes the states, the transitions and every option; the
// short version:
//
//   - Enqueue, EnqueueTx and EnqueueMany insert jobs; a UniqueKey makes enqueue idempotent
//     while a job with that key is unfinished. None of them NOTIFYs inside the insert's
//     transaction: Enqueue wakes the local dispatcher through memory after commit and asks
//     the notifier to send one debounced NOTIFY for other instances (EnqueueTx callers call
//     Wake after their commit).
//   - The dispatcher claims up to its free slots in one statement (FOR UPDATE SKIP LOCKED),
//     by priority, fair across user_id, within per-kind concurrency limits; it wakes on
//     local enqueues, on NOTIFY from other instances and on a jittered poll.
//   - Each run holds a lease that a heartbeat extends; completions and failures are
//     written in batches, compare-and-set on (id, attempts), so a late write never
//     clobbers a newer run, a cancel or a rescue.
//   - Errors retry with exponential backoff and jitter; Snooze (or an error with a
//     RetryAfter method) waits without spending an attempt; Permanent fails at once.
//   - One instance at a time (advisory lock) rescues expired leases and prunes finished
//     jobs after the retention period.
package queue
