package trpc

import (
	"context"
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
