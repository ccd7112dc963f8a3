package imaging

import (
	"fmt"
	"strings"
)

// ImageType is one kind of image in a pack.
type ImageType string

// The image types of a pack, in listing order.
const (
	TypeMain        ImageType = "main"        // product on pure white, the listing's first image
	TypeLifestyle   ImageType = "lifestyle"   // product in a scene
	TypeInfographic ImageType = "infographic" // product with feature callouts
	TypeDimensions  ImageType = "dimensions"  // product with dimension lines
	TypeDetail      ImageType = "detail"      // close-up of the most detailed region
)

// ImageTypes lists every image type in listing order.
var ImageTypes = []ImageType{TypeMain, TypeLifestyle, TypeInfographic, TypeDimensions, TypeDetail}

// ParseImageType returns the ImageType named s, or an error wrapping ErrUnknownImageType.
func ParseImageType(s string) (ImageType, error) {
	for _, t := range ImageTypes {
		if string(t) == s {
			return t, nil
		}
	}
	names := make([]string, len(ImageTypes))
	for i, t := range ImageTypes {
		names[i] = string(t)
	}
	return "", fmt.Errorf("%w %q (valid: %s)", ErrUnknownImageType, s, strings.Join(names, ", "))
}

// Profile is a marketplace's canvas and image rules. The numbers follow the marketplaces'
// published requirements (see docs/ai-apis.md §4).
type Profile struct {
	// Name is the marketplace: "amazon", "etsy" or "shopify".
	Name string `json:"name"`
	// Width and Height are the canvas every image of the pack is rendered at, in pixels.
	Width  int `json:"width"`
	Height int `json:"height"`
	// Quality is the JPEG quality images are encoded with (≥ 90).
	Quality int `json:"quality"`
	// MinFill and MaxFill bound the share of the canvas's longest side the product takes
	// in the main image. The renderer aims between them; CheckMain reports a product
	// below MinFill.
	MinFill float64 `json:"minFill"`
	MaxFill float64 `json:"maxFill"`
	// StrictMain says the marketplace requires the main image on pure white RGB
	// 255,255,255 with the product filling at least MinFill; when false, breaking those
	// is only a warning.
	StrictMain bool `json:"strictMain"`
	// MinLongestSide is the smallest longest side accepted, in pixels; below it is an
	// error. RecommendedLongestSide is the smallest the marketplace recommends (zoom,
	// sharp thumbnails); below it is a warning.
	MinLongestSide         int `json:"minLongestSide"`
	RecommendedLongestSide int `json:"recommendedLongestSide"`
	// MaxLongestSide is the largest longest side accepted, in pixels.
	MaxLongestSide int `json:"maxLongestSide"`
	// MaxBytes is the largest file accepted, in bytes; 0 means no stated limit.
	MaxBytes int64 `json:"maxBytes"`
	// MinSourceSide is the smallest longest side of an uploaded photo, in pixels, that
	// can make this marketplace's images (Limits.MinLongestSide for the upload).
	MinSourceSide int `json:"minSourceSide"`
}

// Marketplaces lists the marketplace names Profiles knows, in a stable order.
var Marketplaces = []string{"amazon", "etsy", "shopify"}

var profiles = map[string]Profile{
	// Amazon: main image on pure white, product ≥ 85 % of the frame, ≥ 1000 px on the
	// longest side for zoom (500 px minimum, 10,000 px maximum), 2000 px square suggested.
	"amazon": {Name: "amazon", Width: 2000, Height: 2000, Quality: 92, MinFill: 0.85, MaxFill: 0.90,
		StrictMain: true, MinLongestSide: 1000, RecommendedLongestSide: 1600, MaxLongestSide: 10000,
		MinSourceSide: 500},
	// Etsy: at least 2000 px recommended, accepted from about 635 px; the thumbnail is a
	// centred crop, so the product stays centred. No white-background rule.
	"etsy": {Name: "etsy", Width: 2000, Height: 2000, Quality: 92, MinFill: 0.85, MaxFill: 0.90,
		StrictMain: false, MinLongestSide: 1000, RecommendedLongestSide: 2000, MaxLongestSide: 10000,
		MinSourceSide: 635},
	// Shopify: 2048 × 2048 recommended, at most 4472 × 4472 and 20 MB.
	"shopify": {Name: "shopify", Width: 2048, Height: 2048, Quality: 92, MinFill: 0.85, MaxFill: 0.90,
		StrictMain: false, MinLongestSide: 1000, RecommendedLongestSide: 2048, MaxLongestSide: 4472,
		MaxBytes: 20 << 20, MinSourceSide: 500},
}

// ProfileFor returns the profile of a marketplace, or an error wrapping
// ErrUnknownMarketplace that lists the valid names.
func ProfileFor(marketplace string) (Profile, error) {
	p, ok := profiles[strings.ToLower(strings.TrimSpace(marketplace))]
	if !ok {
		return Profile{}, fmt.Errorf("%w %q (valid: %s)", ErrUnknownMarketplace, marketplace,
			strings.Join(Marketplaces, ", "))
	}
	return p, nil
}

// SourceLimits returns the decoding limits for a photo uploaded for this marketplace.
func (p Profile) SourceLimits() Limits {
	l := DefaultLimits
	l.MinLongestSide = p.MinSourceSide
	return l
}
