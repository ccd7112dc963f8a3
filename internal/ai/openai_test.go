package ai_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/ai/aitest"
)

func newOpenAI(t *testing.T, fake *aitest.OpenAI, key string, timeout time.Duration) *ai.OpenAI {
	t.Helper()
	return ai.NewOpenAI(ai.Config{OpenAIAPIKey: key, OpenAIBaseURL: fake.URL(), Timeout: timeout})
}

func TestOpenAIGenerate(t *testing.T) {
	t.Parallel()
	fake := aitest.NewOpenAI(t)
	var logs bytes.Buffer
	client := ai.NewOpenAI(ai.Config{
		OpenAIAPIKey:  fake.Key(),
		OpenAIBaseURL: fake.URL() + "/", // a trailing slash is tolerated
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
	})

	res, err := client.Generate(context.Background(), ai.GenerateRequest{
		Image:  aitest.PNG(64, 48),
		Prompt: "A lifestyle photo of this mug on a kitchen counter",
		Aspect: ai.AspectLandscape,
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if w, h := pngSize(t, res.Image); w != 1536 || h != 1024 {
		t.Errorf("image size = %dx%d, want 1536x1024 for a landscape request", w, h)
	}
	if res.MIMEType != "image/png" || res.Provider != "openai" || res.Model != "gpt-image-1" {
		t.Errorf("result = %s %s %s, want image/png openai gpt-image-1", res.MIMEType, res.Provider, res.Model)
	}
	if !strings.HasPrefix(res.RequestID, "req_") {
		t.Errorf("request id = %q, want the x-request-id header", res.RequestID)
	}
	if res.Usage.OutputImageTokens != 6208 || res.Usage.InputImageTokens == 0 || res.Usage.InputTextTokens == 0 {
		t.Errorf("usage = %+v, want 6208 output tokens (high, 1536x1024) and input tokens", res.Usage)
	}
	if res.CostUSD < 0.24 || res.CostUSD > 0.35 {
		t.Errorf("cost = $%.4f, want about $0.25 for a high-quality landscape image", res.CostUSD)
	}
	if !strings.Contains(logs.String(), res.RequestID) || strings.Contains(logs.String(), fake.Key()) {
		t.Errorf("log should name the request id and never the key:\n%s", logs.String())
	}

	calls := fake.Calls()
	if len(calls) != 1 || calls[0].Invalid != "" {
		t.Fatalf("calls = %+v, want one valid request", calls)
	}
	c := calls[0]
	for field, want := range map[string]string{
		"model": "gpt-image-1", "input_fidelity": "high", "size": "1536x1024", "n": "1", "quality": "high",
	} {
		if got := c.Field(field); got != want {
			t.Errorf("sent %s = %q, want %q", field, got, want)
		}
	}
	if len(c.Images) != 1 || !bytes.Equal(c.Images[0], aitest.PNG(64, 48)) {
		t.Errorf("the reference image was not sent intact")
	}
}

func TestOpenAIMiniOmitsInputFidelity(t *testing.T) {
	t.Parallel()
	fake := aitest.NewOpenAI(t)
	client := ai.NewOpenAI(ai.Config{OpenAIAPIKey: fake.Key(), OpenAIBaseURL: fake.URL(), OpenAIModel: "gpt-image-1-mini"})
	if _, err := client.Generate(context.Background(), ai.GenerateRequest{Image: aitest.JPEG(32, 32), Prompt: "p"}); err != nil {
		t.Fatalf("Generate with gpt-image-1-mini: %v", err)
	}
	if _, sent := fake.Calls()[0].Fields["input_fidelity"]; sent {
		t.Error("input_fidelity sent to gpt-image-1-mini, which refuses it")
	}
}

func TestOpenAIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		answer    aitest.Response
		class     ai.Class
		code      string
		retry     time.Duration
		inMessage string
	}{
		{"moderation", aitest.OpenAIModerationBlocked(), ai.Permanent, "moderation_blocked", 0, "safety"},
		{"content policy", aitest.OpenAIContentPolicyViolation(), ai.Permanent, "content_policy_violation", 0, "safety"},
		{"invalid value", aitest.OpenAIInvalidValue(), ai.Permanent, "invalid_value", 0, "Invalid value"},
		{"invalid key", aitest.OpenAIInvalidKey(), ai.Auth, "invalid_api_key", 0, "API key"},
		{"quota", aitest.OpenAIQuotaExceeded(), ai.Permanent, "insufficient_quota", 0, "quota"},
		{"rate limited, time in message and headers", aitest.OpenAIRateLimited(12 * time.Second), ai.RateLimited, "rate_limit_exceeded", 12 * time.Second, "rate limit"},
		{"rate limited, retry-after-ms", aitest.OpenAIRateLimited(12*time.Second).WithHeader("Retry-After-Ms", "1500"), ai.RateLimited, "rate_limit_exceeded", 1500 * time.Millisecond, ""},
		{"rate limited, retry-after", aitest.OpenAIRateLimited(12*time.Second).WithHeader("Retry-After", "7"), ai.RateLimited, "rate_limit_exceeded", 7 * time.Second, ""},
		{"rate limited, no hint at all", aitest.OpenAIError(429, "Too many requests", "requests", "rate_limit_exceeded"), ai.RateLimited, "rate_limit_exceeded", ai.DefaultRetryAfter, ""},
		{"not found", aitest.OpenAIError(404, "The model 'gpt-image-9' does not exist", "invalid_request_error", "model_not_found"), ai.Permanent, "model_not_found", 0, "does not exist"},
		{"server error", aitest.OpenAIServerError(), ai.Transient, "server_error", 0, "temporary"},
		{"overloaded", aitest.OpenAIOverloaded(), ai.Transient, "server_error", 0, "overloaded"},
		{"html 502", aitest.HTMLError(http.StatusBadGateway), ai.Transient, "", 0, "HTML"},
		{"connection reset", aitest.ConnectionReset(), ai.Transient, "connection", 0, "could not reach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := aitest.NewOpenAI(t)
			fake.Enqueue(tt.answer)
			client := newOpenAI(t, fake, fake.Key(), 0)
			_, err := client.Generate(context.Background(), ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"})
			e := requireClass(t, err, tt.class)
			if e.Code != tt.code {
				t.Errorf("code = %q, want %q", e.Code, tt.code)
			}
			if tt.retry != 0 && e.RetryAfter != tt.retry {
				t.Errorf("RetryAfter = %s, want %s", e.RetryAfter, tt.retry)
			}
			if !strings.Contains(e.Message, tt.inMessage) {
				t.Errorf("message %q does not mention %q", e.Message, tt.inMessage)
			}
			if e.Provider != "openai" {
				t.Errorf("provider = %q", e.Provider)
			}
		})
	}
}

func TestOpenAIWrongKeyIsAuthAndNeverShown(t *testing.T) {
	t.Parallel()
	fake := aitest.NewOpenAI(t)
	wrong := "sk-proj-WRONGkey0123456789zyxwvuts"
	_, err := newOpenAI(t, fake, wrong, 0).Generate(context.Background(),
		ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"})
	e := requireClass(t, err, ai.Auth, wrong, wrong[len(wrong)-4:])
	if e.Status != http.StatusUnauthorized || e.RequestID == "" {
		t.Errorf("status %d, request id %q; want 401 with the request id", e.Status, e.RequestID)
	}
}

func TestOpenAITimeoutIsTransient(t *testing.T) {
	t.Parallel()
	fake := aitest.NewOpenAI(t)
	fake.Enqueue(aitest.Delayed(time.Minute))
	_, err := newOpenAI(t, fake, fake.Key(), 50*time.Millisecond).Generate(context.Background(),
		ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"})
	if e := requireClass(t, err, ai.Transient); e.Code != "timeout" {
		t.Errorf("code = %q, want timeout", e.Code)
	}
}

func TestOpenAICancelledCallUnwrapsToContextError(t *testing.T) {
	t.Parallel()
	fake := aitest.NewOpenAI(t)
	ctx, cancel := context.WithCancel(context.Background())
	fake.Script(func(aitest.Call) aitest.Response {
		cancel() // the job is cancelled while the provider works
		return aitest.Delayed(time.Minute)
	})
	_, err := newOpenAI(t, fake, fake.Key(), 0).Generate(ctx, ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"})
	requireClass(t, err, ai.Transient)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(err, context.Canceled) = false for %v", err)
	}
}

func TestOpenAIRefusesNonImageWithoutCalling(t *testing.T) {
	t.Parallel()
	fake := aitest.NewOpenAI(t)
	_, err := newOpenAI(t, fake, fake.Key(), 0).Generate(context.Background(),
		ai.GenerateRequest{Image: []byte("not an image"), Prompt: "p"})
	requireClass(t, err, ai.Permanent)
	if fake.Count() != 0 {
		t.Errorf("%d requests sent for a non-image", fake.Count())
	}
}

func TestOpenAIRateLimitThenSuccess(t *testing.T) {
	t.Parallel()
	fake := aitest.NewOpenAI(t)
	fake.Enqueue(aitest.OpenAIRateLimited(time.Second))
	client := newOpenAI(t, fake, fake.Key(), 0)
	req := ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"}
	_, err := client.Generate(context.Background(), req)
	requireClass(t, err, ai.RateLimited)
	if _, err := client.Generate(context.Background(), req); err != nil {
		t.Fatalf("second call after the rate limit: %v", err)
	}
}
