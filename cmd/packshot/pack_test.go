package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/ai/aitest"
	"github.com/packshot/packshot/internal/imaging"
)

// productPhoto writes a 1200×900 JPEG of a product (a red bottle) on a near-white
// backdrop with noise and a soft shadow, as a phone photo of a product would be.
func productPhoto(t *testing.T, dir string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewNRGBA(image.Rect(0, 0, 1200, 900))
	for y := 0; y < 900; y++ {
		for x := 0; x < 1200; x++ {
			fx, fy := float64(x), float64(y)
			shadow := 1 - 0.2*math.Exp(-math.Pow((fx-600)/260, 2)-math.Pow((fy-780)/30, 2))
			c := [3]float64{245 * shadow, 245 * shadow, 242 * shadow}
			body := fx > 480 && fx < 720 && fy > 300 && fy < 780
			neck := fx > 560 && fx < 640 && fy > 150 && fy <= 300
			if body || neck {
				shade := 0.7 + 0.3*math.Sin(math.Pi*(fx-480)/240)
				c = [3]float64{200 * shade, 40 * shade, 50 * shade}
			}
			o := 4 * (y*1200 + x)
			for i := range c {
				img.Pix[o+i] = uint8(max(0, min(255, c[i]+rng.NormFloat64()*3)))
			}
			img.Pix[o+3] = 255
		}
	}
	path := filepath.Join(dir, "bottle.jpg")
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 88}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runPack(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"packshot", "pack"}, args...), mapEnv(env), &out, &errOut)
	return out.String() + errOut.String(), err
}

func readManifest(t *testing.T, dir string) packManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m packManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return m
}

func TestPackRendersACompletePackOffline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	photo := productPhoto(t, dir)
	out := filepath.Join(dir, "pack")
	log, err := runPack(t, nil, "-in", photo, "-out", out, "-marketplace", "shopify",
		"-title", "Glass Water Bottle 750 ml", "-feature", "Borosilicate glass", "-feature", "Leak-proof lid",
		"-feature", "Dishwasher safe", "-dimensions", "8 x 26 x 8 cm")
	if err != nil {
		t.Fatalf("pack: %v\n%s", err, log)
	}
	m := readManifest(t, out)
	if m.Marketplace != "shopify" || m.Source.Width != 1200 || m.Source.Cutout != "local" || len(m.Skipped) != 0 {
		t.Errorf("manifest header = %+v", m)
	}
	if len(m.Images) != len(imaging.ImageTypes) {
		t.Fatalf("manifest lists %d images, want %d", len(m.Images), len(imaging.ImageTypes))
	}
	for i, im := range m.Images {
		if im.Type != imaging.ImageTypes[i] {
			t.Errorf("image %d is %s, want %s", i, im.Type, imaging.ImageTypes[i])
		}
		data, err := os.ReadFile(filepath.Join(out, im.File))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if im.Bytes != len(data) || im.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: manifest says %d bytes %s; file has %d bytes", im.File, im.Bytes, im.SHA256, len(data))
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || format != "jpeg" || cfg.Width != im.Width || cfg.Height != im.Height || im.Width != 2048 {
			t.Errorf("%s: %s %d×%d (%v); manifest says %d×%d", im.File, format, cfg.Width, cfg.Height, err, im.Width, im.Height)
		}
		if im.Provider != "local" || !im.Compliance.Passed || im.Compliance.Marketplace != "shopify" {
			t.Errorf("%s: provider %q, compliance %+v", im.File, im.Provider, im.Compliance)
		}
	}
	if f := m.Images[0].Compliance.Measurements.FillPercent; f < 85 || f > 90 {
		t.Errorf("main image fill = %.1f%%, want 85–90%%", f)
	}
}

func TestPackLifestyleFromAIProvider(t *testing.T) {
	t.Parallel()
	fake := aitest.NewOpenAI(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "pack")
	env := map[string]string{"OPENAI_API_KEY": fake.Key(), "OPENAI_BASE_URL": fake.URL()}
	log, err := runPack(t, env, "-in", productPhoto(t, dir), "-out", out, "-provider", "openai", "-title", "Bottle")
	if err != nil {
		t.Fatalf("pack: %v\n%s", err, log)
	}
	m := readManifest(t, out)
	providers := map[imaging.ImageType]string{}
	for _, im := range m.Images {
		providers[im.Type] = im.Provider
	}
	if providers[imaging.TypeLifestyle] != "openai" || providers[imaging.TypeMain] != "local" {
		t.Errorf("providers = %v; want lifestyle from openai, main local", providers)
	}
	// Without features and dimensions, those two images are skipped with a reason.
	if len(m.Skipped) != 2 || !strings.Contains(m.Skipped[0].Reason, "feature") {
		t.Errorf("skipped = %+v", m.Skipped)
	}
	if fake.Count() != 1 {
		t.Errorf("OpenAI called %d times, want 1", fake.Count())
	}
}

func TestPackRefusesBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	photo := productPhoto(t, dir)
	text := filepath.Join(dir, "notes.jpg")
	os.WriteFile(text, []byte("this is not a photo"), 0o644)
	busy := filepath.Join(dir, "busy.jpg")
	{
		rng := rand.New(rand.NewPCG(3, 3))
		img := image.NewNRGBA(image.Rect(0, 0, 800, 600))
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.IntN(256))
		}
		var buf bytes.Buffer
		jpeg.Encode(&buf, img, nil)
		os.WriteFile(busy, buf.Bytes(), 0o644)
	}
	out := filepath.Join(dir, "out")
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown marketplace", nil, []string{"-in", photo, "-out", out, "-marketplace", "ebay"}, "amazon, etsy, shopify"},
		{"not an image", nil, []string{"-in", text, "-out", out}, "not a supported image"},
		{"busy background", nil, []string{"-in", busy, "-out", out}, "needs AI background removal"},
		{"bad dimensions", nil, []string{"-in", photo, "-out", out, "-dimensions", "30 x 20"}, "no unit"},
		{"too many features", nil, []string{"-in", photo, "-out", out, "-feature", "a", "-feature", "b",
			"-feature", "c", "-feature", "d", "-feature", "e", "-feature", "f"}, "at most 5"},
		{"provider without key", nil, []string{"-in", photo, "-out", out, "-provider", "gemini"}, "GEMINI_API_KEY"},
		{"unknown provider", nil, []string{"-in", photo, "-out", out, "-provider", "midjourney"}, "local, openai, gemini"},
		{"missing flags", nil, []string{"-in", photo}, "required"},
	}
	for _, c := range cases {
		_, err := runPack(t, c.env, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v; want it to mention %q", c.name, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
		t.Error("a refused pack wrote a manifest")
	}
}
