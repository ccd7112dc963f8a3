package trpc

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Code is a tRPC error code key, such as "NOT_FOUND". The client reads it
// from an error's data.code; the wire also carries its JSON-RPC number and
// HTTP status, which Code derives.
type Code string

// The error codes of tRPC v11, with their JSON-RPC numbers and HTTP statuses
// (see JSONRPC and HTTPStatus).
const (
	CodeParseError           Code = "PARSE_ERROR"
	CodeBadRequest           Code = "BAD_REQUEST"
	CodeUnauthorized         Code = "UNAUTHORIZED"
	CodePaymentRequired      Code = "PAYMENT_REQUIRED"
	CodeForbidden            Code = "FORBIDDEN"
	CodeNotFound             Code = "NOT_FOUND"
	CodeMethodNotSupported   Code = "METHOD_NOT_SUPPORTED"
	CodeTimeout              Code = "TIMEOUT"
	CodeConflict             Code = "CONFLICT"
	CodePreconditionFailed   Code = "PRECONDITION_FAILED"
	CodePayloadTooLarge      Code = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMediaType Code = "UNSUPPORTED_MEDIA_TYPE"
	CodeUnprocessableContent Code = "UNPROCESSABLE_CONTENT"
	CodePreconditionRequired Code = "PRECONDITION_REQUIRED"
	CodeTooManyRequests      Code = "TOO_MANY_REQUESTS"
	CodeClientClosedRequest  Code = "CLIENT_CLOSED_REQUEST"
	CodeInternalServerError  Code = "INTERNAL_SERVER_ERROR"
	CodeNotImplemented       Code = "NOT_IMPLEMENTED"
	CodeBadGateway           Code = "BAD_GATEWAY"
	CodeServiceUnavailable   Code = "SERVICE_UNAVAILABLE"
	CodeGatewayTimeout       Code = "GATEWAY_TIMEOUT"
)

type codeInfo struct {
	rpc    int
	status int
}

var codes = map[Code]codeInfo{
	CodeParseError:           {-32700, 400},
	CodeBadRequest:           {-32600, 400},
	CodeUnauthorized:         {-32001, 401},
	CodePaymentRequired:      {-32002, 402},
	CodeForbidden:            {-32003, 403},
	CodeNotFound:             {-32004, 404},
	CodeMethodNotSupported:   {-32005, 405},
	CodeTimeout:              {-32008, 408},
	CodeConflict:             {-32009, 409},
	CodePreconditionFailed:   {-32012, 412},
	CodePayloadTooLarge:      {-32013, 413},
	CodeUnsupportedMediaType: {-32015, 415},
	CodeUnprocessableContent: {-32022, 422},
	CodePreconditionRequired: {-32028, 428},
	CodeTooManyRequests:      {-32029, 429},
	CodeClientClosedRequest:  {-32099, 499},
	CodeInternalServerError:  {-32603, 500},
	CodeNotImplemented:       {-32603, 501},
	CodeBadGateway:           {-32603, 502},
	CodeServiceUnavailable:   {-32603, 503},
	CodeGatewayTimeout:       {-32603, 504},
}

// JSONRPC returns the code's JSON-RPC 2.0 number (-32603 for unknown codes).
func (c Code) JSONRPC() int {
	if i, ok := codes[c]; ok {
		return i.rpc
	}
	return -32603
}

// HTTPStatus returns the HTTP status tRPC uses for the code (500 for unknown
// codes).
func (c Code) HTTPStatus() int {
	if i, ok := codes[c]; ok {
		return i.status
	}
	return http.StatusInternalServerError
}

// Error is an error the client sees: its Code and Message go on the wire
// unchanged. Procedures return it (or an error that the router's
// MapErrorFunc turns into one) to answer with something other than
// INTERNAL_SERVER_ERROR.
type Error struct {
	// Code is the tRPC code; empty means INTERNAL_SERVER_ERROR.
	Code Code
	// Message is shown to the client; empty means the code key.
	Message string
	// FieldErrors, if set, holds a message per input field; it is sent as
	// data.fieldErrors and, for BAD_REQUEST, in the shape zod's
	// error.flatten() has, as data.zodError.fieldErrors (what a T3 app's
	// form reads).
	FieldErrors map[string]string
	// RetryAfter, when positive, tells the client when to try again (TOO_MANY_REQUESTS,
	// SERVICE_UNAVAILABLE): sent as data.retryAfterSeconds and, over HTTP, as the
	// Retry-After header.
	RetryAfter time.Duration
	// Err is the cause. It is logged, never sent.
	Err error

	// invalidInput marks a failure to decode or validate the input that
	// names no field: it is sent as data.zodError.formErrors.
	invalidInput bool
	// wire, if set, is the transformer the error is sent with instead of
	// the router's: the client's, when its input shows that it speaks the
	// other one (see transformerMismatch), so that it can read the error.
	wire Transformer
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *Error) Error() string {
	s := string(e.code()) + ": " + e.message()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) code() Code {
	if _, ok := codes[e.Code]; ok {
		return e.Code
	}
	return CodeInternalServerError
}

func (e *Error) message() string {
	if e.Message == "" {
		return string(e.code())
	}
	return e.Message
}

// FieldErrors is a validation error with a message per input field. A
// Validate method that returns it (or wraps it) makes the router answer
// BAD_REQUEST with the messages in data.fieldErrors.
type FieldErrors map[string]string

// Error implements error, listing the fields in order.
func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// errorShape is the tRPC error object: {"message","code","data":{...}}.
// Every field is declared in the generated ErrorShape (typescript.go).
type errorShape struct {
	Message string    `json:"message"`
	Code    int       `json:"code"`
	Data    errorData `json:"data"`
	// wire overrides the router's transformer for this error (Error.wire).
	wire Transformer
}

type errorData struct {
	Code        Code              `json:"code"`
	HTTPStatus  int               `json:"httpStatus"`
	Path        string            `json:"path,omitempty"`
	FieldErrors map[string]string `json:"fieldErrors,omitempty"`
	// ZodError is what create-t3-app's errorFormatter sends: zod's
	// error.flatten() for an input validation error, null for any other.
	ZodError *flattenedError `json:"zodError"`
	// RetryAfterSeconds is set when the server knows when a retry can succeed.
	RetryAfterSeconds int `json:"retryAfterSeconds,omitempty"`
}

// flattenedError is zod's error.flatten(): messages that concern the whole
// input, and messages per top-level field.
type flattenedError struct {
	FormErrors  []string            `json:"formErrors"`
	FieldErrors map[string][]string `json:"fieldErrors"`
}

func (e *Error) shape(path string) errorShape {
	c := e.code()
	return errorShape{
		Message: e.message(),
		Code:    c.JSONRPC(),
		Data: errorData{Code: c, HTTPStatus: c.HTTPStatus(), Path: path, FieldErrors: e.FieldErrors,
			ZodError: e.flatten(), RetryAfterSeconds: retryAfterSeconds(e.RetryAfter)},
		wire: e.wire,
	}
}

// flatten returns data.zodError: nil unless the error is a BAD_REQUEST
// about the input (as create-t3-app's errorFormatter, which fills it only
// for BAD_REQUEST; another code keeps its fields in data.fieldErrors). Like
// zod's flatten, a field message is filed under the first segment of its
// dotted path ("items.0.name" under "items").
func (e *Error) flatten() *flattenedError {
	if (e.FieldErrors == nil && !e.invalidInput) || e.code() != CodeBadRequest {
		return nil
	}
	f := &flattenedError{FormErrors: []string{}, FieldErrors: map[string][]string{}}
	if len(e.FieldErrors) == 0 {
		f.FormErrors = append(f.FormErrors, e.message())
		return f
	}
	keys := make([]string, 0, len(e.FieldErrors))
	for k := range e.FieldErrors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		top, _, _ := strings.Cut(k, ".")
		f.FieldErrors[top] = append(f.FieldErrors[top], e.FieldErrors[k])
	}
	return f
}

// retryAfterSeconds rounds a positive wait up to whole seconds (the Retry-After unit);
// zero means none.
func retryAfterSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// toError turns any error a procedure or hook returned into the *Error the
// client sees: an error from an input's Validate goes to validationError;
// otherwise an *Error in the chain wins, then the router's MapErrorFunc,
// then FieldErrors; anything else is an INTERNAL_SERVER_ERROR with a generic
// message, logged in full.
func (r *Router) toError(path string, err error) *Error {
	var ve *validateError
	if errors.As(err, &ve) {
		return r.validationError(ve.err)
	}
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	if r.cfg.MapErrorFunc != nil {
		if te := r.cfg.MapErrorFunc(err); te != nil {
			return te
		}
	}
	var fe FieldErrors
	if errors.As(err, &fe) {
		return &Error{Code: CodeBadRequest, Message: fe.Error(), FieldErrors: fe, Err: err}
	}
	if r.cfg.Logger != nil {
		r.cfg.Logger.Error("trpc procedure failed", "path", path, "err", err)
	}
	return &Error{Code: CodeInternalServerError, Message: "Internal server error", Err: err}
}

// fallbackErrorShape is the error shape sent when an error's own cannot be
// serialized: INTERNAL_SERVER_ERROR with every field the client expects, in
// transformer t.
func fallbackErrorShape(t Transformer) []byte {
	const shape = `{"message":"Internal server error","code":-32603,"data":{"code":"INTERNAL_SERVER_ERROR","httpStatus":500,"zodError":null}}`
	if t == TransformerSuperJSON {
		return []byte(`{"json":` + shape + `}`)
	}
	return []byte(shape)
}
