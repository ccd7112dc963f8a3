package ai_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/ai/aitest"
)

// requireClass checks that err is an *ai.Error of class want, that its
// message is readable and that it leaks no key, and returns it.
func requireClass(t *testing.T, err error, want ai.Class, keys ...string) *ai.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want a %s error", want)
	}
	var e *ai.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q (%T) is not an *ai.Error", err, err)
	}
	if e.Class != want {
		t.Fatalf("class = %s, want %s; error: %v", e.Class, want, err)
	}
	if e.Message == "" {
		t.Errorf("error has no message: %#v", e)
	}
	for _, k := range append(keys, aitest.OpenAIKey, aitest.GeminiKey, aitest.RemoveBGKey) {
		if strings.Contains(err.Error(), k) || strings.Contains(e.Message, k) {
			t.Errorf("error message leaks a key: %v", err)
		}
	}
	if strings.Contains(err.Error(), "***") {
		t.Errorf("error message leaks a masked key: %v", err)
	}
	if (want == ai.RateLimited) != (e.RetryAfter > 0) {
		t.Errorf("RetryAfter = %s for class %s", e.RetryAfter, want)
	}
	return e
}

// decodePNG decodes a PNG result or fails the test.
func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("result is not a PNG: %v", err)
	}
	return img
}

// pngSize returns a PNG's size from its header; the tests that only need
// the size skip decoding megapixels under the race detector.
func pngSize(t *testing.T, b []byte) (w, h int) {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("result is not a PNG: %v", err)
	}
	return cfg.Width, cfg.Height
}
