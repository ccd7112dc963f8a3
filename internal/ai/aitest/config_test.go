package aitest_test

import (
	"context"
	"testing"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/ai/aitest"
)

// The fakes' Env and Configure give a working configuration for every
// provider.
func TestEnvAndConfigureReachTheFakes(t *testing.T) {
	t.Parallel()
	openai, gemini, removebg := aitest.NewOpenAI(t), aitest.NewGemini(t), aitest.NewRemoveBG(t)
	env := map[string]string{}
	for _, e := range []map[string]string{openai.Env(), gemini.Env(), removebg.Env()} {
		for k, v := range e {
			env[k] = v
		}
	}
	fromEnv := ai.ConfigFromEnv(func(k string) string { return env[k] })
	var configured ai.Config
	openai.Configure(&configured)
	gemini.Configure(&configured)
	removebg.Configure(&configured)

	for name, cfg := range map[string]ai.Config{"env": fromEnv, "configure": configured} {
		p := ai.NewProviders(cfg)
		if len(p.Names()) != 3 {
			t.Fatalf("%s: providers %v", name, p.Names())
		}
		req := ai.GenerateRequest{Image: aitest.PNG(16, 16), Prompt: "p"}
		for _, g := range []string{"openai", "gemini"} {
			if _, err := p.Generator(g).Generate(context.Background(), req); err != nil {
				t.Errorf("%s: %s: %v", name, g, err)
			}
		}
		if _, err := p.BackgroundRemover().RemoveBackground(context.Background(), aitest.PNG(16, 16)); err != nil {
			t.Errorf("%s: removebg: %v", name, err)
		}
	}
}
