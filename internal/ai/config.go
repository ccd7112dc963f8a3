package ai

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Default base URLs, models and timeout.
const (
	DefaultOpenAIBaseURL   = "https://api.openai.com/v1"
	DefaultGeminiBaseURL   = "https://generativelanguage.googleapis.com"
	DefaultRemoveBGBaseURL = "https://api.remove.bg"
	DefaultOpenAIModel     = "gpt-image-1"
	DefaultGeminiModel     = "gemini-2.5-flash-image"
	DefaultTimeout         = 180 * time.Second
)

// Config configures the clients. A provider whose key is empty is not
// configured. The zero value of every other field means its default.
type Config struct {
	// OpenAIAPIKey is the OpenAI key (OPENAI_API_KEY).
	OpenAIAPIKey string
	// OpenAIBaseURL is the API root including the version, as the OpenAI
	// SDKs use it (OPENAI_BASE_URL). Defaults to "https://api.openai.com/v1".
	OpenAIBaseURL string
	// OpenAIModel is the image model. Defaults to "gpt-image-1".
	OpenAIModel string
	// OpenAIQuality is "low", "medium", "high" or "auto". Defaults to "high".
	OpenAIQuality string

	// GeminiAPIKey is the Gemini API key (GEMINI_API_KEY).
	GeminiAPIKey string
	// GeminiBaseURL is the API root without the version, as go-genai uses it
	// (GEMINI_BASE_URL). Defaults to
	// "https://generativelanguage.googleapis.com"; calls go to
	// {base}/v1beta/models/{model}:generateContent. A trailing "/v1beta" is
	// tolerated.
	GeminiBaseURL string
	// GeminiModel is the image model. Defaults to "gemini-2.5-flash-image".
	GeminiModel string

	// RemoveBGAPIKey is the remove.bg key (REMOVEBG_API_KEY).
	RemoveBGAPIKey string
	// RemoveBGBaseURL is the API root without the version
	// (REMOVEBG_BASE_URL). Defaults to "https://api.remove.bg"; calls go to
	// {base}/v1.0/removebg. A trailing "/v1.0" is tolerated.
	RemoveBGBaseURL string
	// RemoveBGSize is the output size: "preview" (0.25 megapixels, 0.25
	// credit), "full" (up to 25 megapixels, 1 credit) or "auto". Defaults to
	// "auto", as the official clients send.
	RemoveBGSize string
	// RemoveBGCreditUSD is what one remove.bg credit costs on your plan, in
	// US dollars, for cost estimates. Defaults to DefaultRemoveBGCreditUSD.
	RemoveBGCreditUSD float64

	// Timeout bounds each call, from sending the request to reading the
	// whole answer. Generation can take minutes. Defaults to 180 s.
	Timeout time.Duration
	// HTTPClient sends the requests. Defaults to a client with no timeout of
	// its own (Timeout applies through the context).
	HTTPClient *http.Client
	// Logger, when set, gets one line per call with the provider, model,
	// status, request id, duration and cost. Keys are never logged.
	Logger *slog.Logger
}

// ConfigFromEnv reads the keys and base URLs from the environment through
// getenv: OPENAI_API_KEY, OPENAI_BASE_URL, GEMINI_API_KEY, GEMINI_BASE_URL,
// REMOVEBG_API_KEY, REMOVEBG_BASE_URL. Everything else keeps its default.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		OpenAIAPIKey:    strings.TrimSpace(getenv("OPENAI_API_KEY")),
		OpenAIBaseURL:   strings.TrimSpace(getenv("OPENAI_BASE_URL")),
		GeminiAPIKey:    strings.TrimSpace(getenv("GEMINI_API_KEY")),
		GeminiBaseURL:   strings.TrimSpace(getenv("GEMINI_BASE_URL")),
		RemoveBGAPIKey:  strings.TrimSpace(getenv("REMOVEBG_API_KEY")),
		RemoveBGBaseURL: strings.TrimSpace(getenv("REMOVEBG_BASE_URL")),
	}
}

// Providers holds a client for every configured provider; a nil field is a
// provider without a key.
type Providers struct {
	OpenAI   *OpenAI
	Gemini   *Gemini
	RemoveBG *RemoveBG
}

// NewProviders returns a client for every provider cfg has a key for.
func NewProviders(cfg Config) Providers {
	var p Providers
	if cfg.OpenAIAPIKey != "" {
		p.OpenAI = NewOpenAI(cfg)
	}
	if cfg.GeminiAPIKey != "" {
		p.Gemini = NewGemini(cfg)
	}
	if cfg.RemoveBGAPIKey != "" {
		p.RemoveBG = NewRemoveBG(cfg)
	}
	return p
}

// Names returns the configured providers' names in preference order
// (openai, gemini, removebg); empty when none is configured.
func (p Providers) Names() []string {
	var names []string
	if p.OpenAI != nil {
		names = append(names, ProviderOpenAI)
	}
	if p.Gemini != nil {
		names = append(names, ProviderGemini)
	}
	if p.RemoveBG != nil {
		names = append(names, ProviderRemoveBG)
	}
	return names
}

// Generator returns the image generator called name ("openai" or
// "gemini"), or with name "" the first configured one (OpenAI, then
// Gemini). It returns nil when that generator is not configured.
func (p Providers) Generator(name string) ImageGenerator {
	switch {
	case (name == "" || name == ProviderOpenAI) && p.OpenAI != nil:
		return p.OpenAI
	case (name == "" || name == ProviderGemini) && p.Gemini != nil:
		return p.Gemini
	}
	return nil
}

// BackgroundRemover returns the remove.bg client, or nil when it is not
// configured (the caller then removes the background locally).
func (p Providers) BackgroundRemover() BackgroundRemover {
	if p.RemoveBG == nil {
		return nil
	}
	return p.RemoveBG
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// baseURL returns v (or def) without a trailing slash and without a
// version path that the client adds itself (trim: "/v1beta", "/v1.0"), so
// both "https://api.remove.bg" and "https://api.remove.bg/v1.0/" work.
func baseURL(v, def, trim string) string {
	u := strings.TrimRight(orDefault(v, def), "/")
	if trim != "" {
		u = strings.TrimSuffix(u, trim)
	}
	return u
}
