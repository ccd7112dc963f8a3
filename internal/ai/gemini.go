package ai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Gemini generates images with Google's Gemini API (generateContent on an
// image model such as gemini-2.5-flash-image), sending the reference image
// as inline_data. It implements ImageGenerator.
type Gemini struct {
	t       transport
	baseURL string
	model   string
}

// NewGemini returns a Gemini client configured from cfg (GeminiAPIKey,
// GeminiBaseURL, GeminiModel, Timeout, HTTPClient, Logger).
func NewGemini(cfg Config) *Gemini {
	return &Gemini{
		t:       newTransport(ProviderGemini, cfg.GeminiAPIKey, cfg),
		baseURL: baseURL(cfg.GeminiBaseURL, DefaultGeminiBaseURL, "/v1beta"),
		model:   orDefault(cfg.GeminiModel, DefaultGeminiModel),
	}
}

// Name returns "gemini".
func (c *Gemini) Name() string { return ProviderGemini }

// Model returns the image model the client asks for.
func (c *Gemini) Model() string { return c.model }

// geminiRequest is the generateContent body. Parts use the snake_case names
// of the REST documentation; the API accepts those and camelCase alike.
type geminiRequest struct {
	Contents         []geminiContent `json:"contents"`
	GenerationConfig struct {
		ResponseModalities []string `json:"responseModalities"`
		ImageConfig        struct {
			AspectRatio string `json:"aspectRatio"`
		} `json:"imageConfig"`
	} `json:"generationConfig"`
}

type geminiContent struct {
	Role  string          `json:"role"`
	Parts []geminiReqPart `json:"parts"`
}

type geminiReqPart struct {
	Text       string `json:"text,omitempty"`
	InlineData *struct {
		MIMEType string `json:"mime_type"`
		Data     string `json:"data"`
	} `json:"inline_data,omitempty"`
}

// Generate sends req to generateContent and returns the first image the
// model answered with.
func (c *Gemini) Generate(ctx context.Context, req GenerateRequest) (res *Result, err error) {
	started := time.Now()
	defer func() { c.t.log(ctx, c.model, started, res, err) }()

	imgType := sniffImageType(req.Image)
	if imgType == "" || imgType == "image/gif" {
		return nil, &Error{Class: Permanent, Provider: ProviderGemini, Code: "invalid_image",
			Message: "the reference image is not a PNG, JPEG or WebP image"}
	}
	if strings.TrimSpace(req.Prompt) == "" {
		return nil, &Error{Class: Permanent, Provider: ProviderGemini, Code: "missing_prompt", Message: "the prompt is empty"}
	}
	var body geminiRequest
	img := geminiReqPart{}
	img.InlineData = &struct {
		MIMEType string `json:"mime_type"`
		Data     string `json:"data"`
	}{imgType, base64.StdEncoding.EncodeToString(req.Image)}
	body.Contents = []geminiContent{{Role: "user", Parts: []geminiReqPart{{Text: req.Prompt}, img}}}
	body.GenerationConfig.ResponseModalities = []string{"TEXT", "IMAGE"}
	body.GenerationConfig.ImageConfig.AspectRatio = string(orDefault(req.Aspect, AspectSquare))
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode gemini request: %w", err)
	}
	endpoint := c.baseURL + "/v1beta/models/" + url.PathEscape(c.model) + ":generateContent"
	r, err := c.t.do(ctx, func(ctx context.Context) (*http.Request, error) {
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		hr.Header.Set("x-goog-api-key", c.t.key)
		hr.Header.Set("Content-Type", "application/json")
		return hr, nil
	})
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusOK {
		return nil, c.classify(r)
	}
	return c.parse(r)
}

// The response types accept camelCase (what the API sends) and snake_case
// (what some proxies and older docs use) for every field.

type geminiResponse struct {
	Candidates          []geminiCandidate `json:"candidates"`
	PromptFeedback      *geminiFeedback   `json:"promptFeedback"`
	PromptFeedbackSnake *geminiFeedback   `json:"prompt_feedback"`
	UsageMetadata       *geminiUsage      `json:"usageMetadata"`
	UsageMetadataSnake  *geminiUsage      `json:"usage_metadata"`
	ModelVersion        string            `json:"modelVersion"`
	ModelVersionSnake   string            `json:"model_version"`
	ResponseID          string            `json:"responseId"`
	ResponseIDSnake     string            `json:"response_id"`
}

type geminiCandidate struct {
	Content *struct {
		Parts []geminiPart `json:"parts"`
	} `json:"content"`
	FinishReason       string `json:"finishReason"`
	FinishReasonSnake  string `json:"finish_reason"`
	FinishMessage      string `json:"finishMessage"`
	FinishMessageSnake string `json:"finish_message"`
}

type geminiPart struct {
	Text            string      `json:"text"`
	Thought         bool        `json:"thought"`
	InlineData      *geminiBlob `json:"inlineData"`
	InlineDataSnake *geminiBlob `json:"inline_data"`
}

type geminiBlob struct {
	MIMEType      string `json:"mimeType"`
	MIMETypeSnake string `json:"mime_type"`
	Data          string `json:"data"`
}

type geminiFeedback struct {
	BlockReason             string `json:"blockReason"`
	BlockReasonSnake        string `json:"block_reason"`
	BlockReasonMessage      string `json:"blockReasonMessage"`
	BlockReasonMessageSnake string `json:"block_reason_message"`
}

type geminiUsage struct {
	PromptTokenCount          int64                 `json:"promptTokenCount"`
	PromptTokenCountSnake     int64                 `json:"prompt_token_count"`
	CandidatesTokenCount      int64                 `json:"candidatesTokenCount"`
	CandidatesTokenCountSnake int64                 `json:"candidates_token_count"`
	ThoughtsTokenCount        int64                 `json:"thoughtsTokenCount"`
	ThoughtsTokenCountSnake   int64                 `json:"thoughts_token_count"`
	TotalTokenCount           int64                 `json:"totalTokenCount"`
	TotalTokenCountSnake      int64                 `json:"total_token_count"`
	PromptDetails             []geminiModalityCount `json:"promptTokensDetails"`
	PromptDetailsSnake        []geminiModalityCount `json:"prompt_tokens_details"`
	CandidatesDetails         []geminiModalityCount `json:"candidatesTokensDetails"`
	CandidatesDetailsSnake    []geminiModalityCount `json:"candidates_tokens_details"`
}

type geminiModalityCount struct {
	Modality        string `json:"modality"`
	TokenCount      int64  `json:"tokenCount"`
	TokenCountSnake int64  `json:"token_count"`
}

// imageFinishReasons are the finish reasons that mean the output was
// withheld; anything but STOP without an image is treated the same way.
var imageFinishReasons = map[string]string{
	"IMAGE_SAFETY":             "the generated image was blocked by gemini's safety filter",
	"IMAGE_PROHIBITED_CONTENT": "the generated image was blocked as prohibited content",
	"IMAGE_RECITATION":         "the generated image was blocked for resembling existing material",
	"SAFETY":                   "the answer was blocked by gemini's safety filter",
	"PROHIBITED_CONTENT":       "the answer was blocked as prohibited content",
	"RECITATION":               "the answer was blocked for resembling existing material",
	"BLOCKLIST":                "the answer was blocked by a blocklist",
	"SPII":                     "the answer was blocked for containing personal information",
}

// parse reads a 200 answer: an image, or one of the HTTP-200 refusals
// (prompt blocked, output blocked, text only), which are Permanent.
func (c *Gemini) parse(r *response) (*Result, error) {
	var body geminiResponse
	if err := json.Unmarshal(r.body, &body); err != nil {
		return nil, c.t.unparsedError(r, "")
	}
	requestID := orDefault(body.ResponseID, body.ResponseIDSnake)
	permanent := func(code, msg string) *Error {
		return &Error{Class: Permanent, Provider: ProviderGemini, Status: r.status, Code: code, RequestID: requestID,
			Message: msg}
	}
	if fb := orDefault(body.PromptFeedback, body.PromptFeedbackSnake); fb != nil {
		if reason := orDefault(fb.BlockReason, fb.BlockReasonSnake); reason != "" {
			msg := "gemini blocked the prompt (" + strings.ToLower(reason) + "); change the prompt or the image"
			if m := orDefault(fb.BlockReasonMessage, fb.BlockReasonMessageSnake); m != "" {
				msg += ": " + c.t.providerMessage(m)
			}
			return nil, permanent(reason, msg)
		}
	}
	res := &Result{Provider: ProviderGemini, Model: c.model, RequestID: requestID}
	var finish, finishMsg string
	var texts []string
	for _, cand := range body.Candidates {
		finish = orDefault(cand.FinishReason, cand.FinishReasonSnake)
		finishMsg = orDefault(cand.FinishMessage, cand.FinishMessageSnake)
		if cand.Content == nil {
			continue
		}
		for _, p := range cand.Content.Parts {
			if p.Thought {
				continue
			}
			if p.Text != "" {
				texts = append(texts, p.Text)
			}
			blob := orDefault(p.InlineData, p.InlineDataSnake)
			if blob == nil || res.Image != nil {
				continue
			}
			img, err := base64.StdEncoding.DecodeString(blob.Data)
			if err != nil || sniffImageType(img) == "" {
				return nil, &Error{Class: Transient, Provider: ProviderGemini, Status: r.status, RequestID: requestID,
					Code: "bad_image", Message: "gemini answered with an image that could not be decoded"}
			}
			res.Image = img
			res.MIMEType = orDefault(sniffImageType(img), orDefault(blob.MIMEType, blob.MIMETypeSnake))
		}
	}
	res.Text = strings.Join(texts, "\n")
	if res.Image == nil {
		code := finish
		if code == "" || code == "STOP" {
			code = "NO_IMAGE"
		}
		msg, ok := imageFinishReasons[finish]
		if !ok {
			msg = "gemini answered without an image"
		}
		if finishMsg != "" {
			msg += ": " + c.t.providerMessage(finishMsg)
		} else if res.Text != "" {
			msg += ": " + c.t.providerMessage(res.Text)
		}
		return nil, permanent(code, msg)
	}
	if u := orDefault(body.UsageMetadata, body.UsageMetadataSnake); u != nil {
		res.Usage = geminiUsageOf(u)
	}
	res.CostUSD = EstimateCost(c.model, res.Usage)
	return res, nil
}

// geminiUsageOf splits Gemini's token counts by modality. Without the
// per-modality details, all output counts as image tokens (what an image
// model mostly produces) and all input as text.
func geminiUsageOf(u *geminiUsage) Usage {
	out := Usage{TotalTokens: orDefault(u.TotalTokenCount, u.TotalTokenCountSnake)}
	prompt := orDefault(u.PromptTokenCount, u.PromptTokenCountSnake)
	cands := orDefault(u.CandidatesTokenCount, u.CandidatesTokenCountSnake)
	thoughts := orDefault(u.ThoughtsTokenCount, u.ThoughtsTokenCountSnake)
	for _, d := range append(u.PromptDetails, u.PromptDetailsSnake...) {
		n := orDefault(d.TokenCount, d.TokenCountSnake)
		if d.Modality == "IMAGE" {
			out.InputImageTokens += n
		} else {
			out.InputTextTokens += n
		}
	}
	if out.InputImageTokens+out.InputTextTokens == 0 {
		out.InputTextTokens = prompt
	}
	for _, d := range append(u.CandidatesDetails, u.CandidatesDetailsSnake...) {
		n := orDefault(d.TokenCount, d.TokenCountSnake)
		if d.Modality == "IMAGE" {
			out.OutputImageTokens += n
		} else {
			out.OutputTextTokens += n
		}
	}
	if out.OutputImageTokens+out.OutputTextTokens == 0 {
		out.OutputImageTokens = cands
	}
	out.OutputTextTokens += thoughts
	return out
}
