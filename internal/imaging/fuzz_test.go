package imaging

import (
	"context"
	"errors"
	"testing"
)

// fuzzLimits keep each fuzzed decode cheap: a megapixel at most, any size from 1 px.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MinLongestSide: 1}

// FuzzDecodeGuard feeds arbitrary bytes to the upload guard (CheckHeader, then
// DecodeBytes). Whatever the input, it must not panic, must refuse with one of the
// package's user-facing errors, and an accepted image must be within the limits the
// header check promised. The seed corpus (testdata/fuzz/FuzzDecodeGuard) holds tiny valid
// JPEG, PNG, GIF and WebP files, a truncated JPEG, a PNG whose header claims 50,000²
// pixels, and a JPEG with an EXIF orientation.
func FuzzDecodeGuard(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\xff\xd8\xff"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("GIF89a"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	userErrors := []error{ErrNotImage, ErrTruncated, ErrCorrupt, ErrTooLarge, ErrTooSmall}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, herr := CheckHeader(data, fuzzLimits)
		img, format, err := DecodeBytes(context.Background(), data, fuzzLimits)
		if err != nil {
			for _, ue := range userErrors {
				if errors.Is(err, ue) {
					return
				}
			}
			t.Fatalf("DecodeBytes refused with an error users cannot act on: %v", err)
		}
		if herr != nil {
			t.Fatalf("DecodeBytes accepted what CheckHeader refused (%v)", herr)
		}
		if format != h.Format {
			t.Fatalf("DecodeBytes says %q, CheckHeader %q", format, h.Format)
		}
		b := img.Bounds()
		if int64(b.Dx())*int64(b.Dy()) > fuzzLimits.MaxPixels || b.Dx() <= 0 || b.Dy() <= 0 {
			t.Fatalf("decoded %v (header %d×%d) is outside the limits", b, h.Width, h.Height)
		}
	})
}
