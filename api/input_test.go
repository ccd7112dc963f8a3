package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestBadInputIsExplained(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	b := setup(t, setupOptions{noWorker: true, maxUpload: limit})
	tok := token(t, "vera", "authenticated")
	p := createProject(t, b, tok, map[string]any{"name": "Vase"})
	pid := p.ID.String()
	photo := productPhoto(t, 800, 800)

	expect := func(what string, r trpcResult, code string, contains ...string) {
		t.Helper()
		if r.code() != code {
			t.Errorf("%s: code %q; want %s", what, r.code(), code)
			return
		}
		for _, c := range contains {
			if !strings.Contains(r.Error.Message, c) {
				t.Errorf("%s: message %q does not mention %q", what, r.Error.Message, c)
			}
		}
	}

	// Uploads.
	expect("a text file", b.upload(t, tok, pid, []byte("hello, not a photo")), "BAD_REQUEST", "not a supported image")
	expect("a truncated photo", b.upload(t, tok, pid, photo[:len(photo)/2]), "BAD_REQUEST", "truncated")
	expect("a thumbnail", b.upload(t, tok, pid, productPhoto(t, 300, 300)), "BAD_REQUEST", "too small for amazon", "500 px")
	big := append(bytes.Clone(photo), make([]byte, limit)...) // over the limit, under the body's envelope
	expect("a file over the limit", b.upload(t, tok, pid, big[:limit+1000]), "PAYLOAD_TOO_LARGE")
	expect("a body far over the limit", b.upload(t, tok, pid, append(big, make([]byte, limit)...)), "PAYLOAD_TOO_LARGE")
	expect("no file", b.upload(t, tok, pid, nil), "BAD_REQUEST", "file")
	expect("someone else's project", b.upload(t, token(t, "walt", "authenticated"), pid, photo), "NOT_FOUND")
	var snap struct{ Status string }
	b.query(t, tok, "project.get", map[string]any{"id": pid}).decode(t, &snap)
	if snap.Status != "draft" {
		t.Fatalf("after refused uploads the project is %q; want draft (nothing changed)", snap.Status)
	}
	body, ct := multipartBody(t, nil, big[:limit+1000])
	resp, raw := b.rest(t, tok, http.MethodPost, "/api/projects/"+pid+"/source", body, http.Header{"Content-Type": {ct}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(raw), `"status":413`) {
		t.Errorf("REST upload over the limit: %d %s; want a 413 problem", resp.StatusCode, raw)
	}

	// Generation before a photo, unknown types, and custom images without an AI service.
	expect("a pack without a photo", b.mutate(t, tok, "image.generateCompletePack", map[string]any{"projectId": pid}),
		"PRECONDITION_FAILED", "upload a photo")
	expect("an unknown type", b.mutate(t, tok, "image.generate", map[string]any{"projectId": pid, "type": "banner"}),
		"BAD_REQUEST", "main, lifestyle, infographic, dimensions, detail, custom")
	b.upload(t, tok, pid, photo).decode(t, new(json.RawMessage))
	expect("a custom image with no AI service", b.mutate(t, tok, "image.generate",
		map[string]any{"projectId": pid, "type": "custom", "prompt": "on a beach"}), "PRECONDITION_FAILED", "OPENAI_API_KEY")
	expect("an infographic without features", b.mutate(t, tok, "image.generate",
		map[string]any{"projectId": pid, "type": "infographic"}), "PRECONDITION_FAILED", "features")

	// Project input.
	r := b.mutate(t, tok, "project.create", map[string]any{"name": " ", "marketplace": "ebay",
		"features": []string{"1", "2", "3", "4", "5", "6"}, "dimensions": "about a foot"})
	expect("bad project input", r, "BAD_REQUEST", "amazon, etsy, shopify")
	if r.Error != nil {
		for _, f := range []string{"name", "marketplace", "features", "dimensions"} {
			if r.Error.Data.FieldErrors[f] == "" {
				t.Errorf("bad project input: no field error for %s in %v", f, r.Error.Data.FieldErrors)
			}
		}
	}
	var parsed struct{ Dimensions string }
	b.mutate(t, tok, "project.update", map[string]any{"id": pid, "dimensions": "12x9x10in"}).decode(t, &parsed)
	if parsed.Dimensions != "12x9x10in" {
		t.Errorf("dimensions %q after update; want them as typed", parsed.Dimensions)
	}
	expect("a malformed id", b.query(t, tok, "project.get", map[string]any{"id": "42"}), "BAD_REQUEST", "UUID")
	expect("a wrong type", b.mutate(t, tok, "project.create", map[string]any{"name": 7}), "BAD_REQUEST")
	expect("a bad cursor", b.query(t, tok, "project.list", map[string]any{"cursor": "nope"}), "BAD_REQUEST", "cursor")

	// REST problem JSON for malformed bodies.
	resp, raw = b.rest(t, tok, http.MethodPost, "/api/projects", strings.NewReader(`{"name":`), nil)
	var prob struct {
		Type, Title, Detail string
		Status              int
	}
	_ = json.Unmarshal(raw, &prob)
	if resp.StatusCode != 400 || prob.Status != 400 || prob.Type == "" || prob.Title == "" || prob.Detail == "" {
		t.Errorf("malformed JSON: %d %s; want a 400 problem", resp.StatusCode, raw)
	}
}
