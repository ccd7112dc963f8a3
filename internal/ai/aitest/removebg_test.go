package aitest_test

import (
	"bytes"
	"encoding/base64"
	"image/jpeg"
	"image/png"
	"net/url"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/ai/aitest"
)

func TestRemoveBGAcceptsEveryEncoding(t *testing.T) {
	t.Parallel()
	fake := aitest.NewRemoveBG(t)
	photo := aitest.JPEG(300, 200)
	b64 := base64.StdEncoding.EncodeToString(photo)
	endpoint := fake.URL() + "/v1.0/removebg"
	key := map[string]string{"X-Api-Key": fake.Key()}
	with := func(k, v string) map[string]string {
		h := map[string]string{k: v}
		for a, b := range key {
			h[a] = b
		}
		return h
	}

	body, ct := multipartBody(t, part{name: "image_file", filename: "p.jpg", data: photo}, part{name: "size", data: []byte("full")})
	status, h, b := do(t, "POST", endpoint, with("Content-Type", ct), body)
	if status != 200 || h.Get("Content-Type") != "image/png" || h.Get("X-Credits-Charged") != "1" || h.Get("X-Width") != "300" {
		t.Fatalf("multipart: status %d headers %v", status, h)
	}
	if img, err := png.Decode(bytes.NewReader(b)); err != nil || img.Bounds().Dx() != 300 {
		t.Fatalf("multipart: not a 300 px PNG: %v", err)
	}

	form := url.Values{"image_file_b64": {b64}, "size": {"preview"}, "format": {"jpg"}}.Encode()
	status, h, b = do(t, "POST", endpoint, with("Content-Type", "application/x-www-form-urlencoded"), strings.NewReader(form))
	if status != 200 || h.Get("X-Credits-Charged") != "0.25" {
		t.Fatalf("form: status %d headers %v", status, h)
	}
	if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
		t.Fatalf("form with format=jpg: not a JPEG: %v", err)
	}

	status, _, b = do(t, "POST", endpoint, map[string]string{"X-Api-Key": fake.Key(), "Content-Type": "application/json",
		"Accept": "application/json"}, strings.NewReader(`{"image_file_b64":"`+b64+`"}`))
	if status != 200 || get(decodeJSON(t, b), "data", "result_b64") == nil {
		t.Fatalf("json: status %d body %.200s", status, b)
	}
}

func TestRemoveBGRefusesRequestsLikeTheAPI(t *testing.T) {
	t.Parallel()
	photo := aitest.PNG(20, 20)
	tests := []struct {
		name   string
		key    string
		parts  []part
		status int
		title  string
		code   any
	}{
		{"no key", "-", []part{{name: "image_file", filename: "p.png", data: photo}}, 403, "Missing API Key", nil},
		{"wrong key", "nope", []part{{name: "image_file", filename: "p.png", data: photo}}, 403, "API Key invalid", "auth_failed"},
		{"no source", "", []part{{name: "size", data: []byte("auto")}}, 400, "No image given", "missing_source"},
		{"two sources", "", []part{{name: "image_file", filename: "p.png", data: photo}, {name: "image_url", data: []byte("https://example.com/a.png")}}, 400, "", "multiple_sources"},
		{"not an image", "", []part{{name: "image_file", filename: "p.txt", data: []byte("hello")}}, 400, "Invalid file type", "invalid_file_type"},
		{"bad size", "", []part{{name: "image_file", filename: "p.png", data: photo}, {name: "size", data: []byte("huge")}}, 400, "", "invalid_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := aitest.NewRemoveBG(t)
			body, ct := multipartBody(t, tt.parts...)
			h := map[string]string{"Content-Type": ct}
			switch tt.key {
			case "":
				h["X-Api-Key"] = fake.Key()
			case "-":
			default:
				h["X-Api-Key"] = tt.key
			}
			status, _, b := do(t, "POST", fake.URL()+"/v1.0/removebg", h, body)
			m := decodeJSON(t, b)
			if status != tt.status || get(m, "errors", 0, "code") != tt.code ||
				(tt.title != "" && get(m, "errors", 0, "title") != tt.title) {
				t.Fatalf("status %d body %s; want %d %q %v", status, b, tt.status, tt.title, tt.code)
			}
		})
	}
}
