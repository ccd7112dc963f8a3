package imaging

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// bombPNG is a valid-looking ~10 KB PNG whose header claims 50,000 × 50,000 pixels.
func bombPNG(t *testing.T) []byte {
	t.Helper()
	var ihdr bytes.Buffer
	binary.Write(&ihdr, binary.BigEndian, uint32(50000))
	binary.Write(&ihdr, binary.BigEndian, uint32(50000))
	ihdr.Write([]byte{8, 0, 0, 0, 0}) // 8-bit greyscale
	var idat bytes.Buffer
	zw := zlib.NewWriter(&idat)
	zw.Write(make([]byte, 10<<20)) // the first rows of zeros
	zw.Close()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	b.Write(pngChunk("IHDR", ihdr.Bytes()))
	b.Write(pngChunk("IDAT", idat.Bytes()))
	b.Write(pngChunk("IEND", nil))
	return b.Bytes()
}

func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

func encodeTest(t *testing.T, format string, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeRefusesBadInput(t *testing.T) {
	t.Parallel()
	jpg := encodeTest(t, "jpeg", testImage(800, 600))
	pngData := encodeTest(t, "png", testImage(800, 600))
	cases := []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"decompression bomb", bombPNG(t), Limits{}, ErrTooLarge},
		{"truncated JPEG", jpg[:len(jpg)/2], Limits{}, ErrTruncated},
		{"truncated PNG", pngData[:len(pngData)/2], Limits{}, ErrTruncated},
		{"header only", pngData[:20], Limits{}, ErrTruncated},
		{"text file", []byte("name,price\nmug,12.50\n"), Limits{}, ErrNotImage},
		{"PDF", []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj\n"), Limits{}, ErrNotImage},
		{"empty", nil, Limits{}, ErrNotImage},
		{"too small", encodeTest(t, "png", testImage(120, 90)), Limits{}, ErrTooSmall},
		{"over the byte limit", jpg, Limits{MaxBytes: 1000}, ErrTooLarge},
		{"over the pixel limit", jpg, Limits{MaxPixels: 100_000}, ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Decode(context.Background(), bytes.NewReader(c.data), c.lim)
			if !errors.Is(err, c.want) {
				t.Fatalf("Decode = %v, want %v", err, c.want)
			}
			if msg := err.Error(); strings.Contains(msg, "%!") || len(msg) < 10 {
				t.Errorf("unreadable message %q", msg)
			}
		})
	}
}

func TestDecodeFormats(t *testing.T) {
	t.Parallel()
	src := testImage(640, 480)
	for _, format := range []string{"jpeg", "png", "gif"} {
		img, got, err := DecodeBytes(context.Background(), encodeTest(t, format, src), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if got != format || img.Rect != image.Rect(0, 0, 640, 480) {
			t.Errorf("%s: got format %q, bounds %v", format, got, img.Rect)
		}
	}
}

// withOrientation inserts an EXIF APP1 segment with the given orientation after a
// JPEG's SOI marker.
func withOrientation(jpg []byte, o uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	binary.Write(&tiff, binary.BigEndian, uint32(8)) // IFD0 offset
	binary.Write(&tiff, binary.BigEndian, uint16(1)) // one entry
	binary.Write(&tiff, binary.BigEndian, uint16(0x0112))
	binary.Write(&tiff, binary.BigEndian, uint16(3)) // SHORT
	binary.Write(&tiff, binary.BigEndian, uint32(1))
	binary.Write(&tiff, binary.BigEndian, o)
	binary.Write(&tiff, binary.BigEndian, uint16(0))
	binary.Write(&tiff, binary.BigEndian, uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

func TestDecodeAppliesEXIFOrientation(t *testing.T) {
	t.Parallel()
	// A 600×400 photo, white with a red block in its stored top-left corner.
	src := image.NewNRGBA(image.Rect(0, 0, 600, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 600; x++ {
			c := color.NRGBA{255, 255, 255, 255}
			if x < 100 && y < 100 {
				c = color.NRGBA{220, 0, 0, 255}
			}
			src.SetNRGBA(x, y, c)
		}
	}
	jpg := encodeTest(t, "jpeg", src)
	cases := []struct {
		orientation uint16
		size        image.Point
		red         image.Point // where the red block ends up
	}{
		{1, image.Pt(600, 400), image.Pt(50, 50)},
		{3, image.Pt(600, 400), image.Pt(550, 350)},
		{6, image.Pt(400, 600), image.Pt(350, 50)}, // phone held upright: rotate 90° clockwise
		{8, image.Pt(400, 600), image.Pt(50, 550)},
	}
	for _, c := range cases {
		img, _, err := DecodeBytes(context.Background(), withOrientation(jpg, c.orientation), Limits{})
		if err != nil {
			t.Fatalf("orientation %d: %v", c.orientation, err)
		}
		if img.Rect.Size() != c.size {
			t.Errorf("orientation %d: size %v, want %v", c.orientation, img.Rect.Size(), c.size)
		}
		if p := img.NRGBAAt(c.red.X, c.red.Y); p.R < 180 || p.G > 60 {
			t.Errorf("orientation %d: pixel %v is %v, want red", c.orientation, c.red, p)
		}
	}
}
