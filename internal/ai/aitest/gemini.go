package aitest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // decode configs of uploaded JPEGs
	_ "image/png"  // decode configs of uploaded PNGs
	"mime"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// GeminiKey is the key a fake Gemini accepts.
const GeminiKey = "AIzaSyA1test-0123456789abcdefghijklmnop"

// Gemini is a fake Gemini API serving
// POST /v1beta/models/{model}:generateContent for the image models. It
// accepts every request field in snake_case and camelCase, as the real API
// does, and refuses unknown ones.
type Gemini struct {
	*fake
}

// NewGemini starts a fake Gemini API that accepts GeminiKey (in the
// x-goog-api-key header or the key query parameter). With a non-nil tb it
// closes when the test ends.
func NewGemini(tb testing.TB) *Gemini {
	return &Gemini{newFake(tb, GeminiKey, geminiService{})}
}

// URL returns the base URL to configure a client with (GEMINI_BASE_URL),
// without the API version, as go-genai uses it.
func (f *Gemini) URL() string { return f.srv.URL }

// GeminiModels are the models the fake serves.
var GeminiModels = []string{"gemini-2.5-flash-image", "gemini-2.5-flash-image-preview",
	"gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview"}

// geminiAspects maps the accepted aspect ratios to the sizes
// gemini-2.5-flash-image answers with.
var geminiAspects = map[string][2]int{
	"1:1": {1024, 1024}, "2:3": {832, 1248}, "3:2": {1248, 832}, "3:4": {864, 1184}, "4:3": {1184, 864},
	"4:5": {896, 1152}, "5:4": {1152, 896}, "9:16": {768, 1344}, "16:9": {1344, 768}, "21:9": {1536, 672},
}

type geminiService struct{}

func (geminiService) check(r *http.Request, c *Call) *Response {
	model, ok := strings.CutPrefix(r.URL.Path, "/v1beta/models/")
	model, ok2 := strings.CutSuffix(model, ":generateContent")
	if r.Method != http.MethodPost || !ok || !ok2 {
		return geminiError(c, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("Requested entity was not found: %s %s",
			r.Method, r.URL.Path), nil)
	}
	c.Fields["model"] = []string{model}
	key := r.Header.Get("X-Goog-Api-Key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	if key == "" {
		return geminiError(c, http.StatusForbidden, "PERMISSION_DENIED", "Method doesn't allow unregistered callers "+
			"(callers without established identity). Please use API Key or other form of API consumer identity "+
			"to call this API.", nil)
	}
	if key != GeminiKey {
		return geminiError(c, http.StatusBadRequest, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
			[]any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
				"domain": "googleapis.com", "metadata": map[string]string{"service": "generativelanguage.googleapis.com"}}})
	}
	if !slices.Contains(GeminiModels, model) {
		return geminiError(c, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("models/%s is not found for API version "+
			"v1beta, or is not supported for generateContent. Call ListModels to see the list of available models "+
			"and their supported methods.", model), nil)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return geminiError(c, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+
			"Content-Type must be application/json.", nil)
	}
	var body map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return geminiError(c, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error(), nil)
	}
	if msg := parseGeminiRequest(body, c); msg != "" {
		return geminiError(c, http.StatusBadRequest, "INVALID_ARGUMENT", msg, nil)
	}
	return nil
}

// geminiFields lists the fields of each object the fake reads, by their
// camelCase name; the snake_case spelling is accepted too.
var geminiFields = map[string][]string{
	"request":          {"contents", "generationConfig", "safetySettings", "systemInstruction", "tools", "toolConfig", "cachedContent"},
	"content":          {"role", "parts"},
	"part":             {"text", "inlineData", "fileData", "thought", "thoughtSignature"},
	"blob":             {"mimeType", "data"},
	"generationConfig": {"responseModalities", "imageConfig", "temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "seed"},
	"imageConfig":      {"aspectRatio", "imageSize"},
}

// field looks a field up by its camelCase name or its snake_case spelling.
func field(m map[string]any, camel string) (any, bool) {
	if v, ok := m[camel]; ok {
		return v, true
	}
	v, ok := m[snake(camel)]
	return v, ok
}

func snake(camel string) string {
	var b strings.Builder
	for _, r := range camel {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unknownField returns the first key of m that kind does not define.
func unknownField(m map[string]any, kind string) string {
	for k := range m {
		known := false
		for _, f := range geminiFields[kind] {
			if k == f || k == snake(f) {
				known = true
			}
		}
		if !known {
			return k
		}
	}
	return ""
}

// parseGeminiRequest checks a generateContent body and fills c; it returns
// the API's error message, or "" when the body is valid.
func parseGeminiRequest(body map[string]any, c *Call) string {
	if k := unknownField(body, "request"); k != "" {
		return fmt.Sprintf("Invalid JSON payload received. Unknown name %q: Cannot find field.", k)
	}
	rawContents, _ := field(body, "contents")
	contents, _ := rawContents.([]any)
	if len(contents) == 0 {
		return "* GenerateContentRequest.contents: contents is not specified"
	}
	var texts []string
	for i, rc := range contents {
		if msg := parseGeminiContent(rc, fmt.Sprintf("contents[%d]", i), &texts, c); msg != "" {
			return msg
		}
	}
	c.Prompt = strings.Join(texts, "\n")
	c.Fields["responseModalities"] = []string{"TEXT", "IMAGE"}
	if rg, ok := field(body, "generationConfig"); ok {
		gc, _ := rg.(map[string]any)
		return parseGeminiGenerationConfig(gc, c)
	}
	return ""
}

// geminiUnknownName is the API's message for a field it does not know, at the
// request's path at.
func geminiUnknownName(name, at string) string {
	return fmt.Sprintf("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", name, at)
}

// parseGeminiContent checks one element of contents (at is its path), adding
// its texts to texts and its images to c.
func parseGeminiContent(rc any, at string, texts *[]string, c *Call) string {
	content, ok := rc.(map[string]any)
	if !ok {
		return fmt.Sprintf("Invalid value at '%s', expected an object.", at)
	}
	if k := unknownField(content, "content"); k != "" {
		return geminiUnknownName(k, at)
	}
	if role, ok := field(content, "role"); ok && role != "user" && role != "model" {
		return fmt.Sprintf("Please use a valid role: user, model. Got %v.", role)
	}
	rawParts, _ := field(content, "parts")
	parts, _ := rawParts.([]any)
	if len(parts) == 0 {
		return fmt.Sprintf("* GenerateContentRequest.%s.parts: contents.parts must not be empty.", at)
	}
	for j, rp := range parts {
		part, _ := rp.(map[string]any)
		pat := fmt.Sprintf("%s.parts[%d]", at, j)
		if k := unknownField(part, "part"); k != "" {
			return geminiUnknownName(k, pat)
		}
		if t, ok := field(part, "text"); ok {
			s, _ := t.(string)
			*texts = append(*texts, s)
		}
		if rb, ok := field(part, "inlineData"); ok {
			blob, _ := rb.(map[string]any)
			img, msg := parseGeminiInlineData(blob, pat)
			if msg != "" {
				return msg
			}
			c.Images = append(c.Images, img)
		}
	}
	return ""
}

// parseGeminiInlineData checks a part's inlineData (pat is the part's path) and
// returns its image.
func parseGeminiInlineData(blob map[string]any, pat string) ([]byte, string) {
	if k := unknownField(blob, "blob"); k != "" {
		return nil, geminiUnknownName(k, pat+".inline_data")
	}
	mt, _ := field(blob, "mimeType")
	if s, _ := mt.(string); s == "" {
		return nil, fmt.Sprintf("* GenerateContentRequest.%s.inline_data.mime_type: required field not set", pat)
	}
	d, _ := field(blob, "data")
	s, _ := d.(string)
	img, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		img, err = base64.URLEncoding.DecodeString(s)
	}
	if err != nil || len(img) == 0 {
		return nil, fmt.Sprintf("Invalid value at '%s.inline_data.data' (TYPE_BYTES), Base64 decoding failed.", pat)
	}
	if t := http.DetectContentType(img); !strings.HasPrefix(t, "image/") {
		return nil, fmt.Sprintf("Unable to process input image. Please retry or report in "+
			"https://developers.generativeai.google/guide/troubleshooting (%s is not an image)", pat)
	}
	return img, ""
}

// parseGeminiGenerationConfig checks generationConfig and fills c's
// responseModalities and aspectRatio from it.
func parseGeminiGenerationConfig(gc map[string]any, c *Call) string {
	if k := unknownField(gc, "generationConfig"); k != "" {
		return geminiUnknownName(k, "generation_config")
	}
	if rm, ok := field(gc, "responseModalities"); ok {
		mods, _ := rm.([]any)
		c.Fields["responseModalities"] = nil
		for _, m := range mods {
			s, _ := m.(string)
			if s != "TEXT" && s != "IMAGE" {
				return fmt.Sprintf("Invalid value at 'generation_config.response_modalities' (type.googleapis.com/"+
					"google.ai.generativelanguage.v1beta.GenerationConfig.Modality), %q", s)
			}
			c.Fields["responseModalities"] = append(c.Fields["responseModalities"], s)
		}
	}
	if ri, ok := field(gc, "imageConfig"); ok {
		ic, _ := ri.(map[string]any)
		if k := unknownField(ic, "imageConfig"); k != "" {
			return geminiUnknownName(k, "generation_config.image_config")
		}
		if ra, ok := field(ic, "aspectRatio"); ok {
			s, _ := ra.(string)
			if _, ok := geminiAspects[s]; !ok {
				return fmt.Sprintf("Unsupported aspect ratio: %s", s)
			}
			c.Fields["aspectRatio"] = []string{s}
		}
	}
	return ""
}

func (geminiService) success(c Call) Response {
	size, ok := geminiAspects[c.Field("aspectRatio")]
	if !ok {
		size = geminiAspects["1:1"]
	}
	text := "Here is the product in the requested setting."
	parts := []any{map[string]any{"text": text}}
	outImage := 0
	if slices.Contains(c.Fields["responseModalities"], "IMAGE") {
		parts = append(parts, map[string]any{"inlineData": map[string]any{
			"mimeType": "image/png", "data": base64.StdEncoding.EncodeToString(PNG(size[0], size[1])),
		}})
		outImage = 1290
	}
	if !slices.Contains(c.Fields["responseModalities"], "TEXT") {
		parts = parts[1:]
	}
	textIn := len(c.Prompt)/4 + 1
	imageIn := 0
	for _, img := range c.Images {
		imageIn += geminiImageTokens(img)
	}
	textOut := len(text) / 4
	promptDetails := []any{map[string]any{"modality": "TEXT", "tokenCount": textIn}}
	if imageIn > 0 {
		promptDetails = append(promptDetails, map[string]any{"modality": "IMAGE", "tokenCount": imageIn})
	}
	candDetails := []any{map[string]any{"modality": "IMAGE", "tokenCount": outImage}}
	body, _ := json.Marshal(map[string]any{
		"candidates": []any{map[string]any{
			"content":      map[string]any{"role": "model", "parts": parts},
			"finishReason": "STOP",
			"index":        0,
		}},
		"usageMetadata": map[string]any{
			"promptTokenCount":        textIn + imageIn,
			"candidatesTokenCount":    outImage + textOut,
			"totalTokenCount":         textIn + imageIn + outImage + textOut,
			"promptTokensDetails":     promptDetails,
			"candidatesTokensDetails": candDetails,
		},
		"modelVersion": c.Field("model"),
		"responseId":   randomHex(12),
	})
	return Response{Status: http.StatusOK, Body: body}
}

// geminiImageTokens counts an input image the way Gemini bills it: 258
// tokens per 768×768 tile, or 258 for an image up to 384×384.
func geminiImageTokens(img []byte) int {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil || (cfg.Width <= 384 && cfg.Height <= 384) {
		return 258
	}
	return 258 * ((cfg.Width + 767) / 768) * ((cfg.Height + 767) / 768)
}

func (geminiService) headers(status int) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Vary", "Origin, X-Origin, Referer")
	h.Set("Server", "scaffolding on HTTPServer2")
	h.Set("Server-Timing", "gfet4t7; dur=9120")
	return h
}

// geminiErrorBody is the Google API error shape.
func geminiErrorBody(status int, rpcStatus, message string, details []any) []byte {
	e := map[string]any{"code": status, "message": message, "status": rpcStatus}
	if len(details) > 0 {
		e["details"] = details
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return b
}

func geminiError(c *Call, status int, rpcStatus, message string, details []any) *Response {
	c.Invalid = message
	return &Response{Status: status, Body: geminiErrorBody(status, rpcStatus, message, details)}
}
