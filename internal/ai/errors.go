package ai

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Class says what the job queue should do with a failed call.
type Class int

// The error classes. The zero value is Transient, so an error nobody
// classified is retried rather than lost.
const (
	// Transient failures (5xx, HTML error pages, timeouts, connection
	// resets) are retried with backoff, spending an attempt.
	Transient Class = iota
	// RateLimited failures are retried after Error.RetryAfter without
	// spending an attempt.
	RateLimited
	// Permanent failures (safety or moderation blocks, invalid requests,
	// exhausted credits or quota) fail the job at once.
	Permanent
	// Auth failures (missing, invalid or unauthorised key) fail the job at
	// once; every other job for the same provider will fail the same way.
	Auth
)

// String returns the class name in lower case, e.g. "rate_limited".
func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case RateLimited:
		return "rate_limited"
	case Permanent:
		return "permanent"
	case Auth:
		return "auth"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// DefaultRetryAfter is the RetryAfter of a RateLimited error whose provider
// said nothing about when to come back (OpenAI does not reliably send one).
const DefaultRetryAfter = 30 * time.Second

// Error is the one error type the clients return. Use errors.As to get it:
//
//	var aerr *ai.Error
//	if errors.As(err, &aerr) && aerr.Class == ai.RateLimited { … aerr.RetryAfter … }
type Error struct {
	// Class says what to do about the error.
	Class Class
	// Provider is "openai", "gemini" or "removebg".
	Provider string
	// Status is the HTTP status, or 0 when no response arrived.
	Status int
	// Code is the provider's machine-readable reason when it gave one, e.g.
	// "moderation_blocked", "API_KEY_INVALID", "IMAGE_SAFETY",
	// "insufficient_credits", "timeout".
	Code string
	// Message is a readable sentence for the user. It never contains the key.
	Message string
	// RetryAfter is how long to wait before the next try. It is always > 0
	// for RateLimited and 0 otherwise.
	RetryAfter time.Duration
	// RequestID is the provider's request id when the response carried one.
	RequestID string
	// Err is the underlying cause (a context or network error), if any.
	Err error
}

// Error returns the message followed by the provider, status, code and
// retry delay: "openai is rate limiting requests: … (openai, HTTP 429,
// rate_limit_exceeded, retry in 12s)".
func (e *Error) Error() string {
	detail := []string{e.Provider}
	if e.Status != 0 {
		detail = append(detail, fmt.Sprintf("HTTP %d", e.Status))
	}
	if e.Code != "" {
		detail = append(detail, e.Code)
	}
	if e.Class == RateLimited {
		detail = append(detail, "retry in "+e.RetryAfter.String())
	}
	return e.Message + " (" + strings.Join(detail, ", ") + ")"
}

// Unwrap returns the underlying cause, so errors.Is(err, context.Canceled)
// works on a cancelled call.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again later can succeed: true for
// RateLimited and Transient, false for Permanent and Auth.
func (e *Error) Retryable() bool { return e.Class == RateLimited || e.Class == Transient }

// SpendsAttempt reports whether the retry should count against the job's
// attempts: false for RateLimited (the provider asked us to wait, nothing
// failed), true for everything else.
func (e *Error) SpendsAttempt() bool { return e.Class != RateLimited }

// ClassOf returns the class of err's *Error, or Transient with ok false when
// err holds none (a bug or an unexpected failure: retrying is the safe bet).
func ClassOf(err error) (c Class, ok bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Class, true
	}
	return Transient, false
}

// RetryAfterOf returns how long to wait before retrying err: the
// RetryAfter of a RateLimited *Error, else 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) && e.Class == RateLimited {
		return e.RetryAfter
	}
	return 0
}
