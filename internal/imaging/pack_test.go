package imaging

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// testProduct is project data with everything the renderers can show.
func testProduct(t testing.TB) Product {
	d, err := ParseDimensions("30 x 20 x 10 cm")
	if err != nil {
		t.Fatal(err)
	}
	return Product{
		Title: "Stoneware Coffee Mug, 350 ml",
		Features: []string{
			"Hand-glazed stoneware that keeps coffee hot for longer",
			"Dishwasher and microwave safe",
			"Comfortable wide handle fits four fingers",
			"Lead- and cadmium-free glaze, food safe",
			"Gift-ready box included, made in Portugal",
		},
		Dimensions: &d,
	}
}

func TestPackImagesForEveryMarketplace(t *testing.T) {
	t.Parallel()
	sc := scene{w: 1000, h: 750, shape: "mug", background: color.NRGBA{246, 246, 243, 255},
		colour: color.NRGBA{40, 90, 170, 255}, noise: 3, shadow: 0.25, quality: 85, seed: 11}
	img, _ := sc.render(t)
	cut, err := RemoveBackground(img)
	if err != nil {
		t.Fatal(err)
	}
	p := testProduct(t)
	dump := os.Getenv("IMAGING_DUMP")
	for _, name := range Marketplaces {
		prof, err := ProfileFor(name)
		if err != nil {
			t.Fatal(err)
		}
		types := ImageTypes
		if name != "amazon" {
			types = []ImageType{TypeMain} // the other types differ only in canvas size
		}
		for _, typ := range types {
			out, err := Make(typ, cut, p, prof)
			if err != nil {
				t.Fatalf("%s %s: %v", name, typ, err)
			}
			if out.Width != prof.Width || out.Height != prof.Height {
				t.Errorf("%s %s: %d×%d, want %d×%d", name, typ, out.Width, out.Height, prof.Width, prof.Height)
			}
			if !out.Compliance.Passed {
				t.Errorf("%s %s: compliance failed: %+v", name, typ, out.Compliance.Violations)
			}
			if dump != "" {
				os.WriteFile(filepath.Join(dump, name+"-"+string(typ)+".jpg"), out.Data, 0o644)
			}
			if typ != TypeMain {
				continue
			}
			// The encoded file itself: border exactly white, fill within 85–90 %.
			dec, err := jpeg.Decode(bytes.NewReader(out.Data))
			if err != nil {
				t.Fatal(err)
			}
			n, darkest := borderStats(toNRGBA(dec))
			if n != 0 {
				t.Errorf("%s main: %d border pixels not white (darkest %d)", name, n, darkest)
			}
			if f := out.Compliance.Measurements.FillPercent; f < 85 || f > 90 {
				t.Errorf("%s main: fill %.1f%%, want 85–90%%", name, f)
			}
		}
	}
}

func TestInfographicTextNeverOverlapsProduct(t *testing.T) {
	t.Parallel()
	sc := scene{w: 900, h: 700, shape: "bottle", background: color.NRGBA{240, 240, 240, 255},
		colour: color.NRGBA{20, 120, 70, 255}, noise: 2, seed: 5}
	img, _ := sc.render(t)
	cut, err := RemoveBackground(img)
	if err != nil {
		t.Fatal(err)
	}
	p := testProduct(t)
	p.Features = append(p.Features, "A sixth feature that must not be shown")
	p.Features[0] = "An extremely long feature description that goes on and on about the many wonderful qualities of this product, far more than any card can hold at a comfortable reading size"
	prof, _ := ProfileFor("amazon")
	for _, typ := range []ImageType{TypeInfographic, TypeDimensions} {
		r, err := Render(typ, cut, p, prof)
		if err != nil {
			t.Fatal(err)
		}
		if typ == TypeInfographic && len(r.TextRects) != 1+MaxFeatures {
			t.Errorf("infographic has %d text areas, want title + %d features", len(r.TextRects), MaxFeatures)
		}
		for _, tr := range r.TextRects {
			if tr.Overlaps(r.ProductRect) {
				t.Errorf("%s: text area %v overlaps the product %v", typ, tr, r.ProductRect)
			}
			if !tr.In(r.Image.Rect) {
				t.Errorf("%s: text area %v is outside the canvas", typ, tr)
			}
		}
	}
}

func TestRenderNeedsProductData(t *testing.T) {
	t.Parallel()
	cut := &Cutout{Image: image.NewNRGBA(image.Rect(0, 0, 100, 100)), Bounds: image.Rect(0, 0, 100, 100)}
	prof, _ := ProfileFor("etsy")
	for _, typ := range []ImageType{TypeInfographic, TypeDimensions} {
		if _, err := Render(typ, cut, Product{Title: "x"}, prof); err == nil {
			t.Errorf("Render(%s) without data succeeded", typ)
		}
	}
}

func TestDetailNeverUpscalesMoreThanTwice(t *testing.T) {
	t.Parallel()
	// A small product photo: the whole product is 300 px across.
	img := image.NewNRGBA(image.Rect(0, 0, 300, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 300; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	cut := &Cutout{Image: img, Bounds: img.Rect}
	prof, _ := ProfileFor("amazon")
	r := RenderDetail(cut, prof)
	if got := r.ProductRect.Size(); got.X > 600 || got.Y > 600 {
		t.Errorf("detail shows a 300 px product at %v: more than 2×", got)
	}
	if r.Image.Rect.Dx() != 2000 || r.Provider != ProviderLocal {
		t.Errorf("detail canvas %v, provider %q", r.Image.Rect, r.Provider)
	}
}

func TestLifestyleIsLabelledLocal(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 400, 600))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	cut := &Cutout{Image: img, Bounds: img.Rect}
	prof, _ := ProfileFor("etsy")
	out, err := Make(TypeLifestyle, cut, Product{}, prof)
	if err != nil {
		t.Fatal(err)
	}
	if out.Provider != "local" || !out.Compliance.Passed {
		t.Errorf("lifestyle provider %q, compliance %+v", out.Provider, out.Compliance)
	}
}

func TestRemoveBackgroundKeepsExistingTransparency(t *testing.T) {
	t.Parallel()
	// A PNG that is already a cut-out: an opaque disc on transparency.
	img := image.NewNRGBA(image.Rect(0, 0, 800, 600))
	for y := 0; y < 600; y++ {
		for x := 0; x < 800; x++ {
			if (x-400)*(x-400)+(y-300)*(y-300) <= 200*200 {
				img.SetNRGBA(x, y, color.NRGBA{10, 200, 90, 255})
			}
		}
	}
	cut, err := RemoveBackground(img)
	if err != nil {
		t.Fatal(err)
	}
	if cut.Bounds != image.Rect(200, 100, 601, 501) {
		t.Errorf("bounds = %v, want the disc's", cut.Bounds)
	}
}

func TestFromGeneratedFitsTheCanvas(t *testing.T) {
	t.Parallel()
	gen := encodeTest(t, "png", testImage(1536, 1024)) // an OpenAI landscape answer
	prof, _ := ProfileFor("shopify")
	r, err := FromGenerated(context.Background(), TypeLifestyle, gen, "openai", prof)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Finish(r, prof)
	if err != nil {
		t.Fatal(err)
	}
	if out.Width != 2048 || out.Height != 2048 || out.Provider != "openai" || !out.Compliance.Passed {
		t.Errorf("generated lifestyle = %d×%d by %q, compliance %+v", out.Width, out.Height, out.Provider, out.Compliance)
	}
	if _, err := FromGenerated(context.Background(), TypeMain, gen, "openai", prof); err == nil {
		t.Error("FromGenerated accepted an AI main image")
	}
}
