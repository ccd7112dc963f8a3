package trpc

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

type countInput struct {
	N    int  `json:"n"`
	Fail bool `json:"fail,omitempty"`
}

func (in countInput) Validate() error {
	if in.N < 0 {
		return FieldErrors{"n": "must not be negative"}
	}
	return nil
}

// streamRouter has a streaming query "count" that yields 0..n-1 (as items, with
// a Date under superjson) and then returns, or fails.
func streamRouter(t testing.TB, cfg Config) *testBundle {
	b := setup(t, cfg)
	Stream(b.router, "count", func(ctx context.Context, in countInput, yield func(item) error) error {
		for i := range in.N {
			if err := yield(item{ID: i, At: time.UnixMilli(1).UTC()}); err != nil {
				return err
			}
		}
		if in.Fail {
			return Errorf(CodeConflict, "Counting failed")
		}
		return nil
	})
	return b
}

// TestStreamOverJSONL reads a streaming query over httpBatchStreamLink: the call's
// promise resolves to a result whose data is an async iterable, which yields each
// value, then returns, or ends with an error chunk, in both transformers.
func TestStreamOverJSONL(t *testing.T) {
	t.Parallel()
	head := `{"0":[[0],[null,0,0]]}`
	open := []string{`[0,0,[[{"result":0}],["result",0,1]]]`, `[1,0,[[{"data":0}],["data",1,2]]]`}
	tests := []struct {
		name, transformer, input string
		want                     []string
	}{
		{"yield then return", "json", `{"0":{"n":2}}`, append(append([]string{head}, open...),
			`[2,1,[[{"id":0,"at":"1970-01-01T00:00:00.001Z","tags":[]}]]]`,
			`[2,1,[[{"id":1,"at":"1970-01-01T00:00:00.001Z","tags":[]}]]]`,
			`[2,0,[[]]]`)},
		{"error chunk", "json", `{"0":{"n":1,"fail":true}}`, append(append([]string{head}, open...),
			`[2,1,[[{"id":0,"at":"1970-01-01T00:00:00.001Z","tags":[]}]]]`,
			`[2,2,{"message":"Counting failed","code":-32009,"data":{"code":"CONFLICT","httpStatus":409,"path":"count","zodError":null}}]`)},
		{"superjson yield then return", "superjson", `{"0":{"json":{"n":1}}}`, []string{`{"json":` + head + `}`,
			`{"json":` + open[0] + `}`, `{"json":` + open[1] + `}`,
			`{"json":[2,1,[[{"id":0,"at":"1970-01-01T00:00:00.001Z","tags":[]}]]],"meta":{"v":1,"values":{"2.0.0.at":["Date"]}}}`,
			`{"json":[2,0,[[]]]}`}},
		{"superjson error chunk", "superjson", `{"0":{"json":{"n":0,"fail":true}}}`, []string{`{"json":` + head + `}`,
			`{"json":` + open[0] + `}`, `{"json":` + open[1] + `}`,
			`{"json":[2,2,{"message":"Counting failed","code":-32009,"data":{"code":"CONFLICT","httpStatus":409,"path":"count","zodError":null}}]}`}},
		{"an invalid input fails the promise", "json", `{"0":{"n":-1}}`, []string{head,
			`[0,0,[[{"error":{"message":"invalid input: n: must not be negative","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"count","fieldErrors":{"n":"must not be negative"},"zodError":{"formErrors":[],"fieldErrors":{"n":["must not be negative"]}}}}}]]]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := streamRouter(t, Config{Transformer: Transformer(tt.transformer)})
			res := b.do(t, "GET", "/trpc/count?batch=1&input="+url.QueryEscape(tt.input), "", "", "trpc-accept", "application/jsonl")
			lines := strings.Split(strings.TrimSuffix(res.body, "\n"), "\n")
			if res.status != 200 || strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %d\n%s\nwant\n%s", res.status, strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestStreamInBatchWithQuery batches a streaming query with a plain query over JSONL:
// each answers its own promise, and the stream's chunk ids do not collide with the
// calls'.
func TestStreamInBatchWithQuery(t *testing.T) {
	t.Parallel()
	b := streamRouter(t, Config{})
	res := b.do(t, "GET", "/trpc/count,item.get?batch=1&input="+url.QueryEscape(`{"0":{"n":1},"1":{"id":1}}`), "", "", "trpc-accept", "application/jsonl")
	want := map[string]bool{
		`{"0":[[0],[null,0,0]],"1":[[0],[null,0,1]]}`:                  true,
		`[0,0,[[{"result":0}],["result",0,2]]]`:                        true,
		`[2,0,[[{"data":0}],["data",1,3]]]`:                            true,
		`[3,1,[[{"id":0,"at":"1970-01-01T00:00:00.001Z","tags":[]}]]]`: true,
		`[3,0,[[]]]`: true,
		`[1,0,[[{"result":{"data":{"id":1,"at":"2024-01-01T00:00:00Z","tags":[]}}}]]]`: true,
	}
	lines := strings.Split(strings.TrimSuffix(res.body, "\n"), "\n")
	for _, l := range lines {
		if !want[l] {
			t.Errorf("unexpected line %s", l)
		}
		delete(want, l)
	}
	if len(want) > 0 {
		t.Errorf("missing lines %v in\n%s", want, res.body)
	}
}

// TestStreamOverPlainHTTP calls a streaming query with httpLink and httpBatchLink: as
// the reference answers a query returning an iterable without JSONL, the call fails
// with UNSUPPORTED_MEDIA_TYPE (after its input is validated) and nothing runs.
func TestStreamOverPlainHTTP(t *testing.T) {
	t.Parallel()
	b := streamRouter(t, Config{})
	unsupported := `{"error":{"message":"Cannot use stream-like response in non-streaming request - use httpBatchStreamLink","code":-32015,"data":{"code":"UNSUPPORTED_MEDIA_TYPE","httpStatus":415,"path":"count","zodError":null}}}`
	if res := b.do(t, "GET", "/trpc/count?input="+url.QueryEscape(`{"n":1}`), "", ""); res.status != 415 || res.body != unsupported {
		t.Errorf("httpLink: got %d %s", res.status, res.body)
	}
	if res := b.do(t, "GET", "/trpc/count?batch=1&input="+url.QueryEscape(`{"0":{"n":1}}`), "", ""); res.status != 415 || res.body != "["+unsupported+"]" {
		t.Errorf("httpBatchLink: got %d %s", res.status, res.body)
	}
	if res := b.do(t, "GET", "/trpc/count?input="+url.QueryEscape(`{"n":-1}`), "", ""); res.status != 400 || !strings.Contains(res.body, `"BAD_REQUEST"`) {
		t.Errorf("invalid input: got %d %s", res.status, res.body)
	}
	if res := b.do(t, "POST", "/trpc/count", "application/json", `{"n":1}`); res.status != 405 {
		t.Errorf("POST without override: got %d %s", res.status, res.body)
	}
}

// TestStreamAsSubscription subscribes to a streaming query with httpSubscriptionLink
// (an event stream of untracked events, then return) and wsLink (started, data,
// stopped; an error ends it as a subscription's would).
func TestStreamAsSubscription(t *testing.T) {
	t.Parallel()
	b := streamRouter(t, Config{SSEReconnectAfterInactivity: -1})
	res := b.do(t, "GET", "/trpc/count?input="+url.QueryEscape(`{"n":2}`), "", "", "Accept", "text/event-stream")
	want := "event: connected\ndata: {}\n\n" +
		`data: {"id":0,"at":"1970-01-01T00:00:00.001Z","tags":[]}` + "\n\n" +
		`data: {"id":1,"at":"1970-01-01T00:00:00.001Z","tags":[]}` + "\n\n" +
		"event: return\ndata: \n\n"
	if res.status != 200 || res.body != want {
		t.Errorf("SSE: got %d\n%s\nwant\n%s", res.status, res.body, want)
	}

	_, send, read := dialWS(t, b.router, "")
	send(`{"id":1,"method":"subscription","params":{"path":"count","input":{"n":1}}}`)
	for _, w := range []string{
		`{"id":1,"result":{"type":"started"}}`,
		`{"id":1,"result":{"type":"data","data":{"id":0,"at":"1970-01-01T00:00:00.001Z","tags":[]}}}`,
		`{"id":1,"result":{"type":"stopped"}}`,
	} {
		if got := read(); got != w {
			t.Errorf("ws: got %s, want %s", got, w)
		}
	}
	send(`{"id":2,"method":"subscription","params":{"path":"count","input":{"n":0,"fail":true}}}`)
	read() // started
	if got := read(); !strings.Contains(got, `"id":2,"error"`) || !strings.Contains(got, `"CONFLICT"`) {
		t.Errorf("ws error: got %s", got)
	}
	if got := read(); got != `{"id":2,"result":{"type":"stopped"}}` {
		t.Errorf("ws after the error: got %s", got)
	}
	send(`{"id":3,"method":"query","params":{"path":"count","input":{"n":1}}}`)
	if got := read(); got != `{"id":3,"error":{"message":"Cannot return an async iterable from a query procedure with WebSockets: subscribe to it","code":-32015,"data":{"code":"UNSUPPORTED_MEDIA_TYPE","httpStatus":415,"path":"count","zodError":null}}}` {
		t.Errorf("ws query: got %s", got)
	}
}

// TestStreamStopsWhenClientLeaves reads the first value of an endless stream over
// JSONL, then hangs up: the generator's yield fails and it returns.
func TestStreamStopsWhenClientLeaves(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{})
	stopped := make(chan error, 1)
	Stream(r, "forever", func(ctx context.Context, in Void, yield func(int) error) error {
		for i := 0; ; i++ {
			if err := yield(i); err != nil {
				stopped <- err
				return err
			}
			if i > 0 {
				<-ctx.Done() // block after the second value until the client is gone
			}
		}
	})
	srv := httptest.NewServer(r.HTTPHandler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reqCtx, hangUp := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(reqCtx, "GET", srv.URL+"/trpc/forever?batch=1", nil)
	req.Header.Set("trpc-accept", "application/jsonl")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for range 4 { // head, result, data, first value
		if !lines.Scan() {
			t.Fatalf("stream ended early: %v", lines.Err())
		}
	}
	if got := lines.Text(); got != `[2,1,[[0]]]` {
		t.Fatalf("first value: %s", got)
	}
	hangUp()
	select {
	case err := <-stopped:
		if err == nil {
			t.Error("yield succeeded after the client left")
		}
	case <-ctx.Done():
		t.Fatal("the generator still runs after the client left")
	}
}

// TestStreamEndsOnShutdown drains the router while a JSONL stream is open: the
// iterable ends with SERVICE_UNAVAILABLE rather than a return, and Shutdown waits
// for it.
func TestStreamEndsOnShutdown(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{})
	Stream(r, "forever", func(ctx context.Context, in Void, yield func(int) error) error {
		if err := yield(0); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
	srv := httptest.NewServer(r.HTTPHandler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/trpc/forever?batch=1", nil)
	req.Header.Set("trpc-accept", "application/jsonl")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for range 4 {
		if !lines.Scan() {
			t.Fatalf("stream ended early: %v", lines.Err())
		}
	}
	if err := r.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), `[2,2,{"message":"Server is shutting down: retry","code":-32603`) {
		t.Errorf("after shutdown: %q", lines.Text())
	}
}

// TestStreamTypeScript checks how a streaming query is typed: a query returning an
// AsyncIterable in AppRouter (for-await over httpBatchStreamLink) and a subscription
// in AppStreamRouter (.subscribe over wsLink and httpSubscriptionLink).
func TestStreamTypeScript(t *testing.T) {
	t.Parallel()
	b := streamRouter(t, Config{Transformer: TransformerSuperJSON})
	var out strings.Builder
	if err := WriteTypeScript(&out, b.router); err != nil {
		t.Fatal(err)
	}
	ts := out.String()
	router, streams, ok := strings.Cut(ts, "export type AppStreamRouter = ")
	if !ok {
		t.Fatalf("no AppStreamRouter in\n%s", ts)
	}
	for _, w := range []struct{ in, want string }{
		{router, "count: TRPCQueryProcedure<{ input: countInput; output: AsyncIterable<item, void, any>; meta: object }>;"},
		{streams, "count: TRPCSubscriptionProcedure<{ input: countInput; output: AsyncIterable<item, void, any>; meta: object }>;"},
	} {
		if !strings.Contains(w.in, w.want) {
			t.Errorf("missing %s in\n%s", w.want, ts)
		}
	}
	if strings.Contains(streams, "item.get") || strings.Contains(streams, "watch:") {
		t.Errorf("AppStreamRouter holds more than the streaming queries:\n%s", streams)
	}
}

// TestStreamCountsAsConnection opens a JSONL stream while the caller's address and
// user already hold their one connection: the stream is refused with
// TOO_MANY_REQUESTS naming the limit (a JSON body, which httpBatchStreamLink gives to
// every call), and a JSONL batch without a stream is not limited.
func TestStreamCountsAsConnection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   Config
		limit string
	}{
		{"per address", Config{MaxConnsPerIP: 1}, string(LimitConnsPerIP)},
		{"per user", Config{MaxConnsPerUser: 1, SessionFunc: func(context.Context) Session { return Session{User: "alice"} },
			AuthFunc: func(ctx context.Context, _ AuthRequest) (context.Context, error) { return ctx, nil }}, string(LimitConnsPerUser)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var refused []Limit
			tc.cfg.LimitRefusedFunc = func(l Limit) { refused = append(refused, l) }
			r := NewRouter(tc.cfg)
			started := make(chan struct{}, 2)
			Stream(r, "forever", func(ctx context.Context, in Void, yield func(int) error) error {
				started <- struct{}{}
				<-ctx.Done()
				return ctx.Err()
			})
			Query(r, "one", func(ctx context.Context, in Void) (int, error) { return 1, nil })
			srv := httptest.NewServer(r.HTTPHandler())
			t.Cleanup(srv.Close)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			get := func(path string) *http.Response {
				t.Helper()
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/trpc/"+path+"?batch=1", nil)
				req.Header.Set("trpc-accept", "application/jsonl")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { resp.Body.Close() })
				return resp
			}
			get("forever")
			<-started
			resp := get("forever")
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 429 || !strings.Contains(string(body), `"TOO_MANY_REQUESTS"`) || !strings.Contains(string(body), "Too many connections") {
				t.Errorf("second stream: %d %s", resp.StatusCode, body)
			}
			if len(refused) != 1 || string(refused[0]) != tc.limit {
				t.Errorf("refused %v; want %s", refused, tc.limit)
			}
			resp = get("one")
			body, _ = io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.Contains(string(body), `{"result":{"data":1}}`) {
				t.Errorf("a batch without a stream: %d %s", resp.StatusCode, body)
			}
		})
	}
}
