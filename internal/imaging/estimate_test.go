package imaging

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"github.com/packshot/packshot/internal/imaging/imagingtest"
)

// TestEstimateCostCoversTheDecode decodes files of each layout and checks that the
// estimate taken from the budget is at least what the decode allocated, and not far
// above it. Not parallel: it counts the process's allocations.
func TestEstimateCostCoversTheDecode(t *testing.T) {
	const w, h = 803, 605 // not multiples of an MCU
	pngOf := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	gifOf := func(img *image.Paletted) []byte {
		var b bytes.Buffer
		if err := gif.Encode(&b, img, nil); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	rect := image.Rect(0, 0, w, h)
	translucent := image.NewNRGBA(rect)
	translucent.Pix[3] = 7
	deep := image.NewNRGBA64(rect)
	deep.Set(0, 0, color.NRGBA64{1, 2, 3, 4})
	cases := map[string][]byte{
		"jpeg baseline 4:2:0":    imagingtest.JPEG{Width: w, Height: h, Subsampled: true}.Bytes(),
		"jpeg baseline 4:4:4":    imagingtest.JPEG{Width: w, Height: h}.Bytes(),
		"jpeg progressive 4:2:0": imagingtest.JPEG{Width: w, Height: h, Progressive: true, Subsampled: true}.Bytes(),
		"jpeg progressive 4:4:4": imagingtest.JPEG{Width: w, Height: h, Progressive: true}.Bytes(),
		"jpeg baseline CMYK":     imagingtest.JPEG{Width: w, Height: h, CMYK: true}.Bytes(),
		"jpeg progressive CMYK":  imagingtest.JPEG{Width: w, Height: h, Progressive: true, CMYK: true}.Bytes(),
		"jpeg rotated":           withOrientation(imagingtest.JPEG{Width: w, Height: h}.Bytes(), 6),
		"png NRGBA":              pngOf(translucent),
		"png gray":               pngOf(image.NewGray(rect)),
		"png 16-bit":             pngOf(deep),
		"png paletted":           pngOf(image.NewPaletted(rect, color.Palette{color.Black, color.White})),
		"gif":                    gifOf(image.NewPaletted(rect, color.Palette{color.Black, color.White})),
	}
	g := newDecodeGuard(DecodeConfig{BudgetBytes: 1 << 40, MaxCostlyPixels: 1 << 40})
	lim := Limits{MinLongestSide: 1}
	for name, data := range cases {
		hd, err := checkHeader(g, data, lim)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		img, _, err := decodeBytes(context.Background(), g, data, lim)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runtime.KeepAlive(img)
		alloc := int64(after.TotalAlloc - before.TotalAlloc)
		t.Logf("%-24s allocated %5.1f B/px, estimated %5.1f B/px", name, float64(alloc)/(w*h), float64(hd.DecodeCost)/(w*h))
		if hd.DecodeCost < alloc || hd.DecodeCost > alloc+alloc/5+decodeOverhead {
			t.Errorf("%s: estimated %d bytes; the decode allocated %d", name, hd.DecodeCost, alloc)
		}
	}
}

// TestEstimateCostOfAnUnreadableFrame: a JPEG whose markers cannot be followed is costed
// (and limited) as the worst case.
func TestEstimateCostOfAnUnreadableFrame(t *testing.T) {
	t.Parallel()
	data := imagingtest.JPEG{Width: 800, Height: 600}.Bytes()
	// Garbage between two marker segments: Go's decoder skips it, the parser gives up.
	i := bytes.Index(data, []byte{0xFF, 0xDB})
	odd := append(append(append([]byte{}, data[:i]...), 0x00, 0x00), data[i:]...)
	c := estimateCost(odd, "jpeg", 800, 600)
	if !c.costly || c.cost != worstBytesPerPixel*800*600+decodeOverhead {
		t.Fatalf("unreadable frame: %+v; want the worst case", c)
	}
}

// TestEstimateCostCoversAWidePNG: Go's PNG decoder allocates two row buffers as wide as
// the image, which for a strip one or two pixels high cost more than the image. The
// estimate covers them (checked with the side limit lifted, as the strips are wider than
// it allows). Not parallel: it counts the process's allocations.
func TestEstimateCostCoversAWidePNG(t *testing.T) {
	cases := map[string]image.Image{
		"16-bit RGBA 1000000×1": image.NewNRGBA64(image.Rect(0, 0, 1_000_000, 1)),
		"8-bit RGBA 2000000×2":  image.NewNRGBA(image.Rect(0, 0, 2_000_000, 2)),
	}
	g := newDecodeGuard(DecodeConfig{BudgetBytes: 1 << 40, MaxCostlyPixels: 1 << 40})
	lim := Limits{MinLongestSide: 1, MaxSide: 1 << 30}
	for name, img := range cases {
		// Not uniform, so that the encoder keeps its alpha channel.
		switch m := img.(type) {
		case *image.NRGBA64:
			m.Set(0, 0, color.NRGBA64{1, 2, 3, 4})
		case *image.NRGBA:
			m.Pix[3] = 7
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		data := b.Bytes()
		hd, err := checkHeader(g, data, lim)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		out, _, err := decodeBytes(context.Background(), g, data, lim)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runtime.KeepAlive(out)
		alloc := int64(after.TotalAlloc - before.TotalAlloc)
		t.Logf("%-22s allocated %d bytes, estimated %d", name, alloc, hd.DecodeCost)
		if hd.DecodeCost < alloc {
			t.Errorf("%s: estimated %d bytes; the decode allocated %d", name, hd.DecodeCost, alloc)
		}
	}
}

// TestSideLimit: a strip wider (or taller) than the side limit is refused from its
// header, however few pixels it has; one at the limit is accepted.
func TestSideLimit(t *testing.T) {
	t.Parallel()
	g := newDecodeGuard(DecodeConfig{})
	pngOf := func(w, h int) []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, size := range [][2]int{{DefaultLimits.MaxSide + 1, 1}, {1, DefaultLimits.MaxSide + 1}, {10_000_000, 1}} {
		_, err := checkHeader(g, pngOf(size[0], size[1]), Limits{})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "no side may be over 20000 px") {
			t.Errorf("%d×%d: %v; want ErrTooLarge naming the side limit", size[0], size[1], err)
		}
	}
	if _, err := checkHeader(g, pngOf(DefaultLimits.MaxSide, 1), Limits{}); err != nil {
		t.Errorf("%d×1: %v; want it accepted", DefaultLimits.MaxSide, err)
	}
}
