package imaging

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"

	// Registered decoders: the formats Decode accepts.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"
)

// Limits bounds what Decode accepts. The pixel limit is checked from the file header
// before any pixel is decoded, so a small file that claims a huge size costs nothing.
// Beyond these per-call limits, every decode goes through the process-wide guard
// (ConfigureDecode): a lower pixel limit for progressive and CMYK JPEGs, and a memory
// budget shared by all decodes running at once.
type Limits struct {
	// MaxBytes is the largest file accepted, in bytes. Defaults to 30 MiB.
	MaxBytes int64
	// MaxPixels is the largest width×height accepted. Defaults to 40 megapixels (a decoded
	// 40 MP image takes 160 MB as NRGBA).
	MaxPixels int64
	// MaxSide is the largest width or height accepted, in pixels. Defaults to 20,000: a
	// decoder's row buffers grow with the width alone, and no product photo is a strip.
	MaxSide int
	// MinLongestSide is the smallest accepted longest side, in pixels. Defaults to 500
	// (Amazon's minimum).
	MinLongestSide int
}

// DefaultLimits are the limits used when a field of Limits is zero.
var DefaultLimits = Limits{MaxBytes: 30 << 20, MaxPixels: 40_000_000, MaxSide: 20_000, MinLongestSide: 500}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultLimits.MaxSide
	}
	if l.MinLongestSide <= 0 {
		l.MinLongestSide = DefaultLimits.MinLongestSide
	}
	return l
}

// Decode reads one image (JPEG, PNG, GIF first frame, WebP) from r within the limits,
// applies the JPEG EXIF orientation and returns it as NRGBA with its format name
// ("jpeg", "png", "gif", "webp"). Before decoding it takes the decode's estimated
// memory from the process-wide budget, waiting until ctx ends for it to be free, and
// gives it back when it returns (the returned image is then the caller's). Errors wrap
// ErrNotImage, ErrTruncated, ErrCorrupt, ErrTooLarge (file, pixels, or a decode larger
// than the whole budget), ErrTooSmall or ErrDecodeBusy (ctx ended while waiting).
func Decode(ctx context.Context, r io.Reader, lim Limits) (*image.NRGBA, string, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read image: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, "", fmt.Errorf("%w: file is over %d MB", ErrTooLarge, lim.MaxBytes>>20)
	}
	return DecodeBytes(ctx, data, lim)
}

// DecodeBytes is Decode for data already in memory.
func DecodeBytes(ctx context.Context, data []byte, lim Limits) (*image.NRGBA, string, error) {
	return decodeBytes(ctx, currentGuard(), data, lim)
}

func decodeBytes(ctx context.Context, g *decodeGuard, data []byte, lim Limits) (*image.NRGBA, string, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, "", fmt.Errorf("%w: file is over %d MB", ErrTooLarge, lim.MaxBytes>>20)
	}
	h, err := checkHeader(g, data, lim)
	if err != nil {
		return nil, "", err
	}
	if err := g.budget.Acquire(ctx, h.DecodeCost); err != nil {
		return nil, "", err
	}
	defer g.budget.Release(h.DecodeCost)
	src, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		if !hasEndMarker(data, format) {
			return nil, "", fmt.Errorf("%w: the %s data ends before the image does", ErrTruncated, format)
		}
		return nil, "", classifyDecodeError(err)
	}
	img := toNRGBA(src)
	if format == "jpeg" {
		img = orient(img, jpegOrientation(data))
	}
	return img, format, nil
}

// Header is what CheckHeader learned from an image's header.
type Header struct {
	// Format is the format name: "jpeg", "png", "gif" or "webp".
	Format string
	// Width and Height are the stored size in pixels, before EXIF orientation.
	Width, Height int
	// Progressive and Components describe a JPEG's frame (0 components for other
	// formats, or a JPEG whose markers could not be followed).
	Progressive bool
	Components  int
	// DecodeCost is the estimated peak memory of decoding the image to NRGBA, in bytes:
	// what Decode takes from the decode budget.
	DecodeCost int64
}

// CheckHeader reads only the image header and checks it against the limits and the
// process-wide decode guard (the pixel limit for progressive and CMYK JPEGs, and a
// decode cost that could never fit the budget). It lets an API refuse a bad upload
// before decoding it. Errors are as for Decode.
func CheckHeader(data []byte, lim Limits) (Header, error) {
	return checkHeader(currentGuard(), data, lim)
}

func checkHeader(g *decodeGuard, data []byte, lim Limits) (Header, error) {
	lim = lim.withDefaults()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Header{}, classifyDecodeError(err)
	}
	h := Header{Format: format, Width: cfg.Width, Height: cfg.Height}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return h, fmt.Errorf("%w: header gives a size of %d×%d", ErrCorrupt, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > lim.MaxPixels {
		return h, fmt.Errorf("%w: %d×%d pixels is over the limit of %.0f megapixels",
			ErrTooLarge, cfg.Width, cfg.Height, float64(lim.MaxPixels)/1e6)
	}
	if max(cfg.Width, cfg.Height) > lim.MaxSide {
		return h, fmt.Errorf("%w: %d×%d pixels; no side may be over %d px",
			ErrTooLarge, cfg.Width, cfg.Height, lim.MaxSide)
	}
	cost := estimateCost(data, format, cfg.Width, cfg.Height)
	h.Progressive, h.Components, h.DecodeCost = cost.progressive, cost.components, cost.cost
	if cost.costly && int64(cfg.Width)*int64(cfg.Height) > g.maxCostlyPixels {
		g.budget.refused(RefusedPixels)
		return h, fmt.Errorf("%w: %d×%d pixels is over the limit of %.0f megapixels for a progressive or CMYK JPEG, "+
			"whose decoding takes several times the memory of a baseline RGB one (save it as a baseline RGB JPEG or PNG)",
			ErrTooLarge, cfg.Width, cfg.Height, float64(g.maxCostlyPixels)/1e6)
	}
	if h.DecodeCost > g.budget.Size() {
		g.budget.refused(RefusedBudget)
		return h, fmt.Errorf("%w: decoding this %d×%d %s needs about %d MB of memory; the server's image decode budget is %d MB",
			ErrTooLarge, cfg.Width, cfg.Height, format, mb(h.DecodeCost), mb(g.budget.Size()))
	}
	if max(cfg.Width, cfg.Height) < lim.MinLongestSide {
		return h, fmt.Errorf("%w: %d×%d pixels; the longest side must be at least %d px",
			ErrTooSmall, cfg.Width, cfg.Height, lim.MinLongestSide)
	}
	return h, nil
}

// hasEndMarker reports whether data ends the way a complete file of its format does
// (allowing trailing bytes after JPEG's end-of-image marker, which some cameras add).
// The decoders report a cut-off file in format-specific ways; the missing end marker
// says plainly that the file was truncated.
func hasEndMarker(data []byte, format string) bool {
	switch format {
	case "jpeg":
		tail := data[max(0, len(data)-64<<10):]
		return bytes.Contains(tail, []byte{0xFF, 0xD9})
	case "png":
		return bytes.Contains(data[max(0, len(data)-64):], []byte("IEND"))
	case "gif":
		return len(data) > 0 && data[len(data)-1] == 0x3B
	case "webp":
		// RIFF header: the file size is stated in bytes 4–8.
		return len(data) >= 8 && int(binary.LittleEndian.Uint32(data[4:8]))+8 <= len(data)
	}
	return true
}

func classifyDecodeError(err error) error {
	switch {
	case errors.Is(err, image.ErrFormat):
		return ErrNotImage
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w: the data ends before the image does", ErrTruncated)
	default:
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
}

// toNRGBA converts any decoded image to NRGBA, using fast paths for the types the
// registered decoders return.
func toNRGBA(src image.Image) *image.NRGBA {
	b := src.Bounds()
	switch s := src.(type) {
	case *image.NRGBA:
		if b.Min == (image.Point{}) {
			return s
		}
	case *image.YCbCr:
		// The standard library's YCbCr→RGBA path is fast; the result is opaque, so its
		// bytes are also valid NRGBA.
		rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(rgba, rgba.Rect, s, b.Min, draw.Src)
		return &image.NRGBA{Pix: rgba.Pix, Stride: rgba.Stride, Rect: rgba.Rect}
	case *image.Gray:
		dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := 0; y < b.Dy(); y++ {
			row := s.Pix[y*s.Stride : y*s.Stride+b.Dx()]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*b.Dx()]
			for x, v := range row {
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = v, v, v, 255
			}
		}
		return dst
	case *image.Paletted:
		dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		pal := make([][4]uint8, len(s.Palette))
		for i, c := range s.Palette {
			r, g, bl, a := c.RGBA()
			pal[i] = unpremultiply(r, g, bl, a)
		}
		for y := 0; y < b.Dy(); y++ {
			row := s.Pix[y*s.Stride : y*s.Stride+b.Dx()]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*b.Dx()]
			for x, v := range row {
				if int(v) < len(pal) {
					copy(out[4*x:4*x+4], pal[v][:])
				}
			}
		}
		return dst
	case *image.RGBA:
		if b.Min == (image.Point{}) && opaque(s) {
			// Opaque premultiplied and non-premultiplied pixels are the same bytes.
			return &image.NRGBA{Pix: s.Pix, Stride: s.Stride, Rect: s.Rect}
		}
		dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := 0; y < b.Dy(); y++ {
			in := s.Pix[(y)*s.Stride : y*s.Stride+4*b.Dx()]
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*b.Dx()]
			for i := 0; i < len(in); i += 4 {
				p := unpremultiply8(in[i], in[i+1], in[i+2], in[i+3])
				copy(out[i:i+4], p[:])
			}
		}
		return dst
	}
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, src, b.Min, draw.Src)
	return dst
}

// opaque reports whether every pixel of img has alpha 255.
func opaque(img *image.RGBA) bool {
	w := img.Rect.Dx()
	for y := 0; y < img.Rect.Dy(); y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 255 {
				return false
			}
		}
	}
	return true
}

func unpremultiply(r, g, b, a uint32) [4]uint8 {
	if a == 0 {
		return [4]uint8{}
	}
	return [4]uint8{uint8(r * 0xffff / a >> 8), uint8(g * 0xffff / a >> 8), uint8(b * 0xffff / a >> 8), uint8(a >> 8)}
}

func unpremultiply8(r, g, b, a uint8) [4]uint8 {
	switch a {
	case 255:
		return [4]uint8{r, g, b, 255}
	case 0:
		return [4]uint8{}
	}
	return [4]uint8{
		uint8(min(255, int(r)*255/int(a))),
		uint8(min(255, int(g)*255/int(a))),
		uint8(min(255, int(b)*255/int(a))),
		a,
	}
}
