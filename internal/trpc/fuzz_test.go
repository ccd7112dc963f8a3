package trpc

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzHTTPBatch feeds arbitrary URLs, headers and bodies to the HTTP
// handler. Whatever the input, the request must be answered with a tRPC
// envelope and never with a 500 (the procedures here never fail), and the
// parser must not panic.
func FuzzHTTPBatch(f *testing.F) {
	f.Add("GET", "/trpc/item.get,item.get?batch=1&input=%7B%220%22%3A%7B%22id%22%3A1%7D%7D", "", "", false)
	f.Add("POST", "/trpc/item.add,item.add?batch=1", "application/json", `{"0":{"name":"a"},"1":{"name":""}}`, false)
	f.Add("POST", "/trpc/item.add?batch=1", "application/json", `[1,2]`, false)
	f.Add("POST", "/trpc/item.add", "application/json", ``, false)
	f.Add("GET", "/trpc/item.get,item.add?batch=1", "", "", true)
	f.Add("GET", "/trpc/item.watch?input=%7B%7D&lastEventId=x", "", "", false)
	f.Add("POST", "/trpc/item.add", "multipart/form-data; boundary=x", "--x\r\n\r\n--x--", false)
	f.Add("POST", "/trpc/item.get?batch=1", "application/json", `{"0":{"json":{"id":1},"meta":{"values":{"id":["bigint"]}}}}`, true)
	routers := map[bool]*Router{
		false: setup(f, Config{MaxBodyBytes: 4096, SSEMaxDuration: 1}).router,
		true:  setup(f, Config{Transformer: TransformerSuperJSON, MaxBodyBytes: 4096, SSEMaxDuration: 1}).router,
	}
	f.Fuzz(func(t *testing.T, method, target, contentType, body string, stream bool) {
		for _, r := range routers {
			u, err := url.ParseRequestURI(target)
			if err != nil || (method != "GET" && method != "POST") {
				return
			}
			req := httptest.NewRequest(method, "/", strings.NewReader(body))
			req.URL = u
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			if stream {
				req.Header.Set("trpc-accept", "application/jsonl")
			}
			rec := httptest.NewRecorder()
			r.HTTPHandler().ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: status %d: %s", method, target, rec.Code, rec.Body)
			}
			if rec.Code != http.StatusOK && !strings.Contains(rec.Body.String(), `"error"`) {
				t.Fatalf("%s %s: status %d without an error envelope: %s", method, target, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzParseRequest checks the request parser alone on raw URLs (including
// escapes net/http would refuse) and bodies.
func FuzzParseRequest(f *testing.F) {
	f.Add("/trpc/item%zz?batch=1", `{}`)
	f.Add("/trpc/a,b,c?batch=1&input=%7B", `{"0":1}`)
	f.Add("/trpc/item.get?input=%7B%22id%22%3A%22x%22%7D", ``)
	r := setup(f, Config{Transformer: TransformerSuperJSON}).router
	f.Fuzz(func(t *testing.T, rawPath, body string) {
		path, query, _ := strings.Cut(rawPath, "?")
		u := &url.URL{Path: path, RawPath: path, RawQuery: query}
		for _, m := range []string{"GET", "POST"} {
			h := http.Header{"Content-Type": {"application/json"}}
			pr, te := parseRequest(r, m, u, h, []byte(body))
			if te == nil && len(pr.calls) == 0 {
				t.Fatalf("no calls and no error for %q", rawPath)
			}
			if te != nil && te.code().HTTPStatus() >= 500 {
				t.Fatalf("server error for %q: %v", rawPath, te)
			}
		}
	})
}

// parseRequest runs the two steps serveHTTP parses a request with, the target and
// then the inputs, on a request without an upload.
func parseRequest(r *Router, method string, u *url.URL, h http.Header, body []byte) (*request, *Error) {
	pr, q, te := r.parseTarget(method, u, h)
	if te != nil {
		return nil, te
	}
	if te := r.parseInputs(pr, q, method, h, body, nil); te != nil {
		return nil, te
	}
	return pr, nil
}
