// Package pack is packshot's domain: projects, the pack specification per marketplace,
// the job handlers that make each image, the project status kept true at every step, the
// snapshot clients see, and the pack.zip download.
//
// A project moves through draft (no photo) → ready (photo uploaded) → generating (jobs
// pending or running) → completed, partial (some images failed, each with its reason) or
// failed. The status, the overall progress and the version are recomputed in the same
// transaction as every change that affects them: project edits and uploads in the
// Service's own transactions, job state changes in the queue's in-transaction hook
// (Service.JobsChangedTx). Nothing here sends NOTIFY; the after-commit callback
// (Config.ChangedFunc) tells realtime which projects moved.
//
// Each image is one job of kind "image.<type>". Handlers load the source photo from
// storage, cut the product out (remove.bg when configured, else the local engine; the
// cut-out is cached per photo so a pack pays for it once), render or generate the image,
// store it, and record it with its provider, prompt, compliance result and cost. AI errors
// become the queue's snooze (rate limits), retry (transient) or permanent failure.
package pack
