package imaging

import (
	"context"
	"fmt"
	"image"
)

// Output is one finished image of a pack: encoded, measured and checked.
type Output struct {
	Type     ImageType `json:"type"`
	Data     []byte    `json:"-"`
	Width    int       `json:"width"`
	Height   int       `json:"height"`
	Provider string    `json:"provider"`
	// ContentType is the file's MIME type ("image/jpeg").
	ContentType string     `json:"contentType"`
	Compliance  Compliance `json:"compliance"`
}

// Make renders, encodes and checks one image type from a cut-out: the whole job for one
// image of a pack after decoding and background removal.
// Its decodes wait for the decode budget as long as it takes (see MakeContext).
func Make(t ImageType, cut *Cutout, p Product, prof Profile) (*Output, error) {
	return MakeContext(context.Background(), t, cut, p, prof)
}

// MakeContext is Make whose decodes wait for the decode budget until ctx ends
// (ErrDecodeBusy).
func MakeContext(ctx context.Context, t ImageType, cut *Cutout, p Product, prof Profile) (*Output, error) {
	r, err := Render(t, cut, p, prof)
	if err != nil {
		return nil, err
	}
	return FinishContext(ctx, r, prof)
}

// Finish encodes and checks a rendered image. Its decodes wait for the decode budget as
// long as it takes (see FinishContext).
func Finish(r *Rendered, prof Profile) (*Output, error) {
	return FinishContext(context.Background(), r, prof)
}

// FinishContext is Finish whose decodes wait for the decode budget until ctx ends
// (ErrDecodeBusy).
func FinishContext(ctx context.Context, r *Rendered, prof Profile) (*Output, error) {
	data, decoded, err := encode(ctx, r, prof)
	if err != nil {
		return nil, fmt.Errorf("%s image: %w", r.Type, err)
	}
	var c Compliance
	if decoded != nil {
		// The main image was decoded once already to verify its border; check that.
		c = CheckMain(decoded, prof)
		c.Measurements.Bytes, c.Measurements.Format = len(data), "jpeg"
		checkFile(&c, "jpeg", len(data), prof)
	} else {
		c = Check(r.Type, data, prof)
	}
	return &Output{
		Type: r.Type, Data: data, Width: r.Image.Rect.Dx(), Height: r.Image.Rect.Dy(),
		Provider: r.Provider, ContentType: "image/jpeg", Compliance: c,
	}, nil
}

// FromGenerated fits an image made by an AI provider (for a type other than main) to
// the profile's canvas, cropping the longer side so it fills the frame, and labels it
// with the provider. data is the provider's PNG, JPEG or WebP; its decode waits for the
// decode budget until ctx ends.
func FromGenerated(ctx context.Context, t ImageType, data []byte, provider string, prof Profile) (*Rendered, error) {
	if t == TypeMain {
		return nil, fmt.Errorf("the main image is never AI-generated: render it with RenderMain")
	}
	img, _, err := DecodeBytes(ctx, data, Limits{MinLongestSide: 256})
	if err != nil {
		return nil, fmt.Errorf("generated %s image: %w", t, err)
	}
	W, H := prof.Width, prof.Height
	b := img.Rect
	// Largest crop of the generated image with the canvas's aspect ratio, centred.
	cw, ch := b.Dx(), b.Dx()*H/W
	if ch > b.Dy() {
		cw, ch = b.Dy()*W/H, b.Dy()
	}
	crop := image.Rect((b.Dx()-cw)/2, (b.Dy()-ch)/2, (b.Dx()-cw)/2+cw, (b.Dy()-ch)/2+ch)
	canvas := newCanvas(W, H, white)
	over(canvas, scaleCutout(img, crop, W, H), image.Point{})
	return &Rendered{Type: t, Image: canvas, Provider: provider}, nil
}
