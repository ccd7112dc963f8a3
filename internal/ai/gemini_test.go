package ai_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/ai/aitest"
)

func newGemini(fake *aitest.Gemini, key string, timeout time.Duration) *ai.Gemini {
	return ai.NewGemini(ai.Config{GeminiAPIKey: key, GeminiBaseURL: fake.URL(), Timeout: timeout})
}

func TestGeminiGenerate(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(t)
	res, err := newGemini(fake, fake.Key(), 0).Generate(context.Background(), ai.GenerateRequest{
		Image:  aitest.JPEG(800, 600),
		Prompt: "Place this product on a marble bathroom shelf",
		Aspect: ai.AspectPortrait,
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if w, h := pngSize(t, res.Image); w != 832 || h != 1248 {
		t.Errorf("image size = %dx%d, want 832x1248 for 2:3", w, h)
	}
	if res.Provider != "gemini" || res.Model != "gemini-2.5-flash-image" || res.MIMEType != "image/png" {
		t.Errorf("result = %s %s %s", res.Provider, res.Model, res.MIMEType)
	}
	if res.RequestID == "" {
		t.Error("no request id (responseId)")
	}
	if res.Usage.OutputImageTokens != 1290 || res.Usage.InputImageTokens != 516 || res.Usage.InputTextTokens == 0 {
		t.Errorf("usage = %+v, want 1290 image output tokens and 516 image input tokens (2 tiles)", res.Usage)
	}
	if res.CostUSD < 0.038 || res.CostUSD > 0.041 {
		t.Errorf("cost = $%.4f, want about $0.039", res.CostUSD)
	}
	if res.Text == "" {
		t.Error("the model's text part was dropped")
	}
	c := fake.Calls()[0]
	if c.Invalid != "" || c.Field("aspectRatio") != "2:3" || len(c.Images) != 1 || !strings.Contains(c.Prompt, "marble") {
		t.Errorf("call = %+v, want a valid request with aspect 2:3, one image and the prompt", c)
	}
}

// A proxy or older API version may answer in snake_case; the client reads
// both spellings.
func TestGeminiReadsSnakeCaseAnswers(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(t)
	data := base64.StdEncoding.EncodeToString(aitest.PNG(20, 20))
	fake.Enqueue(aitest.Response{Status: 200, Body: []byte(`{"candidates":[{"content":{"role":"model","parts":[
		{"text":"thinking","thought":true},
		{"inline_data":{"mime_type":"image/png","data":"` + data + `"}}]},"finish_reason":"STOP"}],
		"usage_metadata":{"prompt_token_count":300,"candidates_token_count":1290,"total_token_count":1590},
		"response_id":"snake-id"}`)})
	res, err := newGemini(fake, fake.Key(), 0).Generate(context.Background(),
		ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	decodePNG(t, res.Image)
	if res.RequestID != "snake-id" || res.Usage.OutputImageTokens != 1290 || res.Usage.TotalTokens != 1590 {
		t.Errorf("result = id %q usage %+v", res.RequestID, res.Usage)
	}
	if res.Text != "" {
		t.Errorf("thought part kept as text: %q", res.Text)
	}
}

func TestGeminiErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer aitest.Response
		class  ai.Class
		code   string
		retry  time.Duration
	}{
		{"rate limited", aitest.GeminiRateLimited(22 * time.Second), ai.RateLimited, "RESOURCE_EXHAUSTED", 22 * time.Second},
		{"rate limited, fractional delay", aitest.GeminiRateLimited(1500 * time.Millisecond), ai.RateLimited, "RESOURCE_EXHAUSTED", 1500 * time.Millisecond},
		{"rate limited, delay only in message", aitest.GeminiError(429, "RESOURCE_EXHAUSTED", "Quota exceeded. Please retry in 5.5s."), ai.RateLimited, "RESOURCE_EXHAUSTED", 5500 * time.Millisecond},
		{"model not found", aitest.GeminiError(404, "NOT_FOUND", "models/x is not found"), ai.Permanent, "NOT_FOUND", 0},
		{"prompt blocked (HTTP 200)", aitest.GeminiPromptBlocked("PROHIBITED_CONTENT"), ai.Permanent, "PROHIBITED_CONTENT", 0},
		{"image safety (HTTP 200)", aitest.GeminiImageBlocked("IMAGE_SAFETY"), ai.Permanent, "IMAGE_SAFETY", 0},
		{"image prohibited (HTTP 200)", aitest.GeminiImageBlocked("IMAGE_PROHIBITED_CONTENT"), ai.Permanent, "IMAGE_PROHIBITED_CONTENT", 0},
		{"no image (HTTP 200)", aitest.GeminiImageBlocked("NO_IMAGE"), ai.Permanent, "NO_IMAGE", 0},
		{"text only (HTTP 200)", aitest.GeminiTextOnly("I can't help with that."), ai.Permanent, "NO_IMAGE", 0},
		{"invalid key", aitest.GeminiInvalidKey(), ai.Auth, "API_KEY_INVALID", 0},
		{"permission denied", aitest.GeminiPermissionDenied(), ai.Auth, "PERMISSION_DENIED", 0},
		{"failed precondition", aitest.GeminiFailedPrecondition(), ai.Permanent, "FAILED_PRECONDITION", 0},
		{"internal", aitest.GeminiServerError(http.StatusInternalServerError), ai.Transient, "INTERNAL", 0},
		{"unavailable", aitest.GeminiServerError(http.StatusServiceUnavailable), ai.Transient, "UNAVAILABLE", 0},
		{"deadline exceeded", aitest.GeminiServerError(http.StatusGatewayTimeout), ai.Transient, "DEADLINE_EXCEEDED", 0},
		{"html 502", aitest.HTMLError(http.StatusBadGateway), ai.Transient, "", 0},
		{"connection reset", aitest.ConnectionReset(), ai.Transient, "connection", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := aitest.NewGemini(t)
			fake.Enqueue(tt.answer)
			_, err := newGemini(fake, fake.Key(), 0).Generate(context.Background(),
				ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"})
			e := requireClass(t, err, tt.class)
			if e.Code != tt.code {
				t.Errorf("code = %q, want %q", e.Code, tt.code)
			}
			if tt.retry != 0 && e.RetryAfter != tt.retry {
				t.Errorf("RetryAfter = %s, want %s", e.RetryAfter, tt.retry)
			}
		})
	}
}

func TestGeminiTextOnlyAnswerSaysWhatTheModelSaid(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(t)
	fake.Enqueue(aitest.GeminiTextOnly("I cannot edit images of weapons."))
	_, err := newGemini(fake, fake.Key(), 0).Generate(context.Background(),
		ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"})
	if e := requireClass(t, err, ai.Permanent); !strings.Contains(e.Message, "weapons") {
		t.Errorf("message %q hides the model's explanation", e.Message)
	}
}

func TestGeminiWrongKeyIsAuth(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(t)
	wrong := "AIzaSyWRONG-0123456789abcdefghijklmnop"
	_, err := newGemini(fake, wrong, 0).Generate(context.Background(),
		ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"})
	if e := requireClass(t, err, ai.Auth, wrong); e.Status != http.StatusBadRequest || e.Code != "API_KEY_INVALID" {
		t.Errorf("status %d code %q, want 400 API_KEY_INVALID", e.Status, e.Code)
	}
}

func TestGeminiTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(t)
	fake.Enqueue(aitest.Delayed(time.Minute))
	_, err := newGemini(fake, fake.Key(), 50*time.Millisecond).Generate(context.Background(),
		ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"})
	if e := requireClass(t, err, ai.Transient); e.Code != "timeout" {
		t.Errorf("code = %q, want timeout", e.Code)
	}
}
