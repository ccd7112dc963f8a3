package trpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

type getInput struct {
	ID int `json:"id"`
}

type item struct {
	ID   int       `json:"id"`
	Name string    `json:"name,omitempty"`
	At   time.Time `json:"at"`
	Tags []string  `json:"tags"`
}

type addInput struct {
	Name string `json:"name"`
}

func (in addInput) Validate() error {
	if in.Name == "" {
		return FieldErrors{"name": "is required"}
	}
	return nil
}

var errHidden = errors.New("secret detail")

// testBundle is a router with a few procedures and the logs it wrote.
type testBundle struct {
	router *Router
	logs   *bytes.Buffer
}

func setup(t testing.TB, cfg Config) *testBundle {
	t.Helper()
	logs := &bytes.Buffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	r := NewRouter(cfg)
	Query(r, "item.get", func(ctx context.Context, in getInput) (item, error) {
		if in.ID != 1 {
			return item{}, Errorf(CodeNotFound, "Item %d not found", in.ID)
		}
		return item{ID: 1, At: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
	})
	Mutation(r, "item.add", func(ctx context.Context, in addInput) (item, error) {
		return item{ID: 2, Name: in.Name}, nil
	})
	Mutation(r, "item.touch", func(ctx context.Context, in Void) (Void, error) { return Void{}, nil })
	Query(r, "item.fail", func(ctx context.Context, in Void) (Void, error) {
		return Void{}, errHidden
	})
	Query(r, "item.panic", func(ctx context.Context, in Void) (Void, error) { panic("boom") })
	Subscription(r, "item.watch", func(ctx context.Context, in getInput, last string, send func(Event[item]) error) error {
		start := 0
		if last != "" {
			start, _ = strconv.Atoi(last)
		}
		for i := start + 1; i <= start+2; i++ {
			if err := send(Event[item]{ID: strconv.Itoa(i), Data: item{ID: i}}); err != nil {
				return err
			}
		}
		return nil
	})
	return &testBundle{router: r, logs: logs}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *testBundle) do(t *testing.T, method, target, contentType, body string, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	b.router.HTTPHandler().ServeHTTP(rec, req)
	out, _ := io.ReadAll(rec.Result().Body)
	return response{status: rec.Code, header: rec.Header(), body: string(out)}
}

func TestHTTP(t *testing.T) {
	t.Parallel()
	notFound := `{"error":{"message":"Item 2 not found","code":-32004,"data":{"code":"NOT_FOUND","httpStatus":404,"path":"item.get","zodError":null}}}`
	tests := []struct {
		name, method, target, contentType, body string
		wantStatus                              int
		wantBody                                string
	}{
		{"GET query", "GET", "/trpc/item.get?input=%7B%22id%22%3A1%7D", "", "", 200,
			`{"result":{"data":{"id":1,"at":"2024-01-01T00:00:00Z","tags":[]}}}`},
		{"error envelope", "GET", "/trpc/item.get?input=%7B%22id%22%3A2%7D", "", "", 404, notFound},
		{"batch with mixed statuses is 207", "GET", "/trpc/item.get,item.get?batch=1&input=%7B%220%22%3A%7B%22id%22%3A1%7D%2C%221%22%3A%7B%22id%22%3A2%7D%7D", "", "", 207,
			`[{"result":{"data":{"id":1,"at":"2024-01-01T00:00:00Z","tags":[]}}},` + notFound + `]`},
		{"same statuses keep the status", "GET", "/trpc/item.get,item.get?batch=1&input=%7B%220%22%3A%7B%22id%22%3A2%7D%2C%221%22%3A%7B%22id%22%3A2%7D%7D", "", "", 404,
			`[` + notFound + `,` + notFound + `]`},
		{"empty POST body is undefined", "POST", "/trpc/item.touch", "application/json", "", 200, `{"result":{}}`},
		// The reference server refuses a POST without a content-type even when it has no body.
		{"empty POST body without content-type", "POST", "/trpc/item.touch", "", "", 415,
			`{"error":{"message":"Missing content-type header","code":-32015,"data":{"code":"UNSUPPORTED_MEDIA_TYPE","httpStatus":415,"zodError":null}}}`},
		// Unlike the reference server, which matches a case-sensitive prefix.
		{"content-type is case-insensitive, parameters need no value", "POST", "/trpc/item.add", "Application/JSON; charset", `{"name":"a"}`, 200,
			`{"result":{"data":{"id":2,"name":"a","at":"0001-01-01T00:00:00Z","tags":[]}}}`},
		{"a media type that only starts like JSON is not JSON", "POST", "/trpc/item.add", "application/jsonl", `{"name":"a"}`, 415,
			`{"error":{"message":"Unsupported content-type \"application/jsonl\"","code":-32015,"data":{"code":"UNSUPPORTED_MEDIA_TYPE","httpStatus":415,"zodError":null}}}`},
		{"content-type parameters are ignored", "POST", "/trpc/item.add", "application/json; charset=utf-8", `{"name":"a"}`, 200,
			`{"result":{"data":{"id":2,"name":"a","at":"0001-01-01T00:00:00Z","tags":[]}}}`},
		{"validation fills fieldErrors", "POST", "/trpc/item.add", "application/json", `{"name":""}`, 400,
			`{"error":{"message":"invalid input: name: is required","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"item.add","fieldErrors":{"name":"is required"},"zodError":{"formErrors":[],"fieldErrors":{"name":["is required"]}}}}}`},
		{"wrong input type names the field", "POST", "/trpc/item.add", "application/json", `{"name":3}`, 400,
			`{"error":{"message":"Invalid input: name: expected string, got number","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"item.add","fieldErrors":{"name":"expected string, got number"},"zodError":{"formErrors":[],"fieldErrors":{"name":["expected string, got number"]}}}}}`},
		{"malformed JSON is a per-call BAD_REQUEST", "POST", "/trpc/item.add", "application/json", `{"name":`, 400,
			`{"error":{"message":"Invalid input: malformed JSON","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"item.add","zodError":null}}}`},
		{"bad percent-encoding in the query", "GET", "/trpc/item.get?input=%zz", "", "", 400,
			`{"error":{"message":"Invalid query string","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"zodError":null}}}`},
		{"non-object batch input", "GET", "/trpc/item.get,item.get?batch=1&input=%5B1%5D", "", "", 400,
			`[{"error":{"message":"\"input\" needs to be an object when doing a batch call","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"item.get","zodError":null}}},{"error":{"message":"\"input\" needs to be an object when doing a batch call","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"item.get","zodError":null}}}]`},
		{"mixed procedure types", "POST", "/trpc/item.get,item.add?batch=1", "application/json", `{}`, 400,
			`{"error":{"message":"Cannot mix procedure types in call","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"zodError":null}}}`},
		{"subscriptions cannot be batched", "GET", "/trpc/item.watch?batch=1", "", "", 400,
			`{"error":{"message":"Cannot batch subscription calls","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"zodError":null}}}`},
		{"unknown procedure", "GET", "/trpc/nope", "", "", 404,
			`{"error":{"message":"No procedure found on path \"nope\"","code":-32004,"data":{"code":"NOT_FOUND","httpStatus":404,"path":"nope","zodError":null}}}`},
		{"query as POST", "POST", "/trpc/item.get", "application/json", `{"id":1}`, 405,
			`{"error":{"message":"Unsupported POST-request to query procedure at path \"item.get\"","code":-32005,"data":{"code":"METHOD_NOT_SUPPORTED","httpStatus":405,"path":"item.get","zodError":null}}}`},
		{"mutation as GET", "GET", "/trpc/item.add", "", "", 405,
			`{"error":{"message":"Unsupported GET-request to mutation procedure at path \"item.add\"","code":-32005,"data":{"code":"METHOD_NOT_SUPPORTED","httpStatus":405,"path":"item.add","zodError":null}}}`},
		{"PUT", "PUT", "/trpc/item.get", "", "", 405,
			`{"error":{"message":"Unsupported PUT-request","code":-32005,"data":{"code":"METHOD_NOT_SUPPORTED","httpStatus":405,"zodError":null}}}`},
		{"unsupported content type", "POST", "/trpc/item.add", "text/plain", `x`, 415,
			`{"error":{"message":"Unsupported content-type \"text/plain\"","code":-32015,"data":{"code":"UNSUPPORTED_MEDIA_TYPE","httpStatus":415,"zodError":null}}}`},
		{"missing content type", "POST", "/trpc/item.add", "", `{"name":"a"}`, 415,
			`{"error":{"message":"Missing content-type header","code":-32015,"data":{"code":"UNSUPPORTED_MEDIA_TYPE","httpStatus":415,"zodError":null}}}`},
		{"oversized body", "POST", "/trpc/item.add", "application/json", `{"name":"` + strings.Repeat("x", 200) + `"}`, 413,
			`{"error":{"message":"Request body is larger than 100 bytes","code":-32013,"data":{"code":"PAYLOAD_TOO_LARGE","httpStatus":413,"zodError":null}}}`},
		{"streaming needs a batch", "GET", "/trpc/item.get", "", "", 400,
			`{"error":{"message":"Streaming requests must be batched (you can do a batch of 1)","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"zodError":null}}}`},
		{"unknown errors are hidden", "GET", "/trpc/item.fail", "", "", 500,
			`{"error":{"message":"Internal server error","code":-32603,"data":{"code":"INTERNAL_SERVER_ERROR","httpStatus":500,"path":"item.fail","zodError":null}}}`},
		{"panics are hidden", "GET", "/trpc/item.panic", "", "", 500,
			`{"error":{"message":"Internal server error","code":-32603,"data":{"code":"INTERNAL_SERVER_ERROR","httpStatus":500,"path":"item.panic","zodError":null}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{MaxBodyBytes: 100})
			var headers []string
			if tt.name == "streaming needs a batch" {
				headers = []string{"trpc-accept", "application/jsonl"}
			}
			res := b.do(t, tt.method, tt.target, tt.contentType, tt.body, headers...)
			if res.status != tt.wantStatus || res.body != tt.wantBody {
				t.Errorf("got %d %s\nwant %d %s", res.status, res.body, tt.wantStatus, tt.wantBody)
			}
			if strings.Contains(res.body, "secret detail") {
				t.Errorf("leaked a hidden error: %s", res.body)
			}
		})
	}
}

func TestHTTPHeadAndVary(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	res := b.do(t, "HEAD", "/trpc/item.get", "", "")
	if res.status != 204 || res.body != "" {
		t.Errorf("HEAD: got %d %q, want 204 and no body", res.status, res.body)
	}
	res = b.do(t, "GET", "/trpc/item.get?input=%7B%22id%22%3A1%7D", "", "")
	if got := res.header.Get("Vary"); got != "trpc-accept, accept" {
		t.Errorf("Vary = %q", got)
	}
}

func TestHTTPMethodOverride(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{AllowMethodOverride: true})
	res := b.do(t, "POST", "/trpc/item.get", "application/json", `{"id":1}`)
	if res.status != 200 {
		t.Errorf("POST query with override: got %d %s", res.status, res.body)
	}
	res = b.do(t, "GET", "/trpc/item.add", "", "")
	if res.status != 405 {
		t.Errorf("GET mutation with override: got %d, want 405", res.status)
	}
}

func TestHiddenErrorsAreLogged(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	b.do(t, "GET", "/trpc/item.fail", "", "")
	if !strings.Contains(b.logs.String(), "secret detail") {
		t.Errorf("the hidden error was not logged: %q", b.logs.String())
	}
}

func TestMapErrorFunc(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{MapErrorFunc: func(err error) *Error {
		if errors.Is(err, errHidden) {
			return &Error{Code: CodeConflict, Message: "Conflict"}
		}
		return nil
	}})
	res := b.do(t, "GET", "/trpc/item.fail", "", "")
	want := `{"error":{"message":"Conflict","code":-32009,"data":{"code":"CONFLICT","httpStatus":409,"path":"item.fail","zodError":null}}}`
	if res.status != 409 || res.body != want {
		t.Errorf("got %d %s", res.status, res.body)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	type userKey struct{}
	r := NewRouter(Config{AuthFunc: func(ctx context.Context, req AuthRequest) (context.Context, error) {
		if req.Header.Get("Authorization") != "Bearer ok" {
			return nil, errors.New("bad token")
		}
		return context.WithValue(ctx, userKey{}, "u1"), nil
	}})
	Query(r, "me", func(ctx context.Context, in Void) (string, error) {
		u, _ := ctx.Value(userKey{}).(string)
		return u, nil
	})
	Query(r, "hello", func(ctx context.Context, in Void) (string, error) { return "hi", nil }, Public())
	b := &testBundle{router: r}
	tests := []struct {
		target, auth string
		status       int
		body         string
	}{
		{"/trpc/me", "Bearer ok", 200, `{"result":{"data":"u1"}}`},
		{"/trpc/me", "Bearer bad", 401, `{"error":{"message":"Unauthorized","code":-32001,"data":{"code":"UNAUTHORIZED","httpStatus":401,"path":"me","zodError":null}}}`},
		{"/trpc/hello", "", 200, `{"result":{"data":"hi"}}`},
	}
	for _, tt := range tests {
		res := b.do(t, "GET", tt.target, "", "", "Authorization", tt.auth)
		if res.status != tt.status || res.body != tt.body {
			t.Errorf("%s with %q: got %d %s", tt.target, tt.auth, res.status, res.body)
		}
	}
}

func TestJSONL(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	res := b.do(t, "GET", "/trpc/item.get,item.get?batch=1&input=%7B%220%22%3A%7B%22id%22%3A1%7D%2C%221%22%3A%7B%22id%22%3A2%7D%7D", "", "", "trpc-accept", "application/jsonl")
	lines := strings.Split(strings.TrimSuffix(res.body, "\n"), "\n")
	if res.status != 200 || len(lines) != 3 {
		t.Fatalf("got %d with %d lines: %s", res.status, len(lines), res.body)
	}
	if lines[0] != `{"0":[[0],[null,0,0]],"1":[[0],[null,0,1]]}` {
		t.Errorf("head = %s", lines[0])
	}
	want := map[string]bool{
		`[0,0,[[{"result":{"data":{"id":1,"at":"2024-01-01T00:00:00Z","tags":[]}}}]]]`:                                                                    true,
		`[1,0,[[{"error":{"message":"Item 2 not found","code":-32004,"data":{"code":"NOT_FOUND","httpStatus":404,"path":"item.get","zodError":null}}}]]]`: true,
	}
	for _, l := range lines[1:] {
		if !want[l] {
			t.Errorf("unexpected line %s", l)
		}
	}
}

func TestSSE(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{Transformer: TransformerSuperJSON})
	in := `%7B%22json%22%3A%7B%22id%22%3A1%7D%7D`
	res := b.do(t, "GET", "/trpc/item.watch?input="+in, "", "", "Last-Event-ID", "5")
	want := "event: connected\ndata: {\"reconnectAfterInactivityMs\":30000}\n\n" +
		`data: {"json":{"id":6,"at":"0001-01-01T00:00:00.000Z","tags":[]},"meta":{"v":1,"values":{"at":["Date"]}}}` + "\nid: 6\n\n" +
		`data: {"json":{"id":7,"at":"0001-01-01T00:00:00.000Z","tags":[]},"meta":{"v":1,"values":{"at":["Date"]}}}` + "\nid: 7\n\n" +
		"event: return\ndata: \n\n"
	if res.body != want {
		t.Errorf("got\n%s\nwant\n%s", res.body, want)
	}
	if got := res.header.Get("Content-Type"); got != "text/event-stream" {
		t.Errorf("Content-Type = %q", got)
	}
	// lastEventId in the query and in the input resume as well.
	for _, target := range []string{"/trpc/item.watch?lastEventId=5&input=" + in, "/trpc/item.watch?input=%7B%22json%22%3A%7B%22lastEventId%22%3A%225%22%7D%7D"} {
		if res := b.do(t, "GET", target, "", ""); !strings.Contains(res.body, "id: 6\n") {
			t.Errorf("%s did not resume: %s", target, res.body)
		}
	}
	res = b.do(t, "GET", "/trpc/item.watch?connectionParams=%5B1%5D", "", "")
	if res.status != 400 || !strings.Contains(res.body, `"PARSE_ERROR"`) {
		t.Errorf("bad connectionParams: got %d %s", res.status, res.body)
	}
}
