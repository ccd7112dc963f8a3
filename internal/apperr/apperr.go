// Package apperr is packshot's one application error type. Domain code returns an *Error
// with a code and a message written for the user; each protocol maps codes to its own
// status in exactly one function (tRPC codes in api/errors.go, HTTP problem JSON for REST).
// Anything that is not an *Error is an internal error: it is logged, and the client sees a
// generic message.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Codes an *Error can carry.
const (
	EINVALID      = "invalid"      // the input is wrong; Fields may say which parts
	ENOTFOUND     = "not_found"    // no such object, or not the caller's (never EFORBIDDEN)
	ECONFLICT     = "conflict"     // the object's state does not allow it now
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // valid credentials, but a role is missing
	ETOOLARGE     = "too_large"    // a body or file over its limit
	ERATELIMITED  = "rate_limited" // too many requests; RetryAfter says when to come back
	EUNAVAILABLE  = "unavailable"  // shutting down or a dependency is down; try again
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EUNSUPPORTED  = "unsupported"  // an unsupported media type or method
	ETIMEOUT      = "timeout"      // the operation took too long
	EPRECONDITION = "precondition" // a required earlier step is missing (e.g. no photo yet)
)

// Error is an error meant for the user: Message is safe to show.
type Error struct {
	Code    string
	Message string
	// Fields maps an input field (dotted path) to what is wrong with it.
	Fields map[string]string
	// RetryAfter, when positive, tells the client when to try again.
	RetryAfter time.Duration
	// Err is the underlying cause, logged but never shown.
	Err error
}

// Error returns the user-facing message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming what is wrong with each field.
func Invalid(message string, fields map[string]string) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// NotFound returns the ENOTFOUND error for a kind of object ("project", "job").
func NotFound(what string) *Error {
	return &Error{Code: ENOTFOUND, Message: what + " not found"}
}

// Code returns err's code: the code of the first *Error in its chain, else EINTERNAL.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
