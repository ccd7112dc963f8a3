// Package ai holds packshot's clients for the outside world's image services:
// OpenAI Images (gpt-image-1 edits), Google Gemini image generation and
// remove.bg background removal.
//
// Each client implements ImageGenerator or BackgroundRemover and returns a
// Result carrying the image, the provider's request id, token or credit usage
// and a cost estimate from the small price table in price.go.
//
// Every failure a client returns is an *Error whose Class tells the job queue
// what to do with it:
//
//	RateLimited  snooze the job until RetryAfter, without spending an attempt
//	Transient    retry with backoff (5xx, HTML error pages, timeouts, resets)
//	Permanent    fail at once (safety blocks, invalid requests, no credits)
//	Auth         fail at once (the key is missing, wrong or not allowed)
//
// Clients never retry on their own: one call is one request, and the queue
// decides what happens next from the error.
//
// Error messages are written for the user who will read them next to a failed
// image, and never contain an API key.
//
// A Guard wraps the clients to protect the providers and packshot from each
// other: it caps concurrent calls per provider, pauses a provider after a 429
// or repeated 5xx failures (sharing the pause with every instance through a
// PauseStore such as db.PauseStore), and answers calls to a paused provider
// with a RateLimited *Error without calling it, so the job snoozes.
//
// The aitest subpackage has httptest fakes of all three services for tests.
package ai
