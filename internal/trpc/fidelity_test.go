package trpc

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A client whose transformer differs from the server's is told so, in a
// shape it can read (its own transformer's), with the setting to change.
func TestTransformerMismatch(t *testing.T) {
	t.Parallel()
	plain := `{"error":{"message":"Invalid input: expected a superjson envelope {\"json\":…} because this server's transformer is superjson (PACKSHOT_TRPC_TRANSFORMER): pass transformer: superjson to the client's links, or run the server with PACKSHOT_TRPC_TRANSFORMER=json","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"%s","zodError":null}}}`
	wrapped := `{"error":{"json":{"message":"Invalid input: got a superjson envelope {\"json\":…} but this server's transformer is json (PACKSHOT_TRPC_TRANSFORMER): remove transformer: superjson from the client's links, or run the server with PACKSHOT_TRPC_TRANSFORMER=superjson","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"%s","zodError":null}}}}`
	tests := []struct {
		name        string
		transformer Transformer
		method      string
		target      string
		body        string
		want        string
	}{
		{"plain JSON query to a superjson server", TransformerSuperJSON, "GET", "/trpc/item.get?input=" + url.QueryEscape(`{"id":1}`), "", plain},
		{"plain JSON mutation to a superjson server", TransformerSuperJSON, "POST", "/trpc/item.add", `{"name":"a"}`, plain},
		{"plain JSON string to a superjson server", TransformerSuperJSON, "POST", "/trpc/item.add", `"a"`, plain},
		{"superjson query to a JSON server", TransformerJSON, "GET", "/trpc/item.get?input=" + url.QueryEscape(`{"json":{"id":1}}`), "", wrapped},
		{"superjson undefined to a JSON server", TransformerJSON, "POST", "/trpc/item.touch", `{"json":null,"meta":{"values":["undefined"],"v":1}}`, wrapped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{Transformer: tt.transformer})
			ct := ""
			if tt.method == "POST" {
				ct = "application/json"
			}
			res := b.do(t, tt.method, tt.target, ct, tt.body)
			path := strings.TrimPrefix(strings.SplitN(tt.target, "?", 2)[0], "/trpc/")
			want := strings.Replace(tt.want, "%s", path, 1)
			if res.status != 400 || res.body != want {
				t.Errorf("got %d %s\nwant 400 %s", res.status, res.body, want)
			}
			// The server still answers a client that speaks its transformer.
			in := `{"id":1}`
			if tt.transformer == TransformerSuperJSON {
				in = `{"json":{"id":1}}`
			}
			if res := b.do(t, "GET", "/trpc/item.get?input="+url.QueryEscape(in), "", ""); res.status != 200 {
				t.Errorf("then a matching call: %d %s", res.status, res.body)
			}
		})
	}
}

type jsonFieldInput struct {
	JSON string `json:"json"`
}

// On a JSON server an input whose only member is "json" is plain JSON when
// the procedure's input has that field.
func TestTransformerMismatchSparesAJSONField(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{})
	Mutation(r, "echo", func(ctx context.Context, in jsonFieldInput) (string, error) { return in.JSON, nil })
	b := &testBundle{router: r}
	res := b.do(t, "POST", "/trpc/echo", "application/json", `{"json":"x"}`)
	if res.status != 200 || res.body != `{"result":{"data":"x"}}` {
		t.Errorf("got %d %s", res.status, res.body)
	}
}

// Input validation errors carry zod's error.flatten() in data.zodError, as
// create-t3-app's errorFormatter sends them; other errors carry null.
func TestZodError(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{})
	Mutation(r, "fields", func(ctx context.Context, in addInput) (Void, error) {
		return Void{}, FieldErrors{"name": "taken", "address.street": "required", "address.city": "unknown"}
	})
	Mutation(r, "whole", func(ctx context.Context, in []int) (Void, error) { return Void{}, nil })
	b := &testBundle{router: r}
	tests := []struct {
		name, target, body, want string
	}{
		{"procedure field errors, nested fields under their top-level key", "/trpc/fields", `{"name":"a"}`,
			`{"formErrors":[],"fieldErrors":{"address":["unknown","required"],"name":["taken"]}}`},
		{"a wrong input type is a form error", "/trpc/whole", `"x"`,
			`{"formErrors":["Invalid input: expected array, got string"],"fieldErrors":{}}`},
		{"Validate", "/trpc/fields", `{"name":""}`, `{"formErrors":[],"fieldErrors":{"name":["is required"]}}`},
	}
	for _, tt := range tests {
		res := b.do(t, "POST", tt.target, "application/json", tt.body)
		var env struct {
			Error struct {
				Data struct {
					ZodError json.RawMessage `json:"zodError"`
				} `json:"data"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(res.body), &env); err != nil {
			t.Fatalf("%s: %v: %s", tt.name, err, res.body)
		}
		if string(env.Error.Data.ZodError) != tt.want {
			t.Errorf("%s: zodError = %s\nwant %s", tt.name, env.Error.Data.ZodError, tt.want)
		}
	}
	// Another code's field messages stay in data.fieldErrors: T3's
	// errorFormatter sends zodError for BAD_REQUEST only.
	Mutation(r, "conflict", func(ctx context.Context, in addInput) (Void, error) {
		return Void{}, &Error{Code: CodeConflict, Message: "taken", FieldErrors: FieldErrors{"name": "taken"}}
	})
	if res := b.do(t, "POST", "/trpc/conflict", "application/json", `{"name":"a"}`); !strings.Contains(res.body, `"fieldErrors":{"name":"taken"},"zodError":null`) {
		t.Errorf("CONFLICT with fields: %s", res.body)
	}
	// A procedure's own error is not about the input.
	bb := setup(t, Config{})
	res := bb.do(t, "GET", "/trpc/item.get?input="+url.QueryEscape(`{"id":2}`), "", "")
	if !strings.Contains(res.body, `"zodError":null`) {
		t.Errorf("NOT_FOUND: %s", res.body)
	}
}

type refsInput struct {
	X *refsItem  `json:"x"`
	Y *refsItem  `json:"y"`
	Z []refsItem `json:"z"`
}

type refsItem struct {
	At time.Time      `json:"at"`
	M  map[string]int `json:"m"`
}

// superjson's referentialEqualities are honoured: with dedupe the repeated
// values arrive as null and are restored from the first occurrence, with
// their annotations applied.
func TestSuperJSONReferentialEqualities(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{Transformer: TransformerSuperJSON})
	Mutation(r, "refs", func(ctx context.Context, in refsInput) (refsInput, error) { return in, nil })
	b := &testBundle{router: r}
	deduped := `{"json":{"x":{"at":"1970-01-01T00:00:00.000Z","m":[["k",1]]},"y":null,"z":[null]},"meta":{"values":{"x.at":["Date"],"x.m":["map"]},"referentialEqualities":{"x":["y","z.0"]},"v":1}}`
	full := `{"json":{"x":{"at":"1970-01-01T00:00:00.000Z","m":[["k",1]]},"y":{"at":"1970-01-01T00:00:00.000Z","m":[["k",1]]},"z":[{"at":"1970-01-01T00:00:00.000Z","m":[["k",1]]}]},"meta":{"values":{"x.at":["Date"],"x.m":["map"],"y.at":["Date"],"y.m":["map"],"z.0.at":["Date"],"z.0.m":["map"]},"referentialEqualities":{"x":["y","z.0"]},"v":1}}`
	want := `{"result":{"data":{"json":{"x":{"at":"1970-01-01T00:00:00.000Z","m":{"k":1}},"y":{"at":"1970-01-01T00:00:00.000Z","m":{"k":1}},"z":[{"at":"1970-01-01T00:00:00.000Z","m":{"k":1}}]},"meta":{"v":1,"values":{"x.at":["Date"],"y.at":["Date"],"z.0.at":["Date"]}}}}}`
	for name, body := range map[string]string{"dedupe": deduped, "full copies": full} {
		res := b.do(t, "POST", "/trpc/refs", "application/json", body)
		if res.status != 200 || res.body != want {
			t.Errorf("%s: got %d %s\nwant %s", name, res.status, res.body, want)
		}
	}
}

// References that would make the input circular, point nowhere, or blow a
// short input up (each level doubling the last) are refused, each with its
// reason.
func TestSuperJSONReferencesRefused(t *testing.T) {
	t.Parallel()
	var bomb strings.Builder
	var refs []string
	bomb.WriteString(`{"json":{"l0":[1,2,3,4,5,6,7,8]`)
	for i := 1; i <= 40; i++ {
		bomb.WriteString(`,"l` + strconv.Itoa(i) + `":{"a":null,"b":null}`)
		refs = append(refs, `"l`+strconv.Itoa(i-1)+`":["l`+strconv.Itoa(i)+`.a","l`+strconv.Itoa(i)+`.b"]`)
	}
	bomb.WriteString(`},"meta":{"referentialEqualities":{` + strings.Join(refs, ",") + `},"v":1}}`)
	circular := "Invalid input: superjson meta: the input refers to itself, which JSON cannot hold"
	tests := []struct {
		name, in, code, msg string
	}{
		{"self", `{"json":{"x":{"y":null}},"meta":{"referentialEqualities":{"x":["x.y"]}}}`, "BAD_REQUEST", circular},
		{"self, among the targets", `{"json":{"x":{"self":null},"a":{"deep":{"x":null}}},"meta":{"referentialEqualities":{"x":["a.deep.x","a.deep.x.self"]}}}`, "BAD_REQUEST", circular},
		{"root", `{"json":{"y":null},"meta":{"referentialEqualities":[["y"]]}}`, "BAD_REQUEST", circular},
		{"missing path", `{"json":{"x":{}},"meta":{"referentialEqualities":{"x":["q.r"]}}}`, "BAD_REQUEST", `Invalid input: superjson meta: no value at "q"`},
		{"bomb", bomb.String(), "PAYLOAD_TOO_LARGE", "Invalid input: restoring the superjson input's referentialEqualities would add more bytes than the input has (limit superjson_input_expansion)"},
	}
	r := NewRouter(Config{Transformer: TransformerSuperJSON})
	Mutation(r, "any", func(ctx context.Context, in map[string]any) (Void, error) { return Void{}, nil })
	b := &testBundle{router: r}
	for _, tt := range tests {
		res := b.do(t, "POST", "/trpc/any", "application/json", tt.in)
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
		_ = json.Unmarshal([]byte(res.body), &env)
		if env.Error.JSON.Data.Code != tt.code || env.Error.JSON.Message != tt.msg {
			t.Errorf("%s: got %d %s\nwant %s %q", tt.name, res.status, res.body, tt.code, tt.msg)
		}
	}
	if res := b.do(t, "POST", "/trpc/any", "application/json", `{"json":{}}`); res.status != 200 {
		t.Errorf("then: %d %s", res.status, res.body)
	}
}

// Every member errorShape sends is declared where the client reads it:
// message and code by tRPC's default shape; data's members by the default
// (code, httpStatus, path) or in ErrorShape's data block; zodError's in
// ZodFlattenedError.
func TestErrorShapeDeclaresEveryField(t *testing.T) {
	t.Parallel()
	block := func(iface string) string {
		m := regexp.MustCompile(`(?s)export interface ` + iface + `\b[^{]*\{(.*?)\n\}`).FindStringSubmatch(errorShapeTS)
		if m == nil {
			t.Fatalf("no interface %s in errorShapeTS", iface)
		}
		return m[1]
	}
	shapeData := regexp.MustCompile(`(?s)\bdata: [^{]*\{(.*?)\n  \};`).FindStringSubmatch(block("ErrorShape"))
	if shapeData == nil {
		t.Fatal("ErrorShape declares no data block")
	}
	tests := []struct {
		typ       reflect.Type
		inDefault map[string]bool
		declared  string
		where     string
	}{
		{reflect.TypeFor[errorShape](), map[string]bool{"message": true, "code": true, "data": true}, "", "tRPC's default shape"},
		{reflect.TypeFor[errorData](), map[string]bool{"code": true, "httpStatus": true, "path": true}, shapeData[1], "ErrorShape's data"},
		{reflect.TypeFor[flattenedError](), nil, block("ZodFlattenedError"), "ZodFlattenedError"},
	}
	for _, tt := range tests {
		for i := range tt.typ.NumField() {
			name, _, _ := strings.Cut(tt.typ.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" || tt.inDefault[name] {
				continue
			}
			if !regexp.MustCompile(`\n\s+` + name + `\??: `).MatchString(tt.declared) {
				t.Errorf("%s.%s is sent as %q but %s does not declare it", tt.typ.Name(), tt.typ.Field(i).Name, name, tt.where)
			}
		}
	}
}

// httpBatchStreamLink reads each whole line with the client's transformer, so
// a mismatched client is answered entirely in its own: head and every line,
// the mismatch error naming the setting.
func TestTransformerMismatchOverJSONL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		transformer Transformer
		input       string
		head, line  string
	}{
		{"plain JSON client, superjson server", TransformerSuperJSON, `{"0":{"id":1}}`,
			`{"0":[[0],[null,0,0]]}`, `[0,0,[[{"error":{"message":"Invalid input: expected a superjson envelope`},
		{"superjson client, JSON server", TransformerJSON, `{"0":{"json":{"id":1}}}`,
			`{"json":{"0":[[0],[null,0,0]]}}`, `{"json":[0,0,[[{"error":{"message":"Invalid input: got a superjson envelope`},
	}
	for _, tt := range tests {
		b := setup(t, Config{Transformer: tt.transformer})
		res := b.do(t, "GET", "/trpc/item.get?batch=1&input="+url.QueryEscape(tt.input), "", "", "trpc-accept", "application/jsonl")
		lines := strings.Split(strings.TrimSuffix(res.body, "\n"), "\n")
		if len(lines) != 2 || lines[0] != tt.head || !strings.HasPrefix(lines[1], tt.line) || !strings.Contains(lines[1], "PACKSHOT_TRPC_TRANSFORMER") {
			t.Errorf("%s: got %s", tt.name, res.body)
		}
	}
}

// appFieldError stands for an application's error type that carries fields
// (api's apperr.Error).
type appFieldError struct{ field, msg string }

func (e appFieldError) Error() string { return e.field + ": " + e.msg }

type appValidated struct {
	ID string `json:"id"`
}

func (in appValidated) Validate() error {
	if in.ID == "" {
		return appFieldError{"id", "is not a UUID"}
	}
	return nil
}

// A Validate error goes through MapErrorFunc like a procedure's, so an
// application error's fields reach data.zodError.fieldErrors.
func TestValidateErrorIsMapped(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{MapErrorFunc: func(err error) *Error {
		var ae appFieldError
		if errors.As(err, &ae) {
			return &Error{Code: CodeBadRequest, Message: "Invalid id", FieldErrors: map[string]string{ae.field: ae.msg}, Err: err}
		}
		return nil
	}})
	Query(r, "get", func(ctx context.Context, in appValidated) (string, error) { return in.ID, nil })
	b := &testBundle{router: r}
	res := b.do(t, "GET", "/trpc/get?input="+url.QueryEscape(`{"id":""}`), "", "")
	want := `{"error":{"message":"Invalid id","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"get","fieldErrors":{"id":"is not a UUID"},"zodError":{"formErrors":[],"fieldErrors":{"id":["is not a UUID"]}}}}}`
	if res.status != 400 || res.body != want {
		t.Errorf("got %d %s\nwant %s", res.status, res.body, want)
	}
}

// The fallback error shape (sent if an error's own cannot be serialized) is
// what the transformer would have written for an INTERNAL_SERVER_ERROR.
func TestFallbackErrorShape(t *testing.T) {
	t.Parallel()
	for _, tr := range []Transformer{TransformerJSON, TransformerSuperJSON} {
		want, err := tr.serialize((&Error{Code: CodeInternalServerError, Message: "Internal server error"}).shape(""))
		if err != nil {
			t.Fatal(err)
		}
		if got := fallbackErrorShape(tr); string(got) != string(want) {
			t.Errorf("%s: got %s\nwant %s", tr, got, want)
		}
	}
}
