package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/packshot/packshot/api"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/pack"
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
