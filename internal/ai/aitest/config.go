package aitest

import "github.com/packshot/packshot/internal/ai"

// Env returns the environment variables that point packshot at the fake:
// OPENAI_API_KEY and OPENAI_BASE_URL. Merge it into the getenv of a test
// that runs the whole program.
func (f *OpenAI) Env() map[string]string {
	return map[string]string{"OPENAI_API_KEY": f.Key(), "OPENAI_BASE_URL": f.URL()}
}

// Env returns GEMINI_API_KEY and GEMINI_BASE_URL for the fake.
func (f *Gemini) Env() map[string]string {
	return map[string]string{"GEMINI_API_KEY": f.Key(), "GEMINI_BASE_URL": f.URL()}
}

// Env returns REMOVEBG_API_KEY and REMOVEBG_BASE_URL for the fake.
func (f *RemoveBG) Env() map[string]string {
	return map[string]string{"REMOVEBG_API_KEY": f.Key(), "REMOVEBG_BASE_URL": f.URL()}
}

// Configure points cfg's OpenAI key and base URL at the fake.
func (f *OpenAI) Configure(cfg *ai.Config) {
	cfg.OpenAIAPIKey, cfg.OpenAIBaseURL = f.Key(), f.URL()
}

// Configure points cfg's Gemini key and base URL at the fake.
func (f *Gemini) Configure(cfg *ai.Config) {
	cfg.GeminiAPIKey, cfg.GeminiBaseURL = f.Key(), f.URL()
}

// Configure points cfg's remove.bg key and base URL at the fake.
func (f *RemoveBG) Configure(cfg *ai.Config) {
	cfg.RemoveBGAPIKey, cfg.RemoveBGBaseURL = f.Key(), f.URL()
}
