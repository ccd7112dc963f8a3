package imaging

import (
	"fmt"
	"image"
)

// Product is the project data the renderers draw next to the product.
type Product struct {
	// Title is the product's name, shown on the infographic and dimensions images.
	Title string `json:"title"`
	// Features are short selling points; the infographic shows the first MaxFeatures.
	Features []string `json:"features"`
	// Dimensions are the product's measured size; nil when unknown.
	Dimensions *Dimensions `json:"dimensions,omitempty"`
}

// MaxFeatures is how many features the infographic shows.
const MaxFeatures = 5

// ProviderLocal is the provider name of images rendered by this package.
const ProviderLocal = "local"

// Rendered is one image of a pack, before encoding.
type Rendered struct {
	// Type is the image type.
	Type ImageType
	// Image is the canvas at the profile's size, opaque.
	Image *image.RGBA
	// Provider is who made the image: ProviderLocal here, or an AI provider's name for
	// images made by FromGenerated.
	Provider string
	// ProductRect is where the product is drawn on Image (empty for generated images).
	ProductRect image.Rectangle
	// TextRects are the areas covered by text and callouts, which never overlap
	// ProductRect.
	TextRects []image.Rectangle
}

// Render draws one image type from a cut-out for a marketplace profile. Errors wrap
// ErrUnknownImageType or ErrMissingProductData.
func Render(t ImageType, cut *Cutout, p Product, prof Profile) (*Rendered, error) {
	var r *Rendered
	var err error
	switch t {
	case TypeMain:
		r = RenderMain(cut, prof)
	case TypeLifestyle:
		r = RenderLifestyle(cut, prof)
	case TypeInfographic:
		r, err = RenderInfographic(cut, p, prof)
	case TypeDimensions:
		r, err = RenderDimensions(cut, p, prof)
	case TypeDetail:
		r = RenderDetail(cut, prof)
	default:
		_, err = ParseImageType(string(t))
	}
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t, err)
	}
	return r, nil
}

// white is pure white, the main image's required background.
var white = [3]uint8{255, 255, 255}

// mainFill is the share of the canvas's longest side the main image's product takes:
// the middle of the 85–90 % band, so resampling and JPEG cannot push it out.
const mainFill = 0.875

// RenderMain centres the product on pure white so that it fills mainFill of the
// canvas's longest side.
func RenderMain(cut *Cutout, prof Profile) *Rendered {
	canvas := newCanvas(prof.Width, prof.Height, white)
	fill := clampF(mainFill, float32(prof.MinFill)+0.01, float32(prof.MaxFill)-0.01)
	rect := placeCentred(cut, canvas.Rect, float64(fill))
	over(canvas, scaleCutout(cut.Image, cut.Image.Rect, rect.Dx(), rect.Dy()), rect.Min)
	return &Rendered{Type: TypeMain, Image: canvas, Provider: ProviderLocal, ProductRect: rect}
}

// placeCentred returns the rectangle, centred in area, where the cut-out fits with its
// longer side (relative to area) at fill of area's matching side.
func placeCentred(cut *Cutout, area image.Rectangle, fill float64) image.Rectangle {
	w, h := fitSize(cut.Image.Rect, int(float64(area.Dx())*fill+0.5), int(float64(area.Dy())*fill+0.5))
	x := area.Min.X + (area.Dx()-w)/2
	y := area.Min.Y + (area.Dy()-h)/2
	return image.Rect(x, y, x+w, y+h)
}

// placeIn returns the largest rectangle with the cut-out's aspect ratio inside area,
// centred horizontally and aligned to area's bottom when bottom is true (else centred).
func placeIn(cut *Cutout, area image.Rectangle, bottom bool) image.Rectangle {
	w, h := fitSize(cut.Image.Rect, area.Dx(), area.Dy())
	x := area.Min.X + (area.Dx()-w)/2
	y := area.Min.Y + (area.Dy()-h)/2
	if bottom {
		y = area.Max.Y - h
	}
	return image.Rect(x, y, x+w, y+h)
}
