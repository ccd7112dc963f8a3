package trpc

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// refsBundle is a superjson router with a mutation that echoes any input and
// counts limit refusals.
type refsBundle struct {
	*testBundle
	mu      sync.Mutex
	refused map[Limit]int
}

func newRefsBundle(t *testing.T, cfg Config) *refsBundle {
	t.Helper()
	b := &refsBundle{refused: map[Limit]int{}}
	cfg.Transformer = TransformerSuperJSON
	cfg.LimitRefusedFunc = func(l Limit) {
		b.mu.Lock()
		b.refused[l]++
		b.mu.Unlock()
	}
	r := NewRouter(cfg)
	Mutation(r, "echo", func(ctx context.Context, in any) (any, error) { return in, nil })
	b.testBundle = &testBundle{router: r}
	return b
}

// refusalOf returns an error answer's code and message.
func refusalOf(t *testing.T, body string) (code, msg string) {
	t.Helper()
	var env struct {
		Error struct {
			JSON struct {
				Message string `json:"message"`
				Data    struct {
					Code string `json:"code"`
				} `json:"data"`
			} `json:"json"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("%v: %.300s", err, body)
	}
	return env.Error.JSON.Data.Code, env.Error.JSON.Message
}

// referencing builds an input whose first element (first) is referenced by
// n null elements after it.
func referencing(first string, n int) string {
	nulls := strings.Repeat(",null", n)
	targets := make([]string, n)
	for i := range targets {
		targets[i] = strconv.Quote(strconv.Itoa(i + 1))
	}
	return `{"json":[` + first + nulls + `],"meta":{"referentialEqualities":{"0":[` + strings.Join(targets, ",") + `]},"v":1}}`
}

// A short input whose references copy a long string, or an object with a
// long key, hundreds of times would grow hundreds of times over (15 KB to
// 5 MB; a 1 MiB body to about 20 GB). Each copy is charged its bytes: the
// copies may add at most the input's own size, and the input is refused with
// PAYLOAD_TOO_LARGE naming the limit.
func TestSuperJSONReferencesByteBudget(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 10_000)
	for name, first := range map[string]string{
		"long string":                       strconv.Quote(long),
		"long key":                          `{` + strconv.Quote(long) + `:1}`,
		"long string in an object in a Map": `{"m":[["k",` + strconv.Quote(long) + `]]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newRefsBundle(t, Config{})
			body := referencing(first, 500)
			if strings.Contains(name, "Map") {
				body = strings.Replace(body, `"meta":{`, `"meta":{"values":{"0.m":["map"]},`, 1)
			}
			res := b.do(t, "POST", "/trpc/echo", "application/json", body)
			code, msg := refusalOf(t, res.body)
			if res.status != 413 || code != "PAYLOAD_TOO_LARGE" || !strings.Contains(msg, "(limit superjson_input_expansion)") {
				t.Fatalf("got %d %s %q (%d bytes)", res.status, code, msg, len(res.body))
			}
			if b.refused[LimitInputExpansion] != 1 {
				t.Errorf("refusals counted: %v", b.refused)
			}
			// The same value copied once fits: its copy adds less than the
			// input has.
			if res := b.do(t, "POST", "/trpc/echo", "application/json", referencing(first, 1)); res.status != 200 {
				t.Errorf("one copy: %d %.300s", res.status, res.body)
			}
		})
	}
}

// nested returns n arrays nested in each other around inner.
func nested(n int, inner string) string {
	return strings.Repeat("[", n) + inner + strings.Repeat("]", n)
}

// References may not nest an input deeper than MaxInputDepth, counted before
// and after the copies are placed, so nothing that walks the input recurses
// without bound: a 60-level value copied 60 levels down is refused naming the
// limit, and accepted when the limit allows it.
func TestSuperJSONReferencesDepth(t *testing.T) {
	t.Parallel()
	body := `{"json":{"a":` + nested(60, "1") + `,"b":` + nested(60, "null") + `},"meta":{"referentialEqualities":{"a":["b` + strings.Repeat(".0", 60) + `"]},"v":1}}`
	b := newRefsBundle(t, Config{})
	res := b.do(t, "POST", "/trpc/echo", "application/json", body)
	code, msg := refusalOf(t, res.body)
	if res.status != 400 || code != "BAD_REQUEST" || !strings.Contains(msg, "deeper than 100 levels") || !strings.Contains(msg, "(limit superjson_input_depth)") {
		t.Fatalf("got %d %s %q", res.status, code, msg)
	}
	if b.refused[LimitInputDepth] != 1 {
		t.Errorf("refusals counted: %v", b.refused)
	}
	// Already too deep before any copy.
	deep := `{"json":{"a":` + nested(101, "1") + `,"b":null},"meta":{"referentialEqualities":{"a":["b"]},"v":1}}`
	if res := b.do(t, "POST", "/trpc/echo", "application/json", deep); res.status != 400 || !strings.Contains(res.body, "superjson_input_depth") {
		t.Errorf("deep input: %d %.300s", res.status, res.body)
	}
	if res := b.do(t, "POST", "/trpc/echo", "application/json", `{"json":{"a":[1],"b":null},"meta":{"referentialEqualities":{"a":["b"]},"v":1}}`); res.status != 200 {
		t.Errorf("then a shallow input: %d %s", res.status, res.body)
	}
	wide := newRefsBundle(t, Config{MaxInputDepth: 200})
	if res := wide.do(t, "POST", "/trpc/echo", "application/json", body); res.status != 200 {
		t.Errorf("MaxInputDepth 200: %d %.300s", res.status, res.body)
	}
}

type mapRefsInput struct {
	M Map[string, refsValue] `json:"m"`
}

type refsValue struct {
	V int `json:"v"`
}

// superjson's paths into a Map walk its entry list ("m.1.1": row 1, its
// value), so references are restored before the Map becomes an object; with
// and without dedupe, a value repeated in a Map arrives in every row.
func TestSuperJSONReferencesIntoMaps(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{Transformer: TransformerSuperJSON})
	Mutation(r, "map", func(ctx context.Context, in mapRefsInput) (map[string]refsValue, error) { return in.M, nil })
	b := &testBundle{router: r}
	meta := `"meta":{"values":{"m":["map"]},"referentialEqualities":{"m.0.1":["m.1.1"]},"v":1}`
	want := `{"result":{"data":{"json":{"a":{"v":1},"b":{"v":1}}}}}`
	for name, body := range map[string]string{
		"full copies": `{"json":{"m":[["a",{"v":1}],["b",{"v":1}]]},` + meta + `}`,
		"dedupe":      `{"json":{"m":[["a",{"v":1}],["b",null]]},` + meta + `}`,
	} {
		res := b.do(t, "POST", "/trpc/map", "application/json", body)
		if res.status != 200 || res.body != want {
			t.Errorf("%s: got %d %s\nwant %s", name, res.status, res.body, want)
		}
	}
}

// Malformed JSON sent to a superjson server is malformed, not a transformer
// mismatch: the answer says so, in the server's transformer.
func TestSuperJSONMalformedInput(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{Transformer: TransformerSuperJSON})
	want := `{"error":{"json":{"message":"Invalid input: malformed JSON","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"item.add","zodError":null}}}}`
	for _, body := range []string{`{"name":`, `{"json":{"name":"a"}`, `nope`} {
		res := b.do(t, "POST", "/trpc/item.add", "application/json", body)
		if res.status != 400 || res.body != want {
			t.Errorf("%s: got %d %s\nwant %s", body, res.status, res.body, want)
		}
	}
}

// Over WebSocket too, a refused input's answer says why (here, the limit),
// and the socket goes on answering.
func TestSuperJSONReferencesRefusedOverWebSocket(t *testing.T) {
	t.Parallel()
	b := newRefsBundle(t, Config{})
	_, send, read := dialWS(t, b.router, "")
	in := referencing(strconv.Quote(strings.Repeat("x", 1000)), 50)
	send(`{"id":1,"method":"mutation","params":{"path":"echo","input":` + in + `}}`)
	var msg struct {
		Error struct {
			JSON struct {
				Message string `json:"message"`
				Data    struct {
					Code string `json:"code"`
				} `json:"data"`
			} `json:"json"`
		} `json:"error"`
	}
	got := read()
	if err := json.Unmarshal([]byte(got), &msg); err != nil {
		t.Fatal(err)
	}
	want := "Invalid input: restoring the superjson input's referentialEqualities would add more bytes than the input has (limit superjson_input_expansion)"
	if msg.Error.JSON.Data.Code != "PAYLOAD_TOO_LARGE" || msg.Error.JSON.Message != want {
		t.Errorf("got %s", got)
	}
	send(`{"id":2,"method":"mutation","params":{"path":"echo","input":{"json":"ok"}}}`)
	if got := read(); got != `{"id":2,"result":{"type":"data","data":{"json":"ok"}}}` {
		t.Errorf("then: %s", got)
	}
}

// However the references are arranged, restoring them never panics, never
// nests past the limit, and adds at most the input's size (json.Marshal may
// write a character the client sent raw as a six-byte escape, hence 7×).
func FuzzSuperJSONReferences(f *testing.F) {
	f.Add(referencing(strconv.Quote(strings.Repeat("x", 100)), 50))
	f.Add(referencing(`{"k":[1,{"a":"b"}]}`, 3))
	f.Add(`{"json":{"m":[["a",{"v":1}],["b",null]]},"meta":{"values":{"m":["map"]},"referentialEqualities":{"m.0.1":["m.1.1"]},"v":1}}`)
	f.Add(`{"json":{"x":{"self":null},"a":{"deep":{"x":null}}},"meta":{"referentialEqualities":{"x":["a.deep.x","a.deep.x.self"]}}}`)
	f.Add(`{"json":{"a":[[[1]]],"b":[[[null]]]},"meta":{"referentialEqualities":{"a":["b.0.0.0"]},"v":1}}`)
	f.Fuzz(func(t *testing.T, in string) {
		const depth = 20
		out, err := TransformerSuperJSON.deserialize([]byte(in), depth)
		if err != nil || out == nil {
			return
		}
		if len(out) > 7*len(in)+16 {
			t.Fatalf("%d bytes in, %d out", len(in), len(out))
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("invalid output %s: %v", out, err)
		}
		var meta struct {
			Refs json.RawMessage `json:"referentialEqualities"`
		}
		env, _ := envelope(bytes.TrimSpace([]byte(in)))
		_ = json.Unmarshal(env.meta, &meta)
		if len(meta.Refs) > 0 && depthOf(v, depth) > depth {
			t.Fatalf("nests %d deep: %s", depthOf(v, 1000), out)
		}
	})
}
