package imaging

import (
	"encoding/json"
	"image"
	"strings"
	"testing"
)

// mainImage is a canvas with a dark product box of the given fill, centred, on bg.
func mainImage(size int, fill float64, bg [3]uint8) *image.RGBA {
	img := newCanvas(size, size, bg)
	s := int(float64(size) * fill)
	o := (size - s) / 2
	fillRect(img, image.Rect(o, o+s/4, o+s, o+s-s/4), [3]uint8{30, 40, 50})
	return img
}

func codes(c Compliance) string {
	var out []string
	for _, v := range c.Violations {
		out = append(out, v.Code+":"+string(v.Severity))
	}
	return strings.Join(out, ",")
}

func TestCheckMainReportsEveryViolation(t *testing.T) {
	t.Parallel()
	amazon, _ := ProfileFor("amazon")
	etsy, _ := ProfileFor("etsy")
	cases := []struct {
		name   string
		img    image.Image
		prof   Profile
		passed bool
		want   string
	}{
		{"compliant", mainImage(2000, 0.875, white), amazon, true, ""},
		{"grey background, small product", mainImage(2000, 0.6, [3]uint8{254, 254, 254}), amazon, false,
			"border_not_white:error,fill_too_low:error"},
		{"too small and not square", image.NewRGBA(image.Rect(0, 0, 900, 700)), amazon, false,
			"too_small:error,not_square:warning,border_not_white:error,no_product:error"},
		{"blank white", newCanvas(2000, 2000, white), amazon, false, "no_product:error"},
		{"etsy allows a tinted backdrop", mainImage(2000, 0.875, [3]uint8{245, 240, 235}), etsy, true,
			"border_not_white:warning"},
		{"product touches the edge", mainImage(1500, 1.0, white), amazon, false,
			"below_recommended_size:warning,border_not_white:error,product_touches_edge:warning"},
	}
	for _, c := range cases {
		got := CheckMain(c.img, c.prof)
		if got.Passed != c.passed || codes(got) != c.want {
			t.Errorf("%s: passed=%v violations=%q; want passed=%v %q", c.name, got.Passed, codes(got), c.passed, c.want)
		}
	}
	// The result is stored as JSON next to the image.
	b, err := json.Marshal(CheckMain(mainImage(2000, 0.875, white), amazon))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"violations":[]`) || !strings.Contains(s, `"fillPercent":87.5`) {
		t.Errorf("JSON = %s", s)
	}
}

func TestCheckFileFormat(t *testing.T) {
	t.Parallel()
	amazon, _ := ProfileFor("amazon")
	c := Check(TypeLifestyle, []byte("not an image"), amazon)
	if c.Passed || codes(c) != "unreadable:error" {
		t.Errorf("Check(garbage) = %+v", c)
	}
	data := encodeTest(t, "png", mainImage(2000, 0.875, white))
	if c := Check(TypeMain, data, amazon); !c.Passed || c.Measurements.Format != "png" {
		t.Errorf("Check(main PNG) = %+v", c)
	}
}

func TestEncodeMainRepairsItsBorder(t *testing.T) {
	t.Parallel()
	amazon, _ := ProfileFor("amazon")
	// A main image with off-white specks in its outer frame (dust, a stray pixel of a
	// backdrop): the encoded border would not be pure white.
	img := mainImage(2000, 0.875, white)
	fillRect(img, image.Rect(0, 700, 3, 900), [3]uint8{250, 250, 250})
	fillRect(img, image.Rect(1000, 1995, 1100, 2000), [3]uint8{240, 240, 240})
	data, err := Encode(&Rendered{Type: TypeMain, Image: img}, amazon)
	if err != nil {
		t.Fatal(err)
	}
	if c := Check(TypeMain, data, amazon); !c.Passed || c.Measurements.BorderNonWhitePixels != 0 {
		t.Errorf("encoded main image: %+v", c)
	}
}
