package aitest

import (
	"bytes"
	"image/png"
	"testing"
)

// The hand-made PNG decodes (checksums included) to exactly the painted
// pixels, for every pixel format and widths that leave odd remainders.
func TestEncodeRowsDecodesToThePaintedPixels(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{1, 1}, {7, 5}, {97, 61}, {260, 3}, {300, 200}} {
		for _, bpp := range []int{1, 3, 4} {
			w, h := size[0], size[1]
			p := newPainter(w, h, bpp, bpp != 3)
			img, err := png.Decode(bytes.NewReader(encodeRows(w, h, bpp, p.row)))
			if err != nil {
				t.Fatalf("%dx%d bpp %d: %v", w, h, bpp, err)
			}
			want := make([]byte, w*bpp)
			for y := range h {
				p.row(y, want)
				for x := range w {
					r, g, b, a := img.At(x, y).RGBA()
					got := []byte{byte(r >> 8), byte(g >> 8), byte(b >> 8), byte(a >> 8)}
					px := want[x*bpp : (x+1)*bpp]
					var exp []byte
					switch bpp {
					case 1:
						exp = []byte{px[0], px[0], px[0], 255}
					case 3:
						exp = []byte{px[0], px[1], px[2], 255}
					case 4:
						exp = px
						if px[3] == 0 {
							exp = []byte{0, 0, 0, 0}
						}
					}
					if !bytes.Equal(got, exp) {
						t.Fatalf("%dx%d bpp %d: pixel (%d,%d) = %v, want %v", w, h, bpp, x, y, got, exp)
					}
				}
			}
		}
	}
}
