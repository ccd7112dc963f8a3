// Package aitest has fake OpenAI Images, Gemini and remove.bg servers for
// tests. Each fake checks requests the way the real service does (paths,
// auth headers, multipart field names, JSON field names in both cases where
// the service accepts both, allowed values) and answers with real-looking
// images generated in-process, with the service's headers and body shapes.
//
// A fake answers every valid request with success unless scripted. Script
// it with a queue of answers (Enqueue) consumed one per valid request, or a
// function of the call (Script). Invalid requests are refused exactly as
// the service would refuse them, and do not consume the script:
//
//	fake := aitest.NewOpenAI(t)
//	fake.Enqueue(aitest.OpenAIRateLimited(2*time.Second), aitest.Success())
//	var cfg ai.Config
//	fake.Configure(&cfg) // or fake.Env() for a test that runs the program
//	client := ai.NewOpenAI(cfg)
//
// Canned answers exist for every error shape in the API reference
// (OpenAI*, Gemini*, RemoveBG* functions), plus HTMLError, Delayed and
// ConnectionReset for any fake.
package aitest

import (
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Response is one scripted answer. The zero Response is the fake's normal
// success answer.
type Response struct {
	// Status is the HTTP status; 0 means the fake's success answer (with
	// Header added to it and Delay applied).
	Status int
	// Header is added to the answer, replacing the fake's own values.
	Header http.Header
	// Body is the answer's body, sent as is.
	Body []byte
	// Delay is how long to wait before answering. The wait ends early when
	// the client gives up, so a long Delay simulates a hung service.
	Delay time.Duration
	// Reset closes the connection without an answer (a TCP reset), after
	// Delay.
	Reset bool
}

// WithHeader returns a copy of r with the header key set to value.
func (r Response) WithHeader(key, value string) Response {
	h := make(http.Header)
	maps.Copy(h, r.Header)
	h.Set(key, value)
	r.Header = h
	return r
}

// After returns a copy of r answered only after d.
func (r Response) After(d time.Duration) Response {
	r.Delay = d
	return r
}

// OutageUntil returns a ScriptFunc that answers during until end, and
// with success after it: a provider outage of a known length.
//
//	fake.Script(aitest.OutageUntil(time.Now().Add(20*time.Second), aitest.OpenAIOverloaded()))
func OutageUntil(end time.Time, during Response) ScriptFunc {
	return func(Call) Response {
		if time.Now().Before(end) {
			return during
		}
		return Success()
	}
}

// Success is the fake's normal answer (the zero Response).
func Success() Response { return Response{} }

// Delayed is the normal answer, sent after d (or never, if the client gives
// up first).
func Delayed(d time.Duration) Response { return Response{Delay: d} }

// ConnectionReset closes the connection without answering.
func ConnectionReset() Response { return Response{Reset: true} }

// HTMLError is an HTML error page with status, as a load balancer or CDN in
// front of a service sends it (remove.bg's 502s look like this).
func HTMLError(status int) Response {
	text := http.StatusText(status)
	body := "<html>\r\n<head><title>" + strconv.Itoa(status) + " " + text + "</title></head>\r\n<body>\r\n<center><h1>" +
		strconv.Itoa(status) + " " + text + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	return Response{Status: status, Body: []byte(body), Header: http.Header{"Content-Type": {"text/html"}}}
}

// Call is one request a fake received.
type Call struct {
	// N numbers the requests from 1, valid or not.
	N      int
	Method string
	Path   string
	Header http.Header
	// Fields holds the scalar form fields (OpenAI, remove.bg) or the
	// generation settings (Gemini: "model", "responseModalities",
	// "aspectRatio"), whatever case the client used.
	Fields map[string][]string
	// Prompt is the prompt text (OpenAI prompt field, Gemini text parts).
	Prompt string
	// Images are the uploaded images, in order.
	Images [][]byte
	// Invalid says why the fake refused the request as the real service
	// would; empty for a valid request.
	Invalid string
	// Status is the status the fake answered with (0 for a reset).
	Status int
}

// Field returns the first value of the field name, or "".
func (c Call) Field(name string) string {
	if v := c.Fields[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// ScriptFunc chooses the answer to a valid request. Return Success() for
// the normal answer.
type ScriptFunc func(c Call) Response

// fake is what the three fakes share: the server, the key, the script and
// the record of calls.
type fake struct {
	srv  *httptest.Server
	key  string
	done chan struct{} // closed by Close, to end pending delays

	closeOnce sync.Once

	mu     sync.Mutex
	queue  []Response
	script ScriptFunc
	calls  []Call
	n      int
}

// service is one fake API: it parses and checks a request, and builds its
// success answer and its standard headers.
type service interface {
	check(r *http.Request, c *Call) *Response
	success(c Call) Response
	headers(status int) http.Header
}

func newFake(tb testing.TB, key string, svc service) *fake {
	f := &fake{key: key, done: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.serve(w, r, svc)
	}))
	if tb != nil {
		tb.Cleanup(f.Close)
	}
	return f
}

// Key returns the API key the fake accepts.
func (f *fake) Key() string { return f.key }

// Close ends pending delays and shuts the server down; fakes made with a
// testing.TB close themselves when the test ends.
func (f *fake) Close() {
	f.closeOnce.Do(func() { close(f.done) })
	f.srv.Close()
}

// Enqueue adds answers to the queue; each valid request takes the next one.
// When the queue is empty, the Script function (or success) answers.
func (f *fake) Enqueue(rs ...Response) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, rs...)
}

// Script sets the function that answers valid requests once the queue is
// empty; nil restores plain success.
func (f *fake) Script(fn ScriptFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = fn
}

// Calls returns every request answered so far, in the order the answers
// went out. A request still waiting out a Delay is in Count, not yet here.
func (f *fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Count returns how many requests arrived so far, valid or not.
func (f *fake) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request, svc service) {
	f.mu.Lock()
	f.n++
	c := Call{N: f.n, Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Fields: map[string][]string{}}
	f.mu.Unlock()

	resp := svc.check(r, &c)
	if resp == nil {
		resp = f.next(c)
		if resp.Status == 0 && resp.Body == nil && !resp.Reset {
			ok := svc.success(c)
			if ok.Header == nil {
				ok.Header = make(http.Header)
			}
			maps.Copy(ok.Header, resp.Header)
			ok.Delay = resp.Delay
			resp = &ok
		}
	}
	if resp.Delay > 0 {
		t := time.NewTimer(resp.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		case <-f.done:
			t.Stop()
			reset(w)
			f.record(c)
			return
		}
	}
	if !resp.Reset {
		c.Status = orStatus(resp.Status)
	}
	f.record(c)
	if r.Context().Err() != nil {
		return
	}
	if resp.Reset {
		reset(w)
		return
	}
	h := w.Header()
	maps.Copy(h, svc.headers(c.Status))
	maps.Copy(h, resp.Header)
	w.WriteHeader(c.Status)
	_, _ = w.Write(resp.Body)
}

func (f *fake) next(c Call) *Response {
	f.mu.Lock()
	if len(f.queue) > 0 {
		r := f.queue[0]
		f.queue = f.queue[1:]
		f.mu.Unlock()
		return &r
	}
	script := f.script
	f.mu.Unlock()
	if script == nil {
		return &Response{}
	}
	r := script(c)
	return &r
}

func (f *fake) record(c Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

func orStatus(s int) int {
	if s == 0 {
		return http.StatusOK
	}
	return s
}

// reset drops the connection with a TCP RST, as a crashed or overloaded
// server would.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("aitest: response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
