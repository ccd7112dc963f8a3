package ai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// OpenAI generates images with the OpenAI Images API: POST /images/edits
// with the reference image, model gpt-image-1 and input_fidelity=high so the
// product keeps its look. It implements ImageGenerator.
type OpenAI struct {
	t       transport
	baseURL string
	model   string
	quality string
}

// NewOpenAI returns an OpenAI client configured from cfg (OpenAIAPIKey,
// OpenAIBaseURL, OpenAIModel, OpenAIQuality, Timeout, HTTPClient, Logger).
func NewOpenAI(cfg Config) *OpenAI {
	return &OpenAI{
		t:       newTransport(ProviderOpenAI, cfg.OpenAIAPIKey, cfg),
		baseURL: baseURL(cfg.OpenAIBaseURL, DefaultOpenAIBaseURL, ""),
		model:   orDefault(cfg.OpenAIModel, DefaultOpenAIModel),
		quality: orDefault(cfg.OpenAIQuality, "high"),
	}
}

// Name returns "openai".
func (c *OpenAI) Name() string { return ProviderOpenAI }

// Model returns the image model the client asks for.
func (c *OpenAI) Model() string { return c.model }

// openAISizes maps an Aspect to the sizes gpt-image models support.
var openAISizes = map[Aspect]string{
	AspectSquare:    "1024x1024",
	AspectLandscape: "1536x1024",
	AspectPortrait:  "1024x1536",
}

// Generate sends req to /images/edits and returns the PNG the model made.
func (c *OpenAI) Generate(ctx context.Context, req GenerateRequest) (res *Result, err error) {
	started := time.Now()
	defer func() { c.t.log(ctx, c.model, started, res, err) }()

	imgType := sniffImageType(req.Image)
	if imgType == "" || imgType == "image/gif" {
		return nil, &Error{Class: Permanent, Provider: ProviderOpenAI, Code: "invalid_image",
			Message: "the reference image is not a PNG, JPEG or WebP image"}
	}
	if strings.TrimSpace(req.Prompt) == "" {
		return nil, &Error{Class: Permanent, Provider: ProviderOpenAI, Code: "missing_prompt", Message: "the prompt is empty"}
	}
	size := openAISizes[orDefault(req.Aspect, AspectSquare)]
	if size == "" {
		size = "auto"
	}
	body, contentType, err := c.editForm(req, imgType, size)
	if err != nil {
		return nil, fmt.Errorf("build openai form: %w", err)
	}
	r, err := c.t.do(ctx, func(ctx context.Context) (*http.Request, error) {
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/images/edits", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		hr.Header.Set("Authorization", "Bearer "+c.t.key)
		hr.Header.Set("Content-Type", contentType)
		hr.Header.Set("Accept", "application/json")
		return hr, nil
	})
	if err != nil {
		return nil, err
	}
	requestID := r.header.Get("X-Request-Id")
	if r.status != http.StatusOK {
		return nil, c.classify(r, requestID)
	}
	return c.parse(r, requestID)
}

// editForm builds the multipart body: every scalar as a string field, the
// reference as a file part named "image[]" like openai-go sends it.
func (c *OpenAI) editForm(req GenerateRequest, imgType, size string) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields := [][2]string{
		{"model", c.model},
		{"prompt", req.Prompt},
		{"n", "1"},
		{"size", size},
		{"quality", c.quality},
		{"background", "opaque"},
		{"output_format", "png"},
	}
	// input_fidelity is refused by gpt-image-1-mini and dall-e-2.
	if strings.HasPrefix(c.model, "gpt-image") && !strings.Contains(c.model, "mini") {
		fields = append(fields, [2]string{"input_fidelity", "high"})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	h := make(textproto.MIMEHeader)
	ext := strings.TrimPrefix(imgType, "image/")
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="image[]"; filename="reference.%s"`, ext))
	h.Set("Content-Type", imgType)
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(req.Image); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// openAIImagesResponse is ImagesResponse from the OpenAI spec.
type openAIImagesResponse struct {
	Created int64 `json:"created"`
	Data    []struct {
		B64JSON string `json:"b64_json"`
		URL     string `json:"url"`
	} `json:"data"`
	OutputFormat string `json:"output_format"`
	Usage        *struct {
		TotalTokens        int64 `json:"total_tokens"`
		InputTokens        int64 `json:"input_tokens"`
		OutputTokens       int64 `json:"output_tokens"`
		InputTokensDetails struct {
			TextTokens  int64 `json:"text_tokens"`
			ImageTokens int64 `json:"image_tokens"`
		} `json:"input_tokens_details"`
	} `json:"usage"`
}

func (c *OpenAI) parse(r *response, requestID string) (*Result, error) {
	var body openAIImagesResponse
	if err := json.Unmarshal(r.body, &body); err != nil || len(body.Data) == 0 || body.Data[0].B64JSON == "" {
		e := c.t.unparsedError(r, requestID)
		if err == nil {
			e.Message, e.Code = "openai answered without an image", "no_image"
		}
		return nil, e
	}
	img, err := base64.StdEncoding.DecodeString(body.Data[0].B64JSON)
	if err != nil || sniffImageType(img) == "" {
		return nil, &Error{Class: Transient, Provider: ProviderOpenAI, Status: r.status, RequestID: requestID,
			Code: "bad_image", Message: "openai answered with an image that could not be decoded"}
	}
	res := &Result{
		Image:     img,
		MIMEType:  sniffImageType(img),
		Provider:  ProviderOpenAI,
		Model:     c.model,
		RequestID: requestID,
	}
	if u := body.Usage; u != nil {
		res.Usage = Usage{
			InputTextTokens:   u.InputTokensDetails.TextTokens,
			InputImageTokens:  u.InputTokensDetails.ImageTokens,
			OutputImageTokens: u.OutputTokens,
			TotalTokens:       u.TotalTokens,
		}
		// Older answers have no details: count all input as image tokens,
		// the larger share for an edit.
		if res.Usage.InputTextTokens+res.Usage.InputImageTokens == 0 {
			res.Usage.InputImageTokens = u.InputTokens
		}
	}
	res.CostUSD = EstimateCost(c.model, res.Usage)
	return res, nil
}

// openAIErrorBody is ErrorResponse from the OpenAI spec.
type openAIErrorBody struct {
	Error *struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// classify turns an OpenAI error answer into an *Error.
func (c *OpenAI) classify(r *response, requestID string) *Error {
	var body openAIErrorBody
	if err := json.Unmarshal(r.body, &body); err != nil || body.Error == nil {
		return c.t.unparsedError(r, requestID)
	}
	code := ""
	if body.Error.Code != nil {
		code = *body.Error.Code
	}
	msg := c.t.providerMessage(body.Error.Message)
	e := &Error{Provider: ProviderOpenAI, Status: r.status, Code: orDefault(code, body.Error.Type), RequestID: requestID}
	switch {
	case code == "moderation_blocked" || code == "content_policy_violation":
		e.Class = Permanent
		e.Message = "openai's safety system rejected the request; change the prompt or the image: " + msg
	case r.status == http.StatusUnauthorized:
		e.Class, e.Message = Auth, "openai rejected the API key: "+msg
	case r.status == http.StatusForbidden:
		e.Class, e.Message = Auth, "the openai key may not use this model: "+msg
	case code == "insufficient_quota" || body.Error.Type == "insufficient_quota":
		e.Class, e.Message = Permanent, "the openai account has run out of quota: "+msg
	case r.status == http.StatusTooManyRequests:
		e.Class, e.Message = RateLimited, "openai is rate limiting requests: "+msg
		e.RetryAfter = orDefault(openAIRetryAfter(r.header, body.Error.Message, time.Now()), DefaultRetryAfter)
	case r.status == http.StatusRequestTimeout || r.status == http.StatusConflict || r.status >= 500:
		e.Class, e.Message = Transient, "openai had a temporary problem: "+msg
	default:
		e.Class, e.Message = Permanent, "openai refused the request: "+msg
	}
	return e
}

// openAIRetryAfter finds how long OpenAI wants us to wait: Retry-After-Ms,
// Retry-After, the "try again in 12s" of the message, then the reset time
// of whichever x-ratelimit budget (requests or tokens) is exhausted.
func openAIRetryAfter(h http.Header, msg string, now time.Time) time.Duration {
	if d := headerRetryAfter(h, now); d > 0 {
		return d
	}
	if d := messageRetryAfter(msg); d > 0 {
		return d
	}
	var longest time.Duration
	for _, budget := range []string{"requests", "tokens"} {
		if h.Get("X-Ratelimit-Remaining-"+budget) != "0" {
			continue
		}
		if d, err := time.ParseDuration(h.Get("X-Ratelimit-Reset-" + budget)); err == nil && d > longest {
			longest = d
		}
	}
	return longest
}
