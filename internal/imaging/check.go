package imaging

import (
	"context"
	"fmt"
	"image"
	"math"
)

// Severity says whether a violation gets an image rejected (SeverityError) or is a
// recommendation (SeverityWarning).
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Violation codes; stable, for the web app to translate or explain.
const (
	CodeTooSmall         = "too_small"
	CodeBelowRecommended = "below_recommended_size"
	CodeTooLarge         = "too_large"
	CodeNotSquare        = "not_square"
	CodeBorderNotWhite   = "border_not_white"
	CodeNoProduct        = "no_product"
	CodeFillTooLow       = "fill_too_low"
	CodeProductCropped   = "product_touches_edge"
	CodeFormat           = "format_not_accepted"
	CodeFileTooLarge     = "file_too_large"
	CodeUnreadable       = "unreadable"
)

// Violation is one broken marketplace rule.
type Violation struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// Compliance is the result of checking one image against a marketplace profile. It is
// stored with each image so the user sees why it would be rejected.
type Compliance struct {
	Marketplace string    `json:"marketplace"`
	Type        ImageType `json:"type"`
	// Passed is true when there is no violation of SeverityError.
	Passed bool `json:"passed"`
	// Violations lists every broken rule; empty (never null) when there is none.
	Violations   []Violation  `json:"violations"`
	Measurements Measurements `json:"measurements"`
}

// Measurements are what the check measured.
type Measurements struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	// Bytes and Format describe the encoded file (Check only).
	Bytes  int    `json:"bytes,omitempty"`
	Format string `json:"format,omitempty"`
	// FillPercent is the product's extent along the canvas's fuller axis, in percent of
	// that side (main image only).
	FillPercent float64 `json:"fillPercent,omitempty"`
	// BorderNonWhitePixels counts pixels of the outer 4 px frame that are not exactly
	// RGB 255,255,255; BorderDarkest is the darkest channel value among them (main
	// image only).
	BorderNonWhitePixels int   `json:"borderNonWhitePixels"`
	BorderDarkest        uint8 `json:"borderDarkest,omitempty"`
	// ProductBox is the product's bounding box as [x0, y0, x1, y1] (main image only).
	ProductBox *[4]int `json:"productBox,omitempty"`
}

func (c *Compliance) add(code string, sev Severity, format string, args ...any) {
	c.Violations = append(c.Violations, Violation{Code: code, Severity: sev, Message: fmt.Sprintf(format, args...)})
	if sev == SeverityError {
		c.Passed = false
	}
}

// productTolerance: a pixel with a channel further than this from the backdrop colour
// is product. It is above the faint ringing JPEG leaves around edges.
const productTolerance = 7

// CheckMain checks a main image's pixels against the profile: size, squareness, a pure
// white border, and the product's fill of the frame. It returns every violation found.
func CheckMain(img image.Image, prof Profile) Compliance {
	c := checkSize(img.Bounds(), TypeMain, prof)
	n := toNRGBA(img)
	strict := SeverityWarning
	if prof.StrictMain {
		strict = SeverityError
	}
	nonWhite, darkest := borderStats(n)
	c.Measurements.BorderNonWhitePixels = nonWhite
	if nonWhite > 0 {
		c.Measurements.BorderDarkest = darkest
		c.add(CodeBorderNotWhite, strict,
			"%d pixels of the image's border are not pure white RGB 255,255,255 (darkest channel %d)", nonWhite, darkest)
	}
	box := productBounds(n, cornerColour(n))
	if box.Empty() {
		c.add(CodeNoProduct, SeverityError, "no product is visible: the image is blank white")
		return c
	}
	c.Measurements.ProductBox = &[4]int{box.Min.X, box.Min.Y, box.Max.X, box.Max.Y}
	W, H := n.Rect.Dx(), n.Rect.Dy()
	fill := max(float64(box.Dx())/float64(W), float64(box.Dy())/float64(H))
	c.Measurements.FillPercent = math.Round(fill*1000) / 10
	if fill < prof.MinFill {
		c.add(CodeFillTooLow, strict, "the product fills %.1f%% of the frame; at least %.0f%% is required",
			100*fill, 100*prof.MinFill)
	}
	if box.Min.X == 0 || box.Min.Y == 0 || box.Max.X == W || box.Max.Y == H {
		c.add(CodeProductCropped, SeverityWarning, "the product touches the image's edge and may be cut off")
	}
	return c
}

// Check checks an encoded image for its type: the file's format and size, then the
// main image's pixels (CheckMain) or, for other types, the size from the header. A main
// image's decode waits for the decode budget as long as it takes.
func Check(t ImageType, data []byte, prof Profile) Compliance {
	unreadable := func(err error) Compliance {
		c := Compliance{Marketplace: prof.Name, Type: t, Passed: true, Violations: []Violation{}}
		c.add(CodeUnreadable, SeverityError, "the image cannot be read: %v", err)
		return c
	}
	lim := Limits{MaxBytes: math.MaxInt64, MinLongestSide: 1}
	var c Compliance
	var format string
	if t == TypeMain {
		img, f, err := DecodeBytes(context.Background(), data, lim)
		if err != nil {
			return unreadable(err)
		}
		c, format = CheckMain(img, prof), f
	} else {
		h, err := CheckHeader(data, lim)
		if err != nil {
			return unreadable(err)
		}
		c, format = checkSize(image.Rect(0, 0, h.Width, h.Height), t, prof), h.Format
	}
	c.Measurements.Bytes, c.Measurements.Format = len(data), format
	checkFile(&c, format, len(data), prof)
	return c
}

// checkFile adds the violations of an encoded file's format and size.
func checkFile(c *Compliance, format string, size int, prof Profile) {
	if !acceptsFormat(prof, format) {
		c.add(CodeFormat, SeverityError, "%s does not accept %s images", prof.Name, format)
	}
	if prof.MaxBytes > 0 && int64(size) > prof.MaxBytes {
		c.add(CodeFileTooLarge, SeverityError, "the file is %.1f MB; %s accepts at most %d MB",
			float64(size)/(1<<20), prof.Name, prof.MaxBytes>>20)
	}
}

// acceptsFormat reports whether the marketplace takes images in format: JPEG, PNG and
// GIF everywhere; WebP on Shopify only.
func acceptsFormat(prof Profile, format string) bool {
	switch format {
	case "jpeg", "png", "gif":
		return true
	case "webp":
		return prof.Name == "shopify"
	}
	return false
}

func checkSize(b image.Rectangle, t ImageType, prof Profile) Compliance {
	c := Compliance{Marketplace: prof.Name, Type: t, Passed: true, Violations: []Violation{}}
	W, H := b.Dx(), b.Dy()
	c.Measurements.Width, c.Measurements.Height = W, H
	longest := max(W, H)
	switch {
	case longest < prof.MinLongestSide:
		c.add(CodeTooSmall, SeverityError, "the longest side is %d px; %s needs at least %d px",
			longest, prof.Name, prof.MinLongestSide)
	case longest < prof.RecommendedLongestSide:
		c.add(CodeBelowRecommended, SeverityWarning, "the longest side is %d px; %s recommends at least %d px",
			longest, prof.Name, prof.RecommendedLongestSide)
	}
	if prof.MaxLongestSide > 0 && longest > prof.MaxLongestSide {
		c.add(CodeTooLarge, SeverityError, "the longest side is %d px; %s accepts at most %d px",
			longest, prof.Name, prof.MaxLongestSide)
	}
	if W != H {
		c.add(CodeNotSquare, SeverityWarning, "the image is %d×%d; %s recommends square images", W, H, prof.Name)
	}
	return c
}

// cornerColour is the per-channel median of the four corner pixels: the backdrop.
func cornerColour(img *image.NRGBA) [3]uint8 {
	W, H := img.Rect.Dx(), img.Rect.Dy()
	var out [3]uint8
	for c := 0; c < 3; c++ {
		v := []float32{}
		for _, p := range [4][2]int{{0, 0}, {W - 1, 0}, {0, H - 1}, {W - 1, H - 1}} {
			v = append(v, float32(img.Pix[p[1]*img.Stride+4*p[0]+c]))
		}
		out[c] = uint8(medianF(v))
	}
	return out
}

// productBounds is the bounding box of the pixels that differ from the backdrop colour
// bg by more than productTolerance in some channel.
func productBounds(img *image.NRGBA, bg [3]uint8) image.Rectangle {
	differs := func(v, ref uint8) bool {
		return int(v) < int(ref)-productTolerance || int(v) > int(ref)+productTolerance
	}
	W, H := img.Rect.Dx(), img.Rect.Dy()
	minX, minY, maxX, maxY := W, H, -1, -1
	for y := 0; y < H; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*W]
		first, last := -1, -1
		for x := 0; x < W; x++ {
			o := 4 * x
			if differs(row[o], bg[0]) || differs(row[o+1], bg[1]) || differs(row[o+2], bg[2]) {
				if first < 0 {
					first = x
				}
				last = x
			}
		}
		if first >= 0 {
			minX, maxX = min(minX, first), max(maxX, last)
			minY, maxY = min(minY, y), max(maxY, y)
		}
	}
	if maxX < 0 {
		return image.Rectangle{}
	}
	return image.Rect(minX, minY, maxX+1, maxY+1)
}
