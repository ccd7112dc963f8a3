package trpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"reflect"
	"strings"
)

// input is a call's input as received, after the transformer: plain JSON
// (nil for undefined), or the body of an upload.
type input struct {
	json []byte
	// err is a problem found while reading the input; the call fails with
	// it when the procedure reads its input, as in the reference server.
	err  *Error
	form *multipart.Form
	blob *Blob
	// spool holds an application/octet-stream body of type blobType as it
	// arrived; it becomes the Blob when the procedure reads its input.
	spool    *spooledBody
	blobType string
}

// close removes the temporary files of an upload.
func (in *input) close() {
	if in.form != nil {
		_ = in.form.RemoveAll()
	}
	if in.spool != nil {
		_ = in.spool.Close()
	}
}

// Validator is implemented by input types that check themselves after
// decoding. An error from Validate goes through the router's MapErrorFunc
// like a procedure's; unmapped, it fails the call with BAD_REQUEST, and a
// FieldErrors (or an error wrapping one) also fills data.fieldErrors.
type Validator interface {
	Validate() error
}

// FormData is the input of an upload mutation sent as multipart/form-data
// (a FormData input in httpLink). Its temporary files are removed after the
// call returns.
type FormData struct {
	*multipart.Form
}

// Value returns the first value of the text field key, or "".
func (f FormData) Value(key string) string {
	if f.Form == nil || len(f.Form.Value[key]) == 0 {
		return ""
	}
	return f.Form.Value[key][0]
}

// File returns the first file of the field key, or nil.
func (f FormData) File(key string) *multipart.FileHeader {
	if f.Form == nil || len(f.Form.File[key]) == 0 {
		return nil
	}
	return f.Form.File[key][0]
}

// Blob is the input of a mutation sent as application/octet-stream (a
// Blob, File or Uint8Array input in httpLink).
type Blob struct {
	// Type is the request's content-type.
	Type string
	// Data is the whole body, at most Config.MaxUploadBytes.
	Data []byte
}

var (
	formDataType = reflect.TypeFor[FormData]()
	blobType     = reflect.TypeFor[Blob]()
	voidType     = reflect.TypeFor[Void]()
)

// decodeInput decodes a call's input into In and validates it.
func decodeInput[In any](raw input) (In, error) {
	var in In
	if raw.err != nil {
		var tm *transformerMismatch
		if !errors.As(raw.err.Err, &tm) {
			return in, raw.err
		}
		if tm.client != TransformerSuperJSON || !hasJSONField(reflect.TypeFor[In]()) {
			return in, tm.toError()
		}
		// A plain JSON input whose only field is named json.
		raw = input{json: tm.raw}
	}
	switch any(&in).(type) {
	case *FormData:
		if raw.form == nil {
			return in, Errorf(CodeUnsupportedMediaType, "This procedure takes multipart/form-data")
		}
		*any(&in).(*FormData) = FormData{raw.form}
		return in, nil
	case *Blob:
		if raw.blob == nil && raw.spool != nil {
			data, err := raw.spool.bytes()
			if err != nil {
				return in, fmt.Errorf("read spooled upload: %w", err)
			}
			raw.blob = &Blob{Type: raw.blobType, Data: data}
		}
		if raw.blob == nil {
			return in, Errorf(CodeUnsupportedMediaType, "This procedure takes application/octet-stream")
		}
		*any(&in).(*Blob) = *raw.blob
		return in, nil
	}
	if raw.form != nil || raw.blob != nil || raw.spool != nil {
		return in, Errorf(CodeUnsupportedMediaType, "This procedure takes JSON input")
	}
	if raw.json != nil && string(raw.json) != "null" {
		if err := json.Unmarshal(raw.json, &in); err != nil {
			return in, inputError(err)
		}
	}
	var v any = &in
	if _, ok := v.(Validator); !ok {
		v = in
	}
	if val, ok := v.(Validator); ok {
		if rv := reflect.ValueOf(val); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return in, nil
		}
		if err := val.Validate(); err != nil {
			var te *Error
			if errors.As(err, &te) {
				return in, te
			}
			return in, &validateError{err}
		}
	}
	return in, nil
}

// validateError is an error a Validate method returned; the router's
// toError makes it the client's error (validationError).
type validateError struct{ err error }

func (v *validateError) Error() string { return v.err.Error() }
func (v *validateError) Unwrap() error { return v.err }

// validationError is the error the client sees for a Validate error: what
// MapErrorFunc makes of it (so that an application error keeps its fields),
// else BAD_REQUEST with its message and any FieldErrors. A BAD_REQUEST
// without fields goes to data.zodError.formErrors.
func (r *Router) validationError(err error) *Error {
	if r.cfg.MapErrorFunc != nil {
		if te := r.cfg.MapErrorFunc(err); te != nil {
			e := *te
			e.invalidInput = e.code() == CodeBadRequest
			return &e
		}
	}
	e := &Error{Code: CodeBadRequest, Message: err.Error(), Err: err, invalidInput: true}
	var fe FieldErrors
	if errors.As(err, &fe) {
		e.FieldErrors = fe
	}
	return e
}

// hasJSONField reports whether a JSON object member named "json" can land in
// t: a struct field of that name (encoding/json matches names without
// regard to case), or a map or interface that takes any member.
func hasJSONField(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		return true
	}
	switch t.Kind() {
	case reflect.Map, reflect.Interface:
		return true
	case reflect.Struct:
	default:
		return false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case name == "" && f.Anonymous:
			if hasJSONField(f.Type) {
				return true
			}
			continue
		case name == "":
			name = f.Name
		}
		if f.IsExported() && strings.EqualFold(name, "json") {
			return true
		}
	}
	return false
}

// inputError describes a JSON decoding failure without Go type names. A
// value of the wrong type is a validation error (data.zodError, as zod
// reports it); malformed JSON is not, as in the reference server, where it
// fails before the input parser runs.
func inputError(err error) *Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return &Error{Code: CodeBadRequest, Message: fmt.Sprintf("Invalid input: expected %s, got %s", jsKind(te.Type), te.Value), Err: err, invalidInput: true}
		}
		msg := fmt.Sprintf("expected %s, got %s", jsKind(te.Type), te.Value)
		return &Error{Code: CodeBadRequest, Message: "Invalid input: " + field + ": " + msg, FieldErrors: FieldErrors{field: msg}, Err: err}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &Error{Code: CodeBadRequest, Message: "Invalid input: malformed JSON", Err: err}
	}
	return &Error{Code: CodeBadRequest, Message: "Invalid input", Err: err, invalidInput: true}
}

func jsKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}
