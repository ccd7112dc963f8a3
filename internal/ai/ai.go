package ai

import (
	"context"
	"net/http"
)

// Provider names as they appear in Result.Provider, Error.Provider and
// image metadata.
const (
	ProviderOpenAI   = "openai"
	ProviderGemini   = "gemini"
	ProviderRemoveBG = "removebg"
	// ProviderLocal names images packshot rendered itself (internal/imaging)
	// when no service is configured.
	ProviderLocal = "local"
)

// BackgroundRemover cuts the product out of a photo.
type BackgroundRemover interface {
	// Name returns the provider name, e.g. "removebg".
	Name() string
	// RemoveBackground takes an image (JPEG, PNG or WebP bytes) and returns
	// a PNG with an alpha channel where the background is transparent.
	// Errors are *Error; see Class for what each class means.
	RemoveBackground(ctx context.Context, image []byte) (*Result, error)
}

// ImageGenerator makes a new image from a reference image and a prompt.
type ImageGenerator interface {
	// Name returns the provider name, e.g. "openai" or "gemini".
	Name() string
	// Generate returns one image made from req. Errors are *Error; a safety
	// block is Permanent, a rate limit is RateLimited with RetryAfter set.
	Generate(ctx context.Context, req GenerateRequest) (*Result, error)
}

// Aspect is the shape of a generated image. Providers support a few fixed
// sizes; each client picks the closest one it has.
type Aspect string

// Aspects every generator supports.
const (
	AspectSquare    Aspect = "1:1" // OpenAI 1024x1024, Gemini 1:1
	AspectLandscape Aspect = "3:2" // OpenAI 1536x1024, Gemini 3:2
	AspectPortrait  Aspect = "2:3" // OpenAI 1024x1536, Gemini 2:3
)

// GenerateRequest is one image generation call.
type GenerateRequest struct {
	// Image is the reference image (usually the product cut-out), as PNG,
	// JPEG or WebP bytes. Required.
	Image []byte
	// Prompt tells the model what to make; see Prompt. Required.
	Prompt string
	// Aspect is the output shape. Defaults to AspectSquare.
	Aspect Aspect
}

// Result is one finished call to a provider.
type Result struct {
	// Image is the returned image, decoded from base64 where the API sends
	// it that way.
	Image []byte
	// MIMEType is the image's type, e.g. "image/png".
	MIMEType string
	// Provider is the provider's name, e.g. "openai".
	Provider string
	// Model is the model that made the image; for remove.bg it is
	// "removebg-<size>".
	Model string
	// RequestID is the provider's id for the call (OpenAI x-request-id,
	// Gemini responseId); empty when the provider sends none. Quote it when
	// asking the provider's support about a call.
	RequestID string
	// Usage is what the call consumed, as the provider reported it.
	Usage Usage
	// CostUSD estimates what the call cost in US dollars from Usage and the
	// price table in price.go; 0 when the model is not in the table.
	CostUSD float64
	// Text is any text the model returned next to the image (Gemini), kept
	// for diagnosis.
	Text string
}

// Usage is what one call consumed. Token counts are zero for remove.bg and
// Credits is zero for the generators.
type Usage struct {
	InputTextTokens   int64   // prompt text tokens
	InputImageTokens  int64   // reference image tokens
	OutputTextTokens  int64   // text (and Gemini "thinking") tokens in the answer
	OutputImageTokens int64   // generated image tokens
	TotalTokens       int64   // as reported by the provider
	Credits           float64 // remove.bg credits charged (X-Credits-Charged)
}

// sniffImageType returns the MIME type of an image's bytes, or "" when they
// are not PNG, JPEG, GIF or WebP.
func sniffImageType(b []byte) string {
	switch t := http.DetectContentType(b); t {
	case "image/png", "image/jpeg", "image/webp", "image/gif":
		return t
	}
	return ""
}
