package trpc

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

type status string

func (status) TypeScriptType() string { return `"draft" | "ready"` }

type tsBase struct {
	ID string `json:"id"`
}

type tsProject struct {
	tsBase
	Name     string            `json:"name"`
	Status   status            `json:"status"`
	Created  time.Time         `json:"createdAt"`
	Note     *string           `json:"note"`
	Tags     []string          `json:"tags,omitempty"`
	Sizes    map[string]int    `json:"sizes"`
	Children []*tsProject      `json:"children"`
	Raw      []byte            `json:"raw"`
	Count    int64             `json:"count,string"`
	Secret   string            `json:"-"`
	Extra    map[string]any    `json:"extra,omitzero"`
	Labels   Map[string, bool] `json:"labels"`
}

func TestWriteTypeScript(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tf   Transformer
		want []string
	}{
		{TransformerJSON, []string{
			"transformer: false",
			"    get: TRPCQueryProcedure<{ input: tsBase; output: tsProject; meta: object }>;",
			"    watch: TRPCSubscriptionProcedure<{ input: void; output: AsyncIterable<TrackedData<tsProject>, void, any>; meta: object }>;",
			"    list: TRPCSubscriptionProcedure<{ input: void; output: AsyncIterable<string, void, any>; meta: object }>;",
			"    upload: TRPCMutationProcedure<{ input: FormData; output: void; meta: object }>;",
			"export interface tsProject {\n  id: string;\n  name: string;\n  status: \"draft\" | \"ready\";\n  createdAt: string;\n  note: string | null;\n  tags?: string[];\n  sizes: Record<string, number>;\n  children: Array<tsProject | null>;\n  raw: string;\n  count: string;\n  extra?: Record<string, unknown>;\n  labels: Record<string, boolean>;\n}",
		}},
		{TransformerSuperJSON, []string{
			"transformer: true",
			"  createdAt: Date;",
			"  labels: Map<string, boolean>;",
		}},
	} {
		r := NewRouter(Config{Transformer: tc.tf})
		Query(r, "project.get", func(ctx context.Context, in tsBase) (tsProject, error) { return tsProject{}, nil })
		Mutation(r, "project.upload", func(ctx context.Context, in FormData) (Void, error) { return Void{}, nil })
		Subscription(r, "project.list", func(ctx context.Context, in Void, last string, send func(Event[string]) error) error { return nil }, Untracked())
		Subscription(r, "project.watch", func(ctx context.Context, in Void, last string, send func(Event[tsProject]) error) error { return nil })
		var b strings.Builder
		if err := WriteTypeScript(&b, r); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: missing\n%s\nin\n%s", tc.tf, w, b.String())
			}
		}
	}
}

type tsState string

type tsItem struct {
	Kind   string   `json:"kind"`
	Parent *string  `json:"parent"`
	Tags   []string `json:"tags,omitempty"`
	State  tsState  `json:"state"`
}

type tsInfo struct {
	Kind  string `json:"kind"`
	Title string `json:"title"`
}

// Options declare an application's vocabulary and narrow the fields and types
// that carry it; a narrowing of a field no generated type has is an error.
func TestWriteTypeScriptOptions(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{Transformer: TransformerSuperJSON})
	Query(r, "item.get", func(ctx context.Context, in Void) (tsItem, error) { return tsItem{}, nil })
	item := reflect.TypeFor[tsItem]()
	opts := []TypeScriptOption{
		TSEnum("Kind", "kinds", "What an item is.", []string{"box", "bag"}),
		TSEnum("State", "states", "", []string{"open", "shut"}),
		TSType(reflect.TypeFor[tsState](), "State"),
		TSField(item, "kind", "Kind"),
		TSField(item, "parent", "Kind"),
		TSField(item, "tags", "Kind"),
		TSField(reflect.TypeFor[tsInfo](), "kind", "Kind"),
		TSConst("kindInfo", "How to name each kind.", []tsInfo{{"box", "A box"}, {"bag", "A bag"}}),
	}
	var b strings.Builder
	if err := WriteTypeScript(&b, r, opts...); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"/** What an item is. */\nexport type Kind = \"box\" | \"bag\";\n\n/** Every Kind, in the server's order. */\nexport const kinds: readonly Kind[] = [\"box\", \"bag\"];",
		"export type State = \"open\" | \"shut\";",
		"export interface tsItem {\n  kind: Kind;\n  parent: Kind | null;\n  tags?: Kind[];\n  state: State;\n}",
		"/** How to name each kind. */\nexport const kindInfo: ReadonlyArray<tsInfo> = [\n  {\n    \"kind\": \"box\",\n    \"title\": \"A box\"\n  },",
		"export interface tsInfo {\n  kind: Kind;\n  title: string;\n}",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("missing\n%s\nin\n%s", w, b.String())
		}
	}

	for name, bad := range map[string][]TypeScriptOption{
		"unknown field":     {TSField(item, "colour", "Kind")},
		"unreached type":    {TSField(reflect.TypeFor[tsProject](), "name", "Kind")},
		"not a string":      {TSField(reflect.TypeFor[tsProject](), "sizes", "Kind"), TSConst("p", "", tsProject{})},
		"taken name":        {TSEnum("AppRouter", "routers", "", []string{"a"})},
		"twice":             {TSEnum("Kind", "kinds", "", []string{"a"}), TSEnum("Kind", "kinds2", "", []string{"a"})},
		"no values":         {TSEnum("Kind", "kinds", "", nil)},
		"not an identifier": {TSConst("a-b", "", 1)},
	} {
		if err := WriteTypeScript(io.Discard, r, bad...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
