package trpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HTTPHandler returns the handler for tRPC over HTTP: queries, mutations,
// batches, JSONL streaming (httpBatchStreamLink) and SSE subscriptions
// (httpSubscriptionLink). Mount it at the prefix the client's url names
// (such as /trpc/); the procedure path is the last segment of the URL path.
func (r *Router) HTTPHandler() http.Handler {
	return http.HandlerFunc(r.serveHTTP)
}

// call is one procedure call of an HTTP request.
type call struct {
	path  string
	proc  *procedure
	input input
	// err, if set, is the call's result (NOT_FOUND, wrong method).
	err *Error
	// streamTo, set on a streaming query's call of a JSONL response, writes
	// its output as an async iterable and returns the error it ended with.
	streamTo func(ctx context.Context, run subscriptionRun) *Error
}

// request is a parsed HTTP tRPC request.
type request struct {
	batch  bool
	stream bool
	calls  []call
	// connParams and lastEventID are read for SSE.
	connParams  map[string]string
	lastEventID string
}

func (r *Router) serveHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Vary", "trpc-accept, accept")
	if req.Method == http.MethodHead {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// The URL alone names the procedures: parse it, and authenticate the caller from
	// the headers, before a byte of the body is read.
	pr, q, te := r.parseTarget(req.Method, req.URL, req.Header)
	if te != nil {
		r.writeTopLevelFor(w, te)
		return
	}
	auth := &authState{req: AuthRequest{Header: req.Header, Transport: TransportHTTP}}
	if req.Method == http.MethodPost && req.Body != nil && req.Body != http.NoBody && !r.needsBody(req.Context(), auth, pr) {
		// Every call fails before it reads its input (unknown procedure, or not
		// allowed without authentication): answer without reading the body. The
		// server closes the connection rather than drain a large unread body.
		for i := range pr.calls {
			pr.calls[i].input.err = Errorf(CodeUnauthorized, "Unauthorized")
		}
		r.runCalls(w, req, pr, auth)
		return
	}
	var body []byte
	var upload *input
	if req.Method == http.MethodPost && req.Body != nil {
		var release func()
		if upload, release, te = r.readUpload(w, req); te != nil {
			r.writeTopLevel(w, te)
			return
		}
		if release != nil {
			defer release()
		}
		if upload == nil {
			b, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.cfg.MaxBodyBytes))
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					r.writeTopLevel(w, Errorf(CodePayloadTooLarge, "Request body is larger than %d bytes", r.cfg.MaxBodyBytes))
					return
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					r.writeTopLevel(w, &Error{Code: CodeTimeout, Message: "Request body not received in time", Err: err})
					return
				}
				r.writeTopLevel(w, Errorf(CodeBadRequest, "Could not read request body"))
				return
			}
			body = b
		}
	}
	if upload != nil {
		defer upload.close()
	}
	if te := r.parseInputs(pr, q, req.Method, req.Header, body, upload); te != nil {
		r.writeTopLevelFor(w, te)
		return
	}
	if !pr.batch && pr.calls[0].err == nil && pr.calls[0].proc.servesSSE(req.Header) {
		// An SSE stream outlives any read timeout: the body (if any) is read.
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		r.serveSSE(w, req, pr)
		return
	}
	r.runCalls(w, req, pr, auth)
}

// runCalls runs the calls of a query, mutation or batch and writes their results, as
// JSON or, when the client asked for it, as a JSONL stream.
func (r *Router) runCalls(w http.ResponseWriter, req *http.Request, pr *request, auth *authState) {
	if pr.stream {
		r.serveJSONL(w, req, pr, auth)
		return
	}
	results := make([]*result, len(pr.calls))
	r.eachCall(req.Context(), auth, pr.calls, func(i int, res *result) { results[i] = res })
	r.writeResults(w, pr.batch, results)
}

// eachCall runs calls, at most MaxBatchConcurrency at once (a batch of 100 calls must
// not take 100 database connections), and hands each result to done from the call's
// goroutine. A panic anywhere in a call, its observer or done becomes that call's
// INTERNAL_SERVER_ERROR and is logged; it never takes the process down.
func (r *Router) eachCall(ctx context.Context, auth *authState, calls []call, done func(i int, res *result)) {
	sem := make(chan struct{}, r.cfg.MaxBatchConcurrency)
	var wg sync.WaitGroup
	for i := range calls {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res := r.guardedCall(ctx, auth, &calls[i])
			defer func() {
				if v := recover(); v != nil {
					r.logPanic(calls[i].path, v)
				}
			}()
			done(i, res)
		})
	}
	wg.Wait()
}

// guardedCall is runCall with a panic turned into INTERNAL_SERVER_ERROR.
func (r *Router) guardedCall(ctx context.Context, auth *authState, c *call) (res *result) {
	defer func() {
		if v := recover(); v != nil {
			r.logPanic(c.path, v)
			res = &result{path: c.path, err: &Error{Code: CodeInternalServerError, Message: "Internal server error",
				Err: fmt.Errorf("panic: %v", v)}}
		}
	}()
	return r.runCall(ctx, auth, c)
}

func (r *Router) logPanic(path string, v any) {
	if r.cfg.Logger != nil {
		r.cfg.Logger.Error("trpc call panicked", "path", path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	}
}

// needsBody reports whether some call of pr can get as far as reading its input: a
// public procedure, a subscription (it authenticates with connectionParams too), or any
// procedure once the caller authenticated from the request's headers.
func (r *Router) needsBody(ctx context.Context, auth *authState, pr *request) bool {
	for _, c := range pr.calls {
		if c.err != nil || c.proc == nil {
			continue
		}
		if c.proc.public || c.proc.kind == kindSubscription {
			return true
		}
		if _, te := r.contextFor(ctx, auth, c.proc); te == nil {
			return true
		}
	}
	return false
}

func (r *Router) writeTopLevelFor(w http.ResponseWriter, te *Error) {
	if te.Code == CodeMethodNotSupported {
		w.Header().Set("Allow", "GET, POST, HEAD")
	}
	r.writeTopLevel(w, te)
}

// parseTarget reads what the URL and headers say: the method, the procedures and
// whether the request is a batch or a stream. It never looks at the body.
func (r *Router) parseTarget(method string, u *url.URL, h http.Header) (*request, url.Values, *Error) {
	if method != http.MethodGet && method != http.MethodPost {
		return nil, nil, Errorf(CodeMethodNotSupported, "Unsupported %s-request", method)
	}
	escaped := u.EscapedPath()
	seg := escaped[strings.LastIndex(escaped, "/")+1:]
	pathStr, err := url.PathUnescape(seg)
	if err != nil {
		return nil, nil, Errorf(CodeBadRequest, "Invalid path encoding")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, nil, Errorf(CodeBadRequest, "Invalid query string")
	}
	pr := &request{
		batch:  q.Get("batch") == "1",
		stream: acceptsJSONL(h),
	}
	if pr.stream && !pr.batch {
		return nil, nil, Errorf(CodeBadRequest, "Streaming requests must be batched (you can do a batch of 1)")
	}
	paths := []string{pathStr}
	if pr.batch {
		paths = strings.Split(pathStr, ",")
		if len(paths) > r.cfg.MaxBatchSize {
			return nil, nil, Errorf(CodeBadRequest, "Batch call exceeds maximum size")
		}
	}
	var kind procKind
	for _, p := range paths {
		proc := r.procs[p]
		if proc == nil {
			pr.calls = append(pr.calls, call{path: p, err: Errorf(CodeNotFound, "No procedure found on path %q", p)})
			continue
		}
		if kind != "" && kind != proc.httpKind() {
			return nil, nil, Errorf(CodeBadRequest, "Cannot mix procedure types in call")
		}
		kind = proc.httpKind()
		if pr.batch && kind == kindSubscription {
			return nil, nil, Errorf(CodeBadRequest, "Cannot batch subscription calls")
		}
		c := call{path: p, proc: proc}
		if !methodAllowed(proc.kind, method, r.cfg.AllowMethodOverride) {
			c.err = Errorf(CodeMethodNotSupported, "Unsupported %s-request to %s procedure at path %q", method, proc.httpKind(), p)
		}
		pr.calls = append(pr.calls, c)
	}
	return pr, q, nil
}

// parseInputs gives the calls of pr their inputs: the upload, the body's JSON, or the
// query's input; and, for a subscription, its connectionParams and last event ID.
func (r *Router) parseInputs(pr *request, q url.Values, method string, h http.Header, body []byte, upload *input) *Error {
	if upload != nil {
		if pr.batch || len(pr.calls) != 1 || pr.calls[0].proc == nil || pr.calls[0].proc.kind != kindMutation {
			return Errorf(CodeUnsupportedMediaType, "multipart/form-data and application/octet-stream are only accepted for unbatched mutations")
		}
		pr.calls[0].input = *upload
		return nil
	}
	var raw []byte
	if method == http.MethodGet {
		if v, ok := q["input"]; ok && len(v) > 0 {
			raw = []byte(v[0])
		}
	} else {
		// As the reference server: a POST needs a content-type even with no
		// body (httpLink always sends one); parameters are ignored; an empty
		// application/json body is an undefined input. Unlike it (a
		// case-sensitive prefix match), the media type is compared as HTTP
		// says, case-insensitively and whole: "Application/JSON" is JSON,
		// "application/jsonl" is not.
		ct := h.Get("Content-Type")
		if ct == "" {
			return Errorf(CodeUnsupportedMediaType, "Missing content-type header")
		}
		if mt, _, _ := strings.Cut(ct, ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
			return Errorf(CodeUnsupportedMediaType, "Unsupported content-type %q", ct)
		}
		raw = body
	}
	r.splitInputs(pr, raw)
	if len(pr.calls) == 1 && !pr.batch && pr.calls[0].proc != nil && pr.calls[0].proc.kind == kindSubscription {
		if cp, ok := q["connectionParams"]; ok && len(cp) > 0 {
			params, te := parseConnectionParams([]byte(cp[0]))
			if te != nil {
				return te
			}
			pr.connParams = params
		}
		pr.lastEventID = h.Get("Last-Event-ID")
		for _, k := range []string{"lastEventId", "Last-Event-Id"} {
			if pr.lastEventID == "" {
				pr.lastEventID = q.Get(k)
			}
		}
	}
	return nil
}

func acceptsJSONL(h http.Header) bool {
	return strings.Contains(h.Get("trpc-accept"), "application/jsonl") ||
		strings.Contains(h.Get("Accept"), "application/jsonl")
}

func methodAllowed(k procKind, method string, override bool) bool {
	switch k {
	case kindMutation:
		return method == http.MethodPost
	default:
		return method == http.MethodGet || (override && method == http.MethodPost)
	}
}

// splitInputs assigns each call its input: the whole raw JSON for a single
// call, the entry at its index for a batch.
func (r *Router) splitInputs(pr *request, raw []byte) {
	setAll := func(te *Error) {
		for i := range pr.calls {
			pr.calls[i].input.err = te
		}
	}
	if !pr.batch {
		in, te := r.deserialize(raw)
		if te != nil {
			setAll(te)
			return
		}
		pr.calls[0].input.json = in
		return
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			setAll(Errorf(CodeBadRequest, `"input" needs to be an object when doing a batch call`))
		} else {
			setAll(&Error{Code: CodeBadRequest, Message: "Invalid input: malformed JSON", Err: err})
		}
		return
	}
	for i := range pr.calls {
		v, ok := m[fmt.Sprint(i)]
		if !ok {
			continue
		}
		in, te := r.deserialize(v)
		if te != nil {
			pr.calls[i].input.err = te
			continue
		}
		pr.calls[i].input.json = in
	}
}

// parseConnectionParams parses connectionParams: null or a JSON object of
// strings, else PARSE_ERROR.
func parseConnectionParams(raw []byte) (map[string]string, *Error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &Error{Code: CodeParseError, Message: "Invalid connectionParams: expected an object", Err: err}
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, Errorf(CodeParseError, "Invalid connectionParams: %q is not a string", k)
		}
		out[k] = s
	}
	return out, nil
}

// readUpload reads a multipart/form-data or application/octet-stream body
// (nil if the request is not one) once UploadGate admitted it, under
// UploadReadTimeout. Beyond UploadMemoryBytes the body goes to a temporary
// file as it arrives, so a slow sender holds a file, not memory. release,
// when not nil, gives the upload's slot back.
func (r *Router) readUpload(w http.ResponseWriter, req *http.Request) (in *input, release func(), te *Error) {
	ct := req.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "multipart/form-data" && mt != "application/octet-stream") {
		return nil, nil, nil
	}
	if req.ContentLength > r.cfg.MaxUploadBytes {
		return nil, nil, Errorf(CodePayloadTooLarge, "Upload is larger than %d bytes", r.cfg.MaxUploadBytes)
	}
	if r.cfg.UploadGate != nil {
		rel, err := r.cfg.UploadGate(req)
		if err != nil {
			return nil, nil, r.toError("", err)
		}
		release = rel
	}
	defer func() {
		if te != nil && release != nil {
			release()
			release = nil
		}
	}()
	if r.cfg.UploadReadTimeout > 0 {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(r.cfg.UploadReadTimeout))
	}
	body := http.MaxBytesReader(w, req.Body, r.cfg.MaxUploadBytes)
	readErr := func(err error) *Error {
		var mbe *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &mbe):
			return Errorf(CodePayloadTooLarge, "Upload is larger than %d bytes", r.cfg.MaxUploadBytes)
		case errors.As(err, &ne) && ne.Timeout():
			return &Error{Code: CodeTimeout, Message: "Upload not received in time", Err: err}
		}
		return &Error{Code: CodeBadRequest, Message: "Malformed " + mt + " body", Err: err}
	}
	if mt == "application/octet-stream" {
		sp, err := spoolBody(body, r.cfg.UploadMemoryBytes, r.cfg.UploadSpoolDir)
		if err != nil {
			return nil, release, readErr(err)
		}
		return &input{blobType: ct, spool: sp}, release, nil
	}
	req.Body = body
	if err := req.ParseMultipartForm(r.cfg.UploadMemoryBytes); err != nil {
		return nil, release, readErr(err)
	}
	return &input{form: req.MultipartForm}, release, nil
}

// result is the outcome of one call, ready to be written.
type result struct {
	path string
	data any
	void bool
	err  *Error
	// streamed means the call's answer is written already (streamCall).
	streamed bool
}

func (r *Router) runCall(ctx context.Context, auth *authState, c *call) *result {
	start := time.Now()
	res := &result{path: c.path}
	defer func() { r.observeCall(c.path, TransportHTTP, res.err, start) }()
	if c.err != nil {
		res.err = c.err
		return res
	}
	cctx, te := r.contextFor(ctx, auth, c.proc)
	if te != nil {
		res.err = te
		return res
	}
	if c.streamTo != nil {
		run, err := r.openSubscription(c.proc, c.input)
		if err != nil {
			res.err = r.toError(c.path, err)
			return res
		}
		res.streamed = true
		res.err = c.streamTo(cctx, run)
		return res
	}
	out, err := r.safeCall(cctx, c.proc, c.input)
	if err != nil {
		res.err = r.toError(c.path, err)
		return res
	}
	res.data = out
	res.void = c.proc.outType == voidType
	return res
}

// safeCall runs a query or mutation, turning a panic into an error.
func (r *Router) safeCall(ctx context.Context, p *procedure, in input) (out any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic in procedure %s: %v", p.path, v)
		}
	}()
	return p.call(ctx, in)
}

// envelope returns the JSON of one response envelope, the transformer
// applied to the data or the whole error.
func (r *Router) envelope(res *result) []byte {
	if res.err != nil {
		b, err := r.cfg.Transformer.serialize(res.err.shape(res.path))
		if err != nil {
			b = fallbackErrorShape(r.cfg.Transformer)
		}
		return append(append([]byte(`{"error":`), b...), '}')
	}
	if res.void {
		if r.cfg.Transformer == TransformerSuperJSON {
			return []byte(`{"result":{"data":{"json":null,"meta":{"values":["undefined"],"v":1}}}}`)
		}
		return []byte(`{"result":{}}`)
	}
	b, err := r.cfg.Transformer.serialize(res.data)
	if err != nil {
		res.err = r.toError(res.path, fmt.Errorf("encode output of %s: %w", res.path, err))
		return r.envelope(res)
	}
	return append(append([]byte(`{"result":{"data":`), b...), '}', '}')
}

func (r *Router) writeResults(w http.ResponseWriter, batch bool, results []*result) {
	var buf bytes.Buffer
	if batch {
		buf.WriteByte('[')
	}
	for i, res := range results {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(r.envelope(res))
	}
	if batch {
		buf.WriteByte(']')
	}
	status, retryAfter := 0, 0
	for _, res := range results {
		s := http.StatusOK
		if res.err != nil {
			s = res.err.code().HTTPStatus()
			retryAfter = max(retryAfter, retryAfterSeconds(res.err.RetryAfter))
		}
		if status != 0 && s != status {
			status = http.StatusMultiStatus
			break
		}
		status = s
	}
	w.Header().Set("Content-Type", "application/json")
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeTopLevel answers the whole request with one error object, even for
// a batch (the client hands it to every call).
func (r *Router) writeTopLevel(w http.ResponseWriter, te *Error) {
	r.writeResults(w, false, []*result{{err: te}})
}
