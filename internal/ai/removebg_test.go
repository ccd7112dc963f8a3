package ai_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/ai/aitest"
)

func newRemoveBG(fake *aitest.RemoveBG, key string, timeout time.Duration) *ai.RemoveBG {
	return ai.NewRemoveBG(ai.Config{RemoveBGAPIKey: key, RemoveBGBaseURL: fake.URL(), Timeout: timeout})
}

func TestRemoveBGRemoveBackground(t *testing.T) {
	t.Parallel()
	fake := aitest.NewRemoveBG(t)
	res, err := newRemoveBG(fake, fake.Key(), 0).RemoveBackground(context.Background(), aitest.JPEG(400, 300))
	if err != nil {
		t.Fatalf("RemoveBackground: %v", err)
	}
	img := decodePNG(t, res.Image)
	if got := img.Bounds().Size(); got.X != 400 || got.Y != 300 {
		t.Errorf("cut-out size = %v, want the photo's 400x300", got)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("corner alpha = %d, want a transparent background", a)
	}
	if _, _, _, a := img.At(200, 150).RGBA(); a != 0xffff {
		t.Errorf("centre alpha = %d, want an opaque product", a)
	}
	if res.Usage.Credits != 1 || res.CostUSD != ai.DefaultRemoveBGCreditUSD || res.Provider != "removebg" ||
		res.Model != "removebg-auto" || res.MIMEType != "image/png" {
		t.Errorf("result = %+v", res)
	}
	c := fake.Calls()[0]
	if c.Invalid != "" || c.Field("type") != "product" || c.Field("format") != "png" || len(c.Images) != 1 {
		t.Errorf("call = %+v, want a valid multipart request with type=product and format=png", c)
	}
}

func TestRemoveBGPreviewCostsAQuarterCredit(t *testing.T) {
	t.Parallel()
	fake := aitest.NewRemoveBG(t)
	client := ai.NewRemoveBG(ai.Config{RemoveBGAPIKey: fake.Key(), RemoveBGBaseURL: fake.URL() + "/v1.0/",
		RemoveBGSize: "preview", RemoveBGCreditUSD: 0.40})
	res, err := client.RemoveBackground(context.Background(), aitest.PNG(1000, 1000))
	if err != nil {
		t.Fatalf("RemoveBackground: %v", err)
	}
	if res.Usage.Credits != 0.25 || res.CostUSD != 0.10 {
		t.Errorf("credits %v cost %v, want 0.25 credits costing $0.10", res.Usage.Credits, res.CostUSD)
	}
	if w, h := pngSize(t, res.Image); w*h > 250_000 {
		t.Errorf("preview is %dx%d, larger than 0.25 megapixels", w, h)
	}
}

func TestRemoveBGErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer aitest.Response
		class  ai.Class
		code   string
		retry  time.Duration
	}{
		{"rate limited", aitest.RemoveBGRateLimited(32 * time.Second), ai.RateLimited, "", 32 * time.Second},
		{"insufficient credits", aitest.RemoveBGInsufficientCredits(), ai.Permanent, "insufficient_credits", 0},
		{"invalid key", aitest.RemoveBGInvalidKey(), ai.Auth, "auth_failed", 0},
		{"unknown foreground", aitest.RemoveBGUnknownForeground(), ai.Permanent, "unknown_foreground", 0},
		{"json 500", aitest.RemoveBGError(500, "Internal server error", ""), ai.Transient, "", 0},
		{"file too large", aitest.RemoveBGError(400, "File too large", "file_too_large"), ai.Permanent, "file_too_large", 0},
		{"html 502", aitest.HTMLError(http.StatusBadGateway), ai.Transient, "", 0},
		{"html 503", aitest.HTMLError(http.StatusServiceUnavailable), ai.Transient, "", 0},
		{"html page with 200", aitest.HTMLError(http.StatusOK), ai.Transient, "", 0},
		{"connection reset", aitest.ConnectionReset(), ai.Transient, "connection", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := aitest.NewRemoveBG(t)
			fake.Enqueue(tt.answer)
			_, err := newRemoveBG(fake, fake.Key(), 0).RemoveBackground(context.Background(), aitest.PNG(16, 16))
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

func TestRemoveBGWrongKeyIs403Auth(t *testing.T) {
	t.Parallel()
	fake := aitest.NewRemoveBG(t)
	wrong := "WRONGremoveBgKey98765432"
	_, err := newRemoveBG(fake, wrong, 0).RemoveBackground(context.Background(), aitest.PNG(16, 16))
	if e := requireClass(t, err, ai.Auth, wrong); e.Status != http.StatusForbidden {
		t.Errorf("status = %d, want 403", e.Status)
	}
}

func TestRemoveBGTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	fake := aitest.NewRemoveBG(t)
	fake.Enqueue(aitest.Delayed(time.Minute))
	_, err := newRemoveBG(fake, fake.Key(), 50*time.Millisecond).RemoveBackground(context.Background(), aitest.PNG(16, 16))
	if e := requireClass(t, err, ai.Transient); e.Code != "timeout" {
		t.Errorf("code = %q, want timeout", e.Code)
	}
}
