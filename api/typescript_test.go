package api_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/pgtest"
)

// The generated module carries the server's vocabulary: the web app lists image types
// and marketplaces in the server's order, names every image type, and the wire types'
// status and type fields are the unions, whichever transformer the server runs.
func TestWriteTypeScriptVocabulary(t *testing.T) {
	t.Parallel()
	quoted := func(vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			b, _ := json.Marshal(v)
			out[i] = string(b)
		}
		return out
	}
	for _, tf := range []string{"json", "superjson"} {
		var b strings.Builder
		if err := api.WriteTypeScript(&b, tf); err != nil {
			t.Fatalf("%s: %v", tf, err)
		}
		ts := b.String()
		want := []string{
			"export type ImageType = " + strings.Join(quoted(pack.Types), " | ") + ";",
			"export const imageTypes: readonly ImageType[] = [" + strings.Join(quoted(pack.Types), ", ") + "];",
			"export const marketplaces: readonly Marketplace[] = [" + strings.Join(quoted(imaging.Marketplaces), ", ") + "];",
			`export type SlotStatus = "none" | "pending" | "processing" | "completed" | "failed" | "cancelled";`,
			"export interface ImageSlot {\n  type: ImageType;\n  status: SlotStatus;",
			"export interface Snapshot {\n  id: string;\n  name: string;\n  marketplace: Marketplace;\n  status: ProjectStatus;",
			"export interface StatusStat {\n  status: JobStatus;",
			"  type: ImageType;\n  prompt?: string | null;", // GenerateInput
			`  needs?: "features" | "dimensions";`,
		}
		for _, typ := range pack.Types {
			want = append(want, `"type": "`+typ+`",`+"\n    \"title\": ")
		}
		for _, w := range want {
			if !strings.Contains(ts, w) {
				t.Errorf("%s: missing\n%s", tf, w)
			}
		}
	}
}

// An image type that ImageTypes says needs a product detail is refused, naming it, until
// the project has it; every other type can be made from the photo alone. (Custom images
// need an AI service and are left out.)
func TestImageTypeNeeds(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noWorker: true})
	tok := token(t, "nell", "authenticated")
	pid := createProject(t, b, tok, map[string]any{"name": "Jug"}).ID.String()
	b.upload(t, tok, pid, productPhoto(t, 800, 800)).decode(t, new(json.RawMessage))
	infos, err := api.ImageTypes()
	if err != nil {
		t.Fatal(err)
	}
	generate := func(typ string) trpcResult {
		return b.mutate(t, tok, "image.generate", map[string]any{"projectId": pid, "type": typ})
	}
	for _, info := range infos {
		if info.Type == pack.TypeCustom {
			continue
		}
		r := generate(info.Type)
		switch {
		case info.Needs == "" && r.Error != nil:
			t.Errorf("%s without product details: %s %s; want it made", info.Type, r.code(), r.Error.Message)
		case info.Needs != "" && (r.code() != "PRECONDITION_FAILED" || !strings.Contains(r.Error.Message, info.Needs)):
			t.Errorf("%s without product details: %s; want PRECONDITION_FAILED naming %s", info.Type, r.code(), info.Needs)
		}
	}
	b.mutate(t, tok, "project.update", map[string]any{"id": pid, "features": []string{"Holds 1 l"}, "dimensions": "12 x 20 x 12 cm"}).decode(t, new(json.RawMessage))
	for _, info := range infos {
		if info.Needs == "" {
			continue
		}
		if r := generate(info.Type); r.Error != nil {
			t.Errorf("%s with product details: %s %s; want it made", info.Type, r.code(), r.Error.Message)
		}
	}
}

// The generated unions hold exactly the values the database allows: a status, image type
// or marketplace added to a CHECK constraint but not to the web app's vocabulary (or the
// other way round) fails here.
func TestVocabularyMatchesSchema(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := api.WriteTypeScript(&b, "superjson"); err != nil {
		t.Fatal(err)
	}
	unions := map[string][]string{}
	for _, m := range regexp.MustCompile(`(?m)^export type (\w+) = ("[^;]*");$`).FindAllStringSubmatch(b.String(), -1) {
		for _, lit := range strings.Split(m[2], " | ") {
			var v string
			if err := json.Unmarshal([]byte(lit), &v); err != nil {
				t.Fatalf("%s: %s is not a string literal", m[1], lit)
			}
			unions[m[1]] = append(unions[m[1]], v)
		}
	}
	d := pgtest.New(t)
	valueRE := regexp.MustCompile(`'([^']*)'::text`)
	for _, c := range []struct{ union, table, column string }{
		{"ProjectStatus", "projects", "status"},
		{"Marketplace", "projects", "marketplace"},
		{"JobStatus", "job_queue", "status"},
		{"ImageType", "generated_images", "type"},
	} {
		// pg_get_constraintdef spells `status IN ('a', 'b')` as
		// CHECK ((status = ANY (ARRAY['a'::text, 'b'::text]))).
		var def string
		err := d.Pool.QueryRow(context.Background(), `
			SELECT pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = $1::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%(' || $2 || ' = ANY%'`,
			c.table, c.column).Scan(&def)
		if err != nil {
			t.Fatalf("the CHECK constraint on %s.%s: %v", c.table, c.column, err)
		}
		var allowed []string
		for _, m := range valueRE.FindAllStringSubmatch(def, -1) {
			allowed = append(allowed, m[1])
		}
		got := slices.Sorted(slices.Values(unions[c.union]))
		slices.Sort(allowed)
		if !slices.Equal(got, allowed) {
			t.Errorf("%s is %q; %s.%s allows %q", c.union, got, c.table, c.column, allowed)
		}
	}
}
