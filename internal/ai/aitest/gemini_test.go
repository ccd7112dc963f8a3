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

func geminiURL(f *aitest.Gemini, model string) string {
	return f.URL() + "/v1beta/models/" + model + ":generateContent"
}

func TestGeminiAcceptsCamelAndSnakeCase(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(t)
	data := base64.StdEncoding.EncodeToString(aitest.PNG(16, 16))
	bodies := map[string]string{
		"camel": `{"contents":[{"role":"user","parts":[{"text":"a mug"},{"inlineData":{"mimeType":"image/png","data":"` + data + `"}}]}],
			"generationConfig":{"responseModalities":["TEXT","IMAGE"],"imageConfig":{"aspectRatio":"16:9"}}}`,
		"snake": `{"contents":[{"parts":[{"text":"a mug"},{"inline_data":{"mime_type":"image/png","data":"` + data + `"}}]}],
			"generation_config":{"response_modalities":["IMAGE"],"image_config":{"aspect_ratio":"16:9"}}}`,
	}
	for name, body := range bodies {
		status, h, b := do(t, "POST", geminiURL(fake, "gemini-2.5-flash-image"),
			map[string]string{"x-goog-api-key": fake.Key(), "Content-Type": "application/json"}, strings.NewReader(body))
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: status %d: %s", name, status, b)
		}
		m := decodeJSON(t, b)
		parts, _ := get(m, "candidates", 0, "content", "parts").([]any)
		last := parts[len(parts)-1]
		img, err := base64.StdEncoding.DecodeString(get(last, "inlineData", "data").(string))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(img))
		if err != nil || cfg.Width != 1344 || cfg.Height != 768 {
			t.Errorf("%s: image is %dx%d (%v), want a 1344x768 PNG for 16:9", name, cfg.Width, cfg.Height, err)
		}
		if get(m, "candidates", 0, "finishReason") != "STOP" || get(m, "usageMetadata", "candidatesTokenCount") == nil ||
			get(m, "responseId") == nil {
			t.Errorf("%s: response lacks finishReason, usage or responseId: %s", name, b)
		}
	}
	for _, c := range fake.Calls() {
		if c.Invalid != "" || c.Prompt != "a mug" || len(c.Images) != 1 || c.Field("aspectRatio") != "16:9" {
			t.Errorf("call recorded wrongly: %+v", c)
		}
	}
}

func TestGeminiAcceptsKeyInQuery(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(t)
	status, _, b := do(t, "POST", geminiURL(fake, "gemini-2.5-flash-image")+"?key="+fake.Key(),
		map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{"contents":[{"parts":[{"text":"x"}]}]}`))
	if status != 200 {
		t.Fatalf("status %d: %s", status, b)
	}
}

func TestGeminiRefusesRequestsLikeTheAPI(t *testing.T) {
	t.Parallel()
	ok := `{"contents":[{"parts":[{"text":"x"}]}]}`
	tests := []struct {
		name, model, key, body string
		status                 int
		rpcStatus              string
	}{
		{"no key", "gemini-2.5-flash-image", "-", ok, 403, "PERMISSION_DENIED"},
		{"wrong key", "gemini-2.5-flash-image", "AIzaWrong", ok, 400, "INVALID_ARGUMENT"},
		{"unknown model", "gemini-9-image", "", ok, 404, "NOT_FOUND"},
		{"unknown field", "gemini-2.5-flash-image", "", `{"contents":[{"parts":[{"text":"x","colour":1}]}]}`, 400, "INVALID_ARGUMENT"},
		{"no contents", "gemini-2.5-flash-image", "", `{}`, 400, "INVALID_ARGUMENT"},
		{"bad base64", "gemini-2.5-flash-image", "", `{"contents":[{"parts":[{"inline_data":{"mime_type":"image/png","data":"@@@"}}]}]}`, 400, "INVALID_ARGUMENT"},
		{"bad aspect", "gemini-2.5-flash-image", "", `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"imageConfig":{"aspectRatio":"7:3"}}}`, 400, "INVALID_ARGUMENT"},
		{"bad modality", "gemini-2.5-flash-image", "", `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseModalities":["image"]}}`, 400, "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := aitest.NewGemini(t)
			h := map[string]string{"Content-Type": "application/json"}
			switch tt.key {
			case "":
				h["x-goog-api-key"] = fake.Key()
			case "-":
			default:
				h["x-goog-api-key"] = tt.key
			}
			status, _, b := do(t, "POST", geminiURL(fake, tt.model), h, strings.NewReader(tt.body))
			m := decodeJSON(t, b)
			if status != tt.status || get(m, "error", "status") != tt.rpcStatus || get(m, "error", "code") != float64(tt.status) {
				t.Fatalf("status %d body %s; want %d %s", status, b, tt.status, tt.rpcStatus)
			}
			if tt.name == "wrong key" && get(m, "error", "details", 0, "reason") != "API_KEY_INVALID" {
				t.Errorf("wrong key without API_KEY_INVALID: %s", b)
			}
		})
	}
}

func TestGeminiCannedSafetyBlocksAreHTTP200(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(t)
	fake.Enqueue(aitest.GeminiPromptBlocked("PROHIBITED_CONTENT"), aitest.GeminiImageBlocked("IMAGE_SAFETY"))
	for _, want := range []string{`"blockReason":"PROHIBITED_CONTENT"`, `"finishReason":"IMAGE_SAFETY"`} {
		status, _, b := do(t, "POST", geminiURL(fake, "gemini-2.5-flash-image"),
			map[string]string{"x-goog-api-key": fake.Key(), "Content-Type": "application/json"},
			strings.NewReader(`{"contents":[{"parts":[{"text":"x"}]}]}`))
		if status != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("status %d body %s; want 200 with %s", status, b, want)
		}
	}
}
