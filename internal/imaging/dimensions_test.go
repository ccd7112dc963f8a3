package imaging

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDimensions(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want Dimensions
	}{
		{"30 x 20 x 10 cm", Dimensions{30, 20, 10, "cm"}},
		{"12x9x10in", Dimensions{12, 9, 10, "in"}},
		{"30cm × 20cm", Dimensions{30, 20, 0, "cm"}},
		{"4.5 X 3,5 inches", Dimensions{4.5, 3.5, 0, "in"}},
		{` 12" x 9" x 2" `, Dimensions{12, 9, 2, "in"}},
		{"120*60*75 mm", Dimensions{120, 60, 75, "mm"}},
	}
	for _, c := range good {
		got, err := ParseDimensions(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDimensions(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := map[string]string{
		"":                     "empty",
		"30 cm":                "2 or 3 values",
		"30 x 20 x 10":         "no unit",
		"30 x 20 x 10 parsecs": "unknown unit",
		"30 cm x 20 in":        "mixed units",
		"a x 20 x 10 cm":       "not a number",
		"0 x 20 cm":            "positive",
		"1 x 2 x 3 x 4 cm":     "2 or 3 values",
	}
	for in, want := range bad {
		_, err := ParseDimensions(in)
		if !errors.Is(err, ErrInvalidDimensions) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDimensions(%q) = %v; want ErrInvalidDimensions mentioning %q", in, err, want)
		}
	}
	if s := (Dimensions{30, 20, 10, "cm"}).String(); s != "30 × 20 × 10 cm" {
		t.Errorf("String() = %q", s)
	}
}

func TestProfileFor(t *testing.T) {
	t.Parallel()
	for name, size := range map[string]int{"amazon": 2000, "etsy": 2000, "shopify": 2048, " Amazon ": 2000} {
		p, err := ProfileFor(name)
		if err != nil || p.Width != size || p.Height != size || p.Quality < 90 {
			t.Errorf("ProfileFor(%q) = %+v, %v", name, p, err)
		}
	}
	_, err := ProfileFor("ebay")
	if !errors.Is(err, ErrUnknownMarketplace) || !strings.Contains(err.Error(), "amazon, etsy, shopify") {
		t.Errorf("ProfileFor(ebay) = %v; want ErrUnknownMarketplace listing the valid names", err)
	}
}
