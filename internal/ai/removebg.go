package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// RemoveBG removes backgrounds with the remove.bg API (POST
// /v1.0/removebg, multipart image_file, type=product, format=png). It
// implements BackgroundRemover.
type RemoveBG struct {
	t         transport
	baseURL   string
	size      string
	creditUSD float64
}

// NewRemoveBG returns a remove.bg client configured from cfg
// (RemoveBGAPIKey, RemoveBGBaseURL, RemoveBGSize, RemoveBGCreditUSD,
// Timeout, HTTPClient, Logger).
func NewRemoveBG(cfg Config) *RemoveBG {
	return &RemoveBG{
		t:         newTransport(ProviderRemoveBG, cfg.RemoveBGAPIKey, cfg),
		baseURL:   baseURL(cfg.RemoveBGBaseURL, DefaultRemoveBGBaseURL, "/v1.0"),
		size:      orDefault(cfg.RemoveBGSize, "auto"),
		creditUSD: orDefault(cfg.RemoveBGCreditUSD, DefaultRemoveBGCreditUSD),
	}
}

// Name returns "removebg".
func (c *RemoveBG) Name() string { return ProviderRemoveBG }

// RemoveBackground uploads image and returns remove.bg's PNG cut-out.
func (c *RemoveBG) RemoveBackground(ctx context.Context, image []byte) (res *Result, err error) {
	model := "removebg-" + c.size
	started := time.Now()
	defer func() { c.t.log(ctx, model, started, res, err) }()

	imgType := sniffImageType(image)
	if imgType == "" || imgType == "image/gif" {
		return nil, &Error{Class: Permanent, Provider: ProviderRemoveBG, Code: "invalid_file_type",
			Message: "the photo is not a PNG, JPEG or WebP image"}
	}
	body, contentType, err := c.form(image, imgType)
	if err != nil {
		return nil, fmt.Errorf("build remove.bg form: %w", err)
	}
	r, err := c.t.do(ctx, func(ctx context.Context) (*http.Request, error) {
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/v1.0/removebg", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		hr.Header.Set("X-Api-Key", c.t.key)
		hr.Header.Set("Content-Type", contentType)
		hr.Header.Set("Accept", "image/png")
		return hr, nil
	})
	if err != nil {
		return nil, err
	}
	requestID := r.header.Get("X-Request-Id")
	if r.status != http.StatusOK {
		return nil, c.classify(r, requestID)
	}
	if sniffImageType(r.body) != "image/png" {
		return nil, c.t.unparsedError(r, requestID)
	}
	credits, _ := strconv.ParseFloat(r.header.Get("X-Credits-Charged"), 64)
	res = &Result{
		Image:     r.body,
		MIMEType:  "image/png",
		Provider:  ProviderRemoveBG,
		Model:     model,
		RequestID: requestID,
		Usage:     Usage{Credits: credits},
		CostUSD:   credits * c.creditUSD,
	}
	return res, nil
}

func (c *RemoveBG) form(image []byte, imgType string) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range [][2]string{{"size", c.size}, {"type", "product"}, {"format", "png"}} {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	h := make(textproto.MIMEHeader)
	ext := strings.TrimPrefix(imgType, "image/")
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="image_file"; filename="photo.%s"`, ext))
	h.Set("Content-Type", imgType)
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(image); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// removeBGErrorBody is {"errors":[{"title","code","detail"}]}.
type removeBGErrorBody struct {
	Errors []struct {
		Title  string `json:"title"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

// classify turns a remove.bg error answer into an *Error. remove.bg answers
// an invalid key with 403 and exhausted credits with 402; its 5xx bodies
// may be HTML.
func (c *RemoveBG) classify(r *response, requestID string) *Error {
	var body removeBGErrorBody
	if err := json.Unmarshal(r.body, &body); err != nil || len(body.Errors) == 0 {
		return c.t.unparsedError(r, requestID)
	}
	first := body.Errors[0]
	text := first.Title
	if first.Detail != "" {
		text += ": " + first.Detail
	}
	msg := c.t.providerMessage(text)
	e := &Error{Provider: ProviderRemoveBG, Status: r.status, Code: first.Code, RequestID: requestID}
	switch {
	case r.status == http.StatusPaymentRequired:
		e.Class, e.Code = Permanent, orDefault(first.Code, "insufficient_credits")
		e.Message = "the remove.bg account has no credits left: " + msg
	case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden:
		e.Class, e.Message = Auth, "remove.bg rejected the API key: "+msg
	case r.status == http.StatusTooManyRequests:
		e.Class, e.Message = RateLimited, "remove.bg is rate limiting requests: "+msg
		e.RetryAfter = orDefault(removeBGRetryAfter(r.header, time.Now()), DefaultRetryAfter)
	case r.status >= 500 || r.status == http.StatusRequestTimeout:
		e.Class, e.Message = Transient, "remove.bg had a temporary problem: "+msg
	default:
		e.Class, e.Message = Permanent, "remove.bg could not process the photo: "+msg
	}
	return e
}

// removeBGRetryAfter reads Retry-After (seconds), then X-RateLimit-Reset
// (unix seconds).
func removeBGRetryAfter(h http.Header, now time.Time) time.Duration {
	if d := headerRetryAfter(h, now); d > 0 {
		return d
	}
	if reset, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
		if d := time.Unix(reset, 0).Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
