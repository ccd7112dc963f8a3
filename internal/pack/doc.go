// Package pack is packshot's domain: projects, the pack specification per marketplace,
// the job handlers that make each image, the project status kept true at every step, the
// snapshot clients see, and the pack.zip download. It is split by role, and each part is
// given its collaborators when it is built:
//
//   - Watchers (NewWatchers) is the one path of the "project changed" signal (Change) in
//     a process: it wakes the process's long-polls and passes the change on to the
//     Announcer it wraps (realtime), which rings every instance's doorbell.
//   - Projection (NewProjection) keeps project status in step with jobs; its Hooks run
//     inside the queue's transactions. It is built before the queue client.
//   - Handlers (NewHandlers) run the image jobs, one typed worker per kind (MainArgs,
//     LifestyleArgs, … implement queue.JobArgs); AddTo adds them to the queue's
//     workers. They are built before the queue client.
//   - Service (New) is the request side: projects, uploads, generation requests, jobs and
//     snapshots. It is built after the queue client, which it is given as its Enqueuer.
//
// A project moves through draft (no photo) → ready (photo uploaded) → generating (jobs
// pending or running) → completed, partial (some images failed, each with its reason) or
// failed. The status, the overall progress and the version are recomputed in the same
// transaction as every change that affects them: project edits and uploads in the
// Service's own transactions, job state changes in the Projection's hook. Nothing here
// sends NOTIFY; changes are announced after commit.
//
// Each image is one job of kind "image.<type>". Handlers load the source photo from
// storage, cut the product out (remove.bg when configured, else the local engine; the
// cut-out is cached per photo so a pack pays for it once), render or generate the image,
// store it, and record it with its provider, prompt, compliance result and cost. AI errors
// become the queue's snooze (rate limits), retry (transient) or permanent failure.
package pack
