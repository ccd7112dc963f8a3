package ai_test

import (
	"slices"
	"testing"

	"github.com/packshot/packshot/internal/ai"
)

func TestConfigFromEnvAndProviders(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GEMINI_API_KEY": " g-key ", "REMOVEBG_API_KEY": "r-key", "REMOVEBG_BASE_URL": "http://fake"}
	cfg := ai.ConfigFromEnv(func(k string) string { return env[k] })
	if cfg.GeminiAPIKey != "g-key" || cfg.RemoveBGBaseURL != "http://fake" || cfg.OpenAIAPIKey != "" {
		t.Fatalf("config = %+v", cfg)
	}
	p := ai.NewProviders(cfg)
	if got := p.Names(); !slices.Equal(got, []string{"gemini", "removebg"}) {
		t.Errorf("Names = %v", got)
	}
	if g := p.Generator(""); g == nil || g.Name() != "gemini" {
		t.Errorf("default generator = %v, want gemini", g)
	}
	if g := p.Generator("openai"); g != nil {
		t.Errorf("Generator(openai) = %v, want nil without a key", g)
	}
	if r := p.BackgroundRemover(); r == nil || r.Name() != "removebg" {
		t.Errorf("BackgroundRemover = %v", r)
	}
	if none := ai.NewProviders(ai.Config{}); none.Generator("") != nil || none.BackgroundRemover() != nil || len(none.Names()) != 0 {
		t.Error("providers configured without keys")
	}
}

func TestEstimateCost(t *testing.T) {
	t.Parallel()
	// One high-quality 1024x1024 gpt-image-1 image: 4160 output tokens at $40/M.
	if got := ai.EstimateCost("gpt-image-1", ai.Usage{OutputImageTokens: 4160}); got < 0.1663 || got > 0.1665 {
		t.Errorf("gpt-image-1 cost = %v, want 0.1664", got)
	}
	if got := ai.EstimateCost("unknown-model", ai.Usage{OutputImageTokens: 4160}); got != 0 {
		t.Errorf("unknown model cost = %v, want 0", got)
	}
}
