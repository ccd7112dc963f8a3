package api

import (
	"github.com/packshot/packshot/internal/apperr"
	"github.com/packshot/packshot/internal/trpc"
)

// trpcCode maps an application error code to its tRPC code: the one place tRPC does it
// (REST's counterpart is httpStatus in problem.go).
func trpcCode(code string) trpc.Code {
	switch code {
	case apperr.EINVALID:
		return trpc.CodeBadRequest
	case apperr.ENOTFOUND:
		return trpc.CodeNotFound
	case apperr.ECONFLICT:
		return trpc.CodeConflict
	case apperr.EUNAUTHORIZED:
		return trpc.CodeUnauthorized
	case apperr.EFORBIDDEN:
		return trpc.CodeForbidden
	case apperr.ETOOLARGE:
		return trpc.CodePayloadTooLarge
	case apperr.ERATELIMITED:
		return trpc.CodeTooManyRequests
	case apperr.EUNAVAILABLE:
		return trpc.CodeServiceUnavailable
	case apperr.EUNSUPPORTED:
		return trpc.CodeUnsupportedMediaType
	case apperr.ETIMEOUT:
		return trpc.CodeTimeout
	case apperr.EPRECONDITION:
		return trpc.CodePreconditionFailed
	default:
		return trpc.CodeInternalServerError
	}
}

// mapError is the router's MapErrorFunc: an *apperr.Error becomes the tRPC error with
// its code, message and field errors; anything else returns nil, which the router answers
// with a generic INTERNAL_SERVER_ERROR and logs in full.
func mapError(err error) *trpc.Error {
	ae := apperr.As(err)
	if ae == nil || ae.Code == apperr.EINTERNAL {
		return nil
	}
	te := &trpc.Error{Code: trpcCode(ae.Code), Message: ae.Message, RetryAfter: ae.RetryAfter, Err: err}
	if len(ae.Fields) > 0 {
		te.FieldErrors = ae.Fields
	}
	return te
}
