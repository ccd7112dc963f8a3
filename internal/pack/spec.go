package pack

import (
	"fmt"
	"strings"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/imaging"
)

// The image types. Each is made by one job of kind "image.<type>".
const (
	TypeMain        = "main"
	TypeLifestyle   = "lifestyle"
	TypeInfographic = "infographic"
	TypeDimensions  = "dimensions"
	TypeDetail      = "detail"
	TypeCustom      = "custom"
)

// Types lists every image type a job can make, in the order the API lists them.
var Types = []string{TypeMain, TypeLifestyle, TypeInfographic, TypeDimensions, TypeDetail, TypeCustom}

// Provider names recorded with each image. ProviderLocal is packshot's own engine.
const (
	ProviderLocal    = "local"
	ProviderOpenAI   = ai.ProviderOpenAI
	ProviderGemini   = ai.ProviderGemini
	ProviderRemoveBG = ai.ProviderRemoveBG
)

// KindPrefix starts every image job's kind.
const KindPrefix = "image."

// Kind returns the job kind that makes images of type t ("image.main").
func Kind(t string) string { return KindPrefix + t }

// TypeOfKind returns the image type a job kind makes, and false for a kind that is not an
// image job.
func TypeOfKind(kind string) (string, bool) {
	t, ok := strings.CutPrefix(kind, KindPrefix)
	if !ok || !validType(t) {
		return "", false
	}
	return t, true
}

// imageKinds returns every image job kind.
func imageKinds() []string {
	out := make([]string, len(Types))
	for i, t := range Types {
		out[i] = Kind(t)
	}
	return out
}

func validType(t string) bool {
	for _, v := range Types {
		if v == t {
			return true
		}
	}
	return false
}

// ParseType checks an image type from user input; the error lists the valid ones.
func ParseType(s string) (string, error) {
	if validType(s) {
		return s, nil
	}
	return "", fmt.Errorf("unknown image type %q (valid: %s)", s, strings.Join(Types, ", "))
}

// ParseMarketplace checks a marketplace from user input: "" means amazon; the error
// lists the valid ones.
func ParseMarketplace(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "amazon", nil
	}
	if _, err := imaging.ProfileFor(s); err != nil {
		return "", fmt.Errorf("unknown marketplace %q (valid: %s)", s, strings.Join(imaging.Marketplaces, ", "))
	}
	return s, nil
}

// packOrders is the complete pack per marketplace, in listing order: the file order of
// pack.zip and the order of the snapshot's image slots. Amazon leads with the white main
// image and puts the infographic early (shoppers skim callouts on mobile); Etsy and
// Shopify buyers look for the product in use and close up before the diagrams.
var packOrders = map[string][]string{
	"amazon":  {TypeMain, TypeLifestyle, TypeInfographic, TypeDimensions, TypeDetail},
	"etsy":    {TypeMain, TypeLifestyle, TypeDetail, TypeInfographic, TypeDimensions},
	"shopify": {TypeMain, TypeLifestyle, TypeDetail, TypeInfographic, TypeDimensions},
}

// PackTypes returns the image types of a marketplace's complete pack, in listing order.
// An unknown marketplace gets Amazon's pack.
func PackTypes(marketplace string) []string {
	if o, ok := packOrders[marketplace]; ok {
		return o
	}
	return packOrders["amazon"]
}

// Providers are the outside services a pack may use; a nil field is not configured and
// the local engine (or nothing, for custom images) takes its place.
type Providers struct {
	// BackgroundRemover cuts the product out (remove.bg). Nil: the local engine does it.
	BackgroundRemover ai.BackgroundRemover
	// Generator makes lifestyle and custom images (OpenAI, else Gemini). Nil: lifestyle
	// images are rendered locally and custom images cannot be made.
	Generator ai.ImageGenerator
}

// ProvidersFrom picks the pack's providers from the configured AI clients: remove.bg for
// background removal; OpenAI, else Gemini, for generation.
func ProvidersFrom(p ai.Providers) Providers {
	return Providers{BackgroundRemover: p.BackgroundRemover(), Generator: p.Generator("")}
}

// CutoutProvider names who removes backgrounds: "removebg" or "local".
func (p Providers) CutoutProvider() string {
	if p.BackgroundRemover != nil {
		return p.BackgroundRemover.Name()
	}
	return ProviderLocal
}

// ImageProvider names who makes an image of type t: the generator for lifestyle and
// custom images when one is configured, else the local engine. It returns "" for a custom
// image without a generator, which cannot be made.
func (p Providers) ImageProvider(t string) string {
	switch t {
	case TypeLifestyle:
		if p.Generator != nil {
			return p.Generator.Name()
		}
		return ProviderLocal
	case TypeCustom:
		if p.Generator != nil {
			return p.Generator.Name()
		}
		return ""
	default:
		return ProviderLocal
	}
}
