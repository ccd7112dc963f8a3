package aitest

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RemoveBGKey is the key a fake remove.bg accepts.
const RemoveBGKey = "aitestRemoveBgKey0123456"

// RemoveBG is a fake remove.bg API serving POST /v1.0/removebg with a
// multipart, form-encoded or JSON body, answering with a binary cut-out
// (or JSON with Accept: application/json) and remove.bg's headers.
type RemoveBG struct {
	*fake
}

// NewRemoveBG starts a fake remove.bg that accepts RemoveBGKey in
// X-Api-Key. With a non-nil tb it closes when the test ends.
func NewRemoveBG(tb testing.TB) *RemoveBG {
	return &RemoveBG{newFake(tb, RemoveBGKey, removeBGService{})}
}

// URL returns the base URL to configure a client with (REMOVEBG_BASE_URL),
// without the /v1.0 version.
func (f *RemoveBG) URL() string { return f.srv.URL }

type removeBGService struct{}

var removeBGAllowed = map[string][]string{
	"size":     {"auto", "preview", "small", "regular", "medium", "hd", "full", "4k", "50MP"},
	"type":     {"auto", "person", "product", "car", "animal", "graphic", "transportation"},
	"format":   {"auto", "png", "jpg", "zip"},
	"channels": {"rgba", "alpha"},
}

func (removeBGService) check(r *http.Request, c *Call) *Response {
	if r.Method != http.MethodPost || r.URL.Path != "/v1.0/removebg" {
		return removeBGError(c, http.StatusNotFound, "Not Found", "", "")
	}
	switch key := r.Header.Get("X-Api-Key"); key {
	case "":
		return removeBGError(c, http.StatusForbidden, "Missing API Key", "", "")
	case RemoveBGKey:
	default:
		return removeBGError(c, http.StatusForbidden, "API Key invalid", "auth_failed", "")
	}
	var files = map[string][]byte{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return removeBGError(c, http.StatusBadRequest, "Could not parse request body", "", "")
		}
		defer func() { _ = r.MultipartForm.RemoveAll() }()
		for k, v := range r.MultipartForm.Value {
			c.Fields[k] = v
		}
		for k, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				continue
			}
			files[k], _ = io.ReadAll(f)
			_ = f.Close()
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return removeBGError(c, http.StatusBadRequest, "Could not parse request body", "", "")
		}
		for k, v := range r.PostForm {
			c.Fields[k] = v
		}
	case "application/json":
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return removeBGError(c, http.StatusBadRequest, "Could not parse request body", "", "")
		}
		for k, v := range body {
			c.Fields[k] = []string{fmt.Sprint(v)}
		}
	default:
		return removeBGError(c, http.StatusBadRequest, "No image given", "missing_source", "")
	}
	return validateRemoveBG(c, files)
}

func validateRemoveBG(c *Call, files map[string][]byte) *Response {
	bad := func(title, code, detail string) *Response {
		return removeBGError(c, http.StatusBadRequest, title, code, detail)
	}
	if _, ok := c.Fields["image_file"]; ok {
		return bad("Invalid image_file: expected a file upload", "invalid_file_type", "")
	}
	var img []byte
	sources := 0
	if b, ok := files["image_file"]; ok {
		sources++
		img = b
	}
	if s := c.Field("image_file_b64"); s != "" {
		sources++
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return bad("Invalid image_file_b64: not valid base64", "invalid_file_type", "")
		}
		img = b
	}
	if u := c.Field("image_url"); u != "" {
		sources++
		if sources == 1 {
			// The fake cannot reach the internet, like a real download that failed.
			return bad("Failed to download image from given image_url: HTTP Status 404", "failed_image_download", "")
		}
	}
	switch {
	case sources == 0:
		return bad("No image given", "missing_source", "")
	case sources > 1:
		return bad("Multiple image sources given: Please only provide one image source", "multiple_sources", "")
	}
	for name, allowed := range removeBGAllowed {
		if v := c.Field(name); v != "" && !slices.Contains(allowed, v) {
			code := "invalid_" + name
			return bad(fmt.Sprintf("Invalid %s: %s", name, v), code, "")
		}
	}
	if len(img) > 12<<20 {
		return bad("File too large", "file_too_large", "File exceeds limit of 12MB")
	}
	t := http.DetectContentType(img)
	if t != "image/png" && t != "image/jpeg" && t != "image/webp" {
		return bad("Invalid file type", "invalid_file_type", "Supported file types are JPG, PNG and WebP")
	}
	w, h, ok := webpSize(img)
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(img)); err == nil {
		w, h, ok = cfg.Width, cfg.Height, true
	}
	if !ok {
		return bad("Invalid file type", "invalid_file_type", "The image could not be read")
	}
	if w*h > 50_000_000 {
		return bad("Input image resolution too high", "resolution_too_high", "Input image exceeds the maximum of 50 megapixels")
	}
	c.Images = append(c.Images, img)
	c.Fields["width"], c.Fields["height"] = []string{strconv.Itoa(w)}, []string{strconv.Itoa(h)}
	if h := c.Header.Get("Accept"); h != "" {
		c.Fields["accept"] = []string{h}
	}
	return nil
}

// removeBGOutput returns the output size and the credits charged for a
// w×h input at the requested size.
func removeBGOutput(size string, w, h int) (int, int, float64) {
	maxMP, credits := 25.0, 1.0
	switch size {
	case "preview", "small", "regular":
		maxMP, credits = 0.25, 0.25
	case "medium":
		maxMP = 1.5
	case "hd":
		maxMP = 4
	case "50MP":
		maxMP = 50
	}
	if mp := float64(w*h) / 1e6; mp > maxMP {
		s := math.Sqrt(maxMP / mp)
		w, h = max(int(float64(w)*s), 1), max(int(float64(h)*s), 1)
	}
	return w, h, credits
}

func (removeBGService) success(c Call) Response {
	inW, _ := strconv.Atoi(c.Field("width"))
	inH, _ := strconv.Atoi(c.Field("height"))
	w, h, credits := removeBGOutput(c.Field("size"), inW, inH)
	contentType, body := "image/png", CutoutPNG(w, h)
	switch {
	case c.Field("channels") == "alpha":
		body = alphaPNG(w, h)
	case c.Field("format") == "jpg":
		contentType, body = "image/jpeg", JPEG(w, h)
	case c.Field("format") == "zip":
		contentType, body = "application/zip", removeBGZip(w, h)
	}
	fg := productBounds(w, h)
	header := http.Header{}
	header.Set("Content-Type", contentType)
	header.Set("X-Width", strconv.Itoa(w))
	header.Set("X-Height", strconv.Itoa(h))
	header.Set("X-Max-Width", strconv.Itoa(w))
	header.Set("X-Max-Height", strconv.Itoa(h))
	header.Set("X-Type", orString(strings.ReplaceAll(c.Field("type"), "auto", ""), "product"))
	header.Set("X-Credits-Charged", strconv.FormatFloat(credits, 'f', -1, 64))
	header.Set("X-Foreground-Top", strconv.Itoa(fg.Min.Y))
	header.Set("X-Foreground-Left", strconv.Itoa(fg.Min.X))
	header.Set("X-Foreground-Width", strconv.Itoa(fg.Dx()))
	header.Set("X-Foreground-Height", strconv.Itoa(fg.Dy()))
	if strings.Contains(c.Field("accept"), "application/json") {
		header.Set("Content-Type", "application/json")
		body, _ = json.Marshal(map[string]any{"data": map[string]any{
			"result_b64":     base64.StdEncoding.EncodeToString(body),
			"foreground_top": fg.Min.Y, "foreground_left": fg.Min.X,
			"foreground_width": fg.Dx(), "foreground_height": fg.Dy(),
		}})
	}
	return Response{Status: http.StatusOK, Header: header, Body: body}
}

// removeBGZip is format=zip: a colour JPEG plus an alpha matte PNG.
func removeBGZip(w, h int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range map[string][]byte{"color.jpg": JPEG(w, h), "alpha.png": alphaPNG(w, h)} {
		f, err := zw.Create(name)
		if err == nil {
			_, _ = f.Write(b)
		}
	}
	_ = zw.Close()
	return buf.Bytes()
}

func (removeBGService) headers(status int) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Ratelimit-Limit", "500")
	h.Set("X-Ratelimit-Remaining", "499")
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
	return h
}

// removeBGErrorBody is {"errors":[{"title","code","detail"}]}, code and
// detail left out when empty.
func removeBGErrorBody(title, code, detail string) []byte {
	e := map[string]string{"title": title}
	if code != "" {
		e["code"] = code
	}
	if detail != "" {
		e["detail"] = detail
	}
	b, _ := json.Marshal(map[string]any{"errors": []any{e}})
	return b
}

func removeBGError(c *Call, status int, title, code, detail string) *Response {
	c.Invalid = title
	return &Response{Status: status, Body: removeBGErrorBody(title, code, detail)}
}

// RemoveBGRateLimited is the 429 answer with Retry-After (whole seconds,
// rounded up) and the X-RateLimit headers.
func RemoveBGRateLimited(retryIn time.Duration) Response {
	secs := int(math.Ceil(retryIn.Seconds()))
	return Response{Status: http.StatusTooManyRequests, Body: removeBGErrorBody("Rate limit exceeded", "", ""),
		Header: http.Header{
			"Retry-After":           {strconv.Itoa(secs)},
			"X-Ratelimit-Limit":     {"500"},
			"X-Ratelimit-Remaining": {"0"},
			"X-Ratelimit-Reset":     {strconv.FormatInt(time.Now().Add(retryIn).Unix(), 10)},
		}}
}

// RemoveBGInsufficientCredits is the 402 answer of an account without
// credits.
func RemoveBGInsufficientCredits() Response {
	return Response{Status: http.StatusPaymentRequired, Body: removeBGErrorBody("Insufficient credits", "", "")}
}

// RemoveBGInvalidKey is the 403 auth_failed answer (the fake also sends it
// on its own when the key does not match).
func RemoveBGInvalidKey() Response {
	return Response{Status: http.StatusForbidden, Body: removeBGErrorBody("API Key invalid", "auth_failed", "")}
}

// RemoveBGUnknownForeground is the 400 answer for a photo without a
// recognisable subject.
func RemoveBGUnknownForeground() Response {
	return Response{Status: http.StatusBadRequest, Body: removeBGErrorBody("Could not identify foreground in image. "+
		"For details and recommendations see https://www.remove.bg/supported-images.", "unknown_foreground", "")}
}

// RemoveBGError is any remove.bg error answer: status with the body
// {"errors":[{"title","code"}]} (code left out when empty).
func RemoveBGError(status int, title, code string) Response {
	return Response{Status: status, Body: removeBGErrorBody(title, code, "")}
}
