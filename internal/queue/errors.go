package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrCancelled is the cause of a handler's context when its job was cancelled (from any
// instance). context.Cause(ctx) returns it.
var ErrCancelled = errors.New("job cancelled")

// ErrShutdown is the cause of a handler's context when the worker stops and the grace
// period is over; the job is released back to pending without spending an attempt.
var ErrShutdown = errors.New("worker shutting down")

// errLeaseLost is the cause when a heartbeat finds the run no longer ours (rescued after
// a long pause, or cancelled before the cancel message arrived).
var errLeaseLost = errors.New("job lease lost")

// Snooze returns an error that tells the dispatcher to run the job again after d without
// spending an attempt (for example a provider's Retry-After). A d below zero is zero.
func Snooze(d time.Duration) error { return &snoozeError{delay: max(d, 0)} }

// SnoozeErr is Snooze keeping the cause, for logs and errors.Is.
func SnoozeErr(d time.Duration, cause error) error {
	return &snoozeError{delay: max(d, 0), err: cause}
}

type snoozeError struct {
	delay time.Duration
	err   error
}

func (e *snoozeError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("snoozed for %s: %v", e.delay, e.err)
	}
	return fmt.Sprintf("snoozed for %s", e.delay)
}

func (e *snoozeError) Unwrap() error { return e.err }

// Permanent wraps err so the job fails at once, without further attempts, with err's
// message as its last_error. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

// The optional interfaces through which any error, from any package, can say what the
// queue should do with it; the dispatcher looks for them with errors.As along the chain.
type (
	// retryAfterer: RetryAfter() > 0 snoozes the job that long without spending an attempt.
	retryAfterer interface{ RetryAfter() time.Duration }
	// permanenter: Permanent() true fails the job at once.
	permanenter interface{ Permanent() bool }
	// retryabler: Retryable() false fails the job at once (internal/ai's *Error has it:
	// false for its Permanent and Auth classes).
	retryabler interface{ Retryable() bool }
	// attemptSpender: SpendsAttempt() false snoozes for Config.DefaultSnooze without
	// spending an attempt (internal/ai's *Error: false for RateLimited). Handlers that
	// know the exact wait should return SnoozeErr(d, err) instead.
	attemptSpender interface{ SpendsAttempt() bool }
)

// outcome is what the dispatcher writes back for one run.
type outcome string

const (
	outcomeComplete outcome = "complete"
	outcomeRetry    outcome = "retry"
	outcomeSnooze   outcome = "snooze"
	outcomeRelease  outcome = "release"
	outcomeFail     outcome = "fail"
	outcomeNone     outcome = "none" // cancelled or lease lost: the row is not ours any more
)

// classify decides the outcome of a handler error. attempts is the run's attempt number.
func (c *Client) classify(err error, attempts, maxAttempts int) (outcome, time.Duration) {
	var sn *snoozeError
	if errors.As(err, &sn) {
		return outcomeSnooze, sn.delay
	}
	var ra retryAfterer
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		return outcomeSnooze, ra.RetryAfter()
	}
	var pe permanenter
	if errors.As(err, &pe) && pe.Permanent() {
		return outcomeFail, 0
	}
	var re retryabler
	if errors.As(err, &re) && !re.Retryable() {
		return outcomeFail, 0
	}
	var sp attemptSpender
	if errors.As(err, &sp) && !sp.SpendsAttempt() {
		return outcomeSnooze, c.cfg.DefaultSnooze
	}
	if attempts >= maxAttempts {
		return outcomeFail, 0
	}
	return outcomeRetry, c.backoff(attempts)
}

// errorMessage is the text stored in last_error, bounded so a huge error cannot bloat
// the row.
func errorMessage(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out: " + truncate(err.Error(), 2000)
	}
	return truncate(err.Error(), 2000)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
