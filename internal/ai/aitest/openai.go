package aitest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// OpenAIKey is the key a fake OpenAI accepts.
const OpenAIKey = "sk-proj-aitest0123456789abcdefABCDEF"

// OpenAI is a fake OpenAI Images API serving POST /v1/images/edits
// (multipart, like the real one: file parts "image" or "image[]", every
// scalar as a string field).
type OpenAI struct {
	*fake
}

// NewOpenAI starts a fake OpenAI Images API that accepts OpenAIKey. With a
// non-nil tb it closes when the test ends.
func NewOpenAI(tb testing.TB) *OpenAI {
	return &OpenAI{newFake(tb, OpenAIKey, openAIService{})}
}

// URL returns the base URL to configure a client with, including /v1 as
// OPENAI_BASE_URL does.
func (f *OpenAI) URL() string { return f.srv.URL + "/v1" }

type openAIService struct{}

// openAIEditFields are the fields CreateImageEditRequest defines.
var openAIEditFields = []string{"prompt", "mask", "background", "model", "n", "size", "quality",
	"output_format", "output_compression", "stream", "partial_images", "user", "input_fidelity", "response_format"}

var openAIAllowed = map[string][]string{
	"size":           {"256x256", "512x512", "1024x1024", "1536x1024", "1024x1536", "auto"},
	"quality":        {"standard", "low", "medium", "high", "auto"},
	"background":     {"transparent", "opaque", "auto"},
	"output_format":  {"png", "jpeg", "webp"},
	"input_fidelity": {"high", "low"},
	"model":          {"dall-e-2", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2"},
}

func (openAIService) check(r *http.Request, c *Call) *Response {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/images/edits" {
		return openAIError(c, http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path),
			"invalid_request_error", "", "")
	}
	auth := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || key == "" {
		return openAIError(c, http.StatusUnauthorized, "You didn't provide an API key. You need to provide your API "+
			"key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the "+
			"password field (with blank username) if you're accessing the API from your browser and are prompted "+
			"for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
			"invalid_request_error", "", "")
	}
	if key != OpenAIKey {
		return openAIError(c, http.StatusUnauthorized, "Incorrect API key provided: "+maskKey(key)+". You can "+
			"find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "", "invalid_api_key")
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return openAIError(c, http.StatusBadRequest, fmt.Sprintf("Invalid Content-Type header (%s), expected "+
			"multipart/form-data.", r.Header.Get("Content-Type")), "invalid_request_error", "", "")
	}
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		return openAIError(c, http.StatusBadRequest, "Could not parse multipart form: "+err.Error(),
			"invalid_request_error", "", "")
	}
	form := r.MultipartForm
	defer func() { _ = form.RemoveAll() }()
	for name, vs := range form.Value {
		if name == "image" || name == "image[]" {
			return openAIError(c, http.StatusBadRequest, fmt.Sprintf("Invalid type for '%s': expected a file, "+
				"but got a string instead.", name), "invalid_request_error", name, "invalid_type")
		}
		if !slices.Contains(openAIEditFields, name) {
			return openAIError(c, http.StatusBadRequest, fmt.Sprintf("Unknown parameter: '%s'.", name),
				"invalid_request_error", name, "unknown_parameter")
		}
		c.Fields[name] = vs
	}
	for name := range form.File {
		if name != "image" && name != "image[]" && name != "mask" {
			return openAIError(c, http.StatusBadRequest, fmt.Sprintf("Unknown parameter: '%s'.", name),
				"invalid_request_error", name, "unknown_parameter")
		}
	}
	files := append(form.File["image"], form.File["image[]"]...)
	for _, fh := range files {
		f, err := fh.Open()
		if err != nil {
			return openAIError(c, http.StatusBadRequest, "Could not read file 'image'.", "invalid_request_error", "image", "")
		}
		b, _ := io.ReadAll(f)
		_ = f.Close()
		c.Images = append(c.Images, b)
	}
	c.Prompt = c.Field("prompt")
	return validateOpenAIEdit(c)
}

// validateOpenAIEdit checks the parsed fields the way the API does.
func validateOpenAIEdit(c *Call) *Response {
	bad := func(param, msg, code string) *Response {
		return openAIError(c, http.StatusBadRequest, msg, "invalid_request_error", param, code)
	}
	if len(c.Images) == 0 {
		return bad("image", "Missing required parameter: 'image'.", "missing_required_parameter")
	}
	if c.Prompt == "" {
		return bad("prompt", "Missing required parameter: 'prompt'.", "missing_required_parameter")
	}
	model := c.Field("model")
	if model == "" {
		model = "dall-e-2" // the spec's default
	}
	for name, allowed := range openAIAllowed {
		if v, ok := c.Fields[name]; ok && !slices.Contains(allowed, v[0]) {
			return bad(name, fmt.Sprintf("Invalid value: '%s'. Supported values are: '%s'.", v[0],
				strings.Join(allowed, "', '")), "invalid_value")
		}
	}
	if len(c.Prompt) > 32000 {
		return bad("prompt", "Invalid 'prompt': string too long. Expected a string with maximum length 32000, "+
			fmt.Sprintf("but got a string with length %d instead.", len(c.Prompt)), "string_above_max_length")
	}
	if len(c.Images) > 16 {
		return bad("image", fmt.Sprintf("Invalid 'image': too many images. Expected at most 16, got %d.", len(c.Images)), "invalid_value")
	}
	for _, img := range c.Images {
		switch t := http.DetectContentType(img); {
		case t != "image/png" && t != "image/jpeg" && t != "image/webp":
			return bad("image", fmt.Sprintf("Invalid file 'image': unsupported mimetype ('%s'). Supported file "+
				"formats are 'image/jpeg', 'image/png', and 'image/webp'.", t), "unsupported_file_mimetype")
		case len(img) > 50<<20:
			return bad("image", "Invalid file 'image': file too large, the maximum size is 50 MB.", "invalid_value")
		}
	}
	if n := c.Field("n"); n != "" {
		if v, err := strconv.Atoi(n); err != nil || v < 1 || v > 10 {
			return bad("n", fmt.Sprintf("Invalid 'n': expected an integer between 1 and 10, got '%s'.", n), "invalid_value")
		}
	}
	if _, ok := c.Fields["input_fidelity"]; ok && (model == "dall-e-2" || model == "gpt-image-1-mini") {
		return bad("input_fidelity", fmt.Sprintf("input_fidelity is not supported for model '%s'.", model), "invalid_value")
	}
	if _, ok := c.Fields["response_format"]; ok && model != "dall-e-2" {
		return bad("response_format", "Unknown parameter: 'response_format'.", "unknown_parameter")
	}
	if c.Field("background") == "transparent" && c.Field("output_format") == "jpeg" {
		return bad("background", "Transparent background is not supported for output format 'jpeg'.", "invalid_value")
	}
	return nil
}

// openAIOutputTokens is what gpt-image-1 bills for one output image, by
// quality and size (OpenAI's published token counts).
var openAIOutputTokens = map[string]map[string]int{
	"low":    {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
	"medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
	"high":   {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}

func (openAIService) success(c Call) Response {
	size := c.Field("size")
	if size == "" || size == "auto" {
		size = "1024x1024"
	}
	var w, h int
	_, _ = fmt.Sscanf(size, "%dx%d", &w, &h)
	quality := c.Field("quality")
	if quality == "" || quality == "auto" || quality == "standard" {
		quality = "high"
	}
	format := c.Field("output_format")
	if format == "" {
		format = "png"
	}
	img := PNG(w, h) // webp output is answered as PNG: the standard library cannot encode WebP
	if format == "jpeg" {
		img = JPEG(w, h)
	}
	n, _ := strconv.Atoi(c.Field("n"))
	n = max(n, 1)
	data := make([]map[string]string, n)
	for i := range data {
		data[i] = map[string]string{"b64_json": base64.StdEncoding.EncodeToString(img)}
	}
	textTokens := len(c.Prompt)/4 + 1
	imageTokens := 323 * len(c.Images)
	if c.Field("input_fidelity") == "high" {
		imageTokens = 4160 * len(c.Images)
	}
	out := openAIOutputTokens[quality][size] * n
	body, _ := json.Marshal(map[string]any{
		"created":       time.Now().Unix(),
		"data":          data,
		"background":    orString(c.Field("background"), "opaque"),
		"output_format": format,
		"size":          size,
		"quality":       quality,
		"usage": map[string]any{
			"total_tokens":  textTokens + imageTokens + out,
			"input_tokens":  textTokens + imageTokens,
			"output_tokens": out,
			"input_tokens_details": map[string]int{
				"text_tokens": textTokens, "image_tokens": imageTokens,
			},
		},
	})
	return Response{Status: http.StatusOK, Body: body}
}

func (openAIService) headers(status int) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Request-Id", "req_"+randomHex(16))
	h.Set("Openai-Version", "2020-10-01")
	h.Set("Openai-Organization", "org-aitest")
	h.Set("Openai-Processing-Ms", "8412")
	h.Set("X-Ratelimit-Limit-Requests", "50")
	h.Set("X-Ratelimit-Remaining-Requests", "49")
	h.Set("X-Ratelimit-Reset-Requests", "1.2s")
	h.Set("X-Ratelimit-Limit-Tokens", "100000")
	h.Set("X-Ratelimit-Remaining-Tokens", "95000")
	h.Set("X-Ratelimit-Reset-Tokens", "3s")
	return h
}

// openAIErrorBody is ErrorResponse: every key present, param and code null
// when empty.
func openAIErrorBody(message, typ, param, code string) []byte {
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": message, "type": typ, "param": nullable(param), "code": nullable(code),
	}})
	return b
}

func openAIError(c *Call, status int, message, typ, param, code string) *Response {
	c.Invalid = message
	return &Response{Status: status, Body: openAIErrorBody(message, typ, param, code)}
}

// maskKey shows a key the way OpenAI echoes it: "sk-pr***CDEF".
func maskKey(k string) string {
	if len(k) < 10 {
		return "***"
	}
	return k[:5] + "***" + k[len(k)-4:]
}

func orString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
