package aitest_test

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/ai/aitest"
)

func TestOpenAIAcceptsImageAndImageBrackets(t *testing.T) {
	t.Parallel()
	fake := aitest.NewOpenAI(t)
	for _, field := range []string{"image", "image[]"} {
		body, ct := multipartBody(t,
			part{name: "model", data: []byte("gpt-image-1")},
			part{name: "prompt", data: []byte("a mug on a table")},
			part{name: "input_fidelity", data: []byte("high")},
			part{name: field, filename: "a.png", data: aitest.PNG(32, 32)},
			part{name: field, filename: "b.jpg", data: aitest.JPEG(32, 32)},
		)
		status, h, b := do(t, "POST", fake.URL()+"/images/edits",
			map[string]string{"Authorization": "Bearer " + fake.Key(), "Content-Type": ct}, body)
		if status != 200 {
			t.Fatalf("%s: status %d: %s", field, status, b)
		}
		if !strings.HasPrefix(h.Get("X-Request-Id"), "req_") || h.Get("Openai-Version") == "" {
			t.Errorf("%s: missing OpenAI headers: %v", field, h)
		}
		m := decodeJSON(t, b)
		img, err := base64.StdEncoding.DecodeString(get(m, "data", 0, "b64_json").(string))
		if err != nil {
			t.Fatal(err)
		}
		if cfg, err := png.DecodeConfig(bytes.NewReader(img)); err != nil || cfg.Width != 1024 {
			t.Errorf("%s: b64_json is not a 1024 px PNG: %v", field, err)
		}
		if get(m, "usage", "output_tokens") == nil || get(m, "created") == nil || get(m, "size") != "1024x1024" {
			t.Errorf("%s: response lacks usage, created or a concrete size: %s", field, b)
		}
	}
	calls := fake.Calls()
	if len(calls) != 2 || len(calls[0].Images) != 2 || len(calls[1].Images) != 2 {
		t.Errorf("calls did not record two images each: %+v", calls)
	}
}

func TestOpenAIRefusesRequestsLikeTheAPI(t *testing.T) {
	t.Parallel()
	img := part{name: "image[]", filename: "a.png", data: aitest.PNG(8, 8)}
	prompt := part{name: "prompt", data: []byte("p")}
	model := part{name: "model", data: []byte("gpt-image-1")}
	tests := []struct {
		name   string
		auth   string
		parts  []part
		status int
		code   any
	}{
		{"no key", "", []part{model, prompt, img}, 401, nil},
		{"wrong key", "Bearer sk-wrong-0123456789", []part{model, prompt, img}, 401, "invalid_api_key"},
		{"no prompt", "", []part{model, img}, 400, "missing_required_parameter"},
		{"no image", "", []part{model, prompt}, 400, "missing_required_parameter"},
		{"image as text", "", []part{model, prompt, {name: "image", data: []byte("x")}}, 400, "invalid_type"},
		{"not an image", "", []part{model, prompt, {name: "image", filename: "a.txt", data: []byte("hello")}}, 400, "unsupported_file_mimetype"},
		{"moderation on edits", "", []part{model, prompt, img, {name: "moderation", data: []byte("low")}}, 400, "unknown_parameter"},
		{"bad quality", "", []part{model, prompt, img, {name: "quality", data: []byte("ultra")}}, 400, "invalid_value"},
		{"fidelity on mini", "", []part{{name: "model", data: []byte("gpt-image-1-mini")}, prompt, img, {name: "input_fidelity", data: []byte("high")}}, 400, "invalid_value"},
		{"response_format on gpt-image", "", []part{model, prompt, img, {name: "response_format", data: []byte("b64_json")}}, 400, "unknown_parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := aitest.NewOpenAI(t)
			fake.Enqueue(aitest.OpenAIServerError()) // a refused request must not consume it
			auth := tt.auth
			if auth == "" && tt.name != "no key" {
				auth = "Bearer " + fake.Key()
			}
			body, ct := multipartBody(t, tt.parts...)
			status, _, b := do(t, "POST", fake.URL()+"/images/edits", map[string]string{"Authorization": auth, "Content-Type": ct}, body)
			if status != tt.status || get(decodeJSON(t, b), "error", "code") != tt.code {
				t.Fatalf("status %d body %s; want %d with code %v", status, b, tt.status, tt.code)
			}
			if e := decodeJSON(t, b)["error"].(map[string]any); len(e) != 4 {
				t.Errorf("error object has %d keys, want message, type, param, code", len(e))
			}
			if strings.Contains(string(b), "sk-wrong-0123456789") {
				t.Errorf("the fake echoed the whole key: %s", b)
			}
			if c := fake.Calls()[0]; c.Invalid == "" {
				t.Errorf("call not marked invalid: %+v", c)
			}
			good, ct := multipartBody(t, model, prompt, img)
			if status, _, _ := do(t, "POST", fake.URL()+"/images/edits", map[string]string{"Authorization": "Bearer " + fake.Key(), "Content-Type": ct}, good); status != http.StatusInternalServerError {
				t.Errorf("the scripted answer went to the refused request (next status %d)", status)
			}
		})
	}
}
