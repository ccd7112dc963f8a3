package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/imaging"
)

// packManifest is manifest.json: what `packshot pack` made, so a seller (or a script)
// can check every file without opening it.
type packManifest struct {
	Marketplace string              `json:"marketplace"`
	Source      packSource          `json:"source"`
	Product     imaging.Product     `json:"product"`
	Images      []packManifestImage `json:"images"`
	// Skipped lists image types that were not made, with the reason.
	Skipped []packSkipped `json:"skipped"`
}

type packSource struct {
	File   string `json:"file"`
	Format string `json:"format"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Cutout says how the product was separated: "local" or the AI remover's name.
	Cutout string `json:"cutout"`
}

type packManifestImage struct {
	Type       imaging.ImageType  `json:"type"`
	File       string             `json:"file"`
	Width      int                `json:"width"`
	Height     int                `json:"height"`
	Bytes      int                `json:"bytes"`
	SHA256     string             `json:"sha256"`
	Provider   string             `json:"provider"`
	Compliance imaging.Compliance `json:"compliance"`
}

type packSkipped struct {
	Type   imaging.ImageType `json:"type"`
	Reason string            `json:"reason"`
}

// cmdPack renders a whole image pack from one photo, offline: no server, no database.
// Only the lifestyle scene can come from an AI provider (-provider openai|gemini); the
// main image is always the real product on white, and all text is rendered locally.
func cmdPack(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "pack")
	in := fs.String("in", "", "the product `photo` (JPEG, PNG, GIF or WebP); required")
	out := fs.String("out", "", "the `directory` to write the images and manifest.json to; required")
	marketplace := fs.String("marketplace", "amazon", "amazon, etsy or shopify")
	title := fs.String("title", "", "the product's title, shown on the infographic and dimensions images")
	var features []string
	fs.Func("feature", fmt.Sprintf("a selling point for the infographic (repeat, up to %d)", imaging.MaxFeatures),
		func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("empty feature")
			}
			features = append(features, s)
			return nil
		})
	dims := fs.String("dimensions", "", `the product's size, e.g. "30 x 20 x 10 cm" (width × height × depth)`)
	provider := fs.String("provider", "local", "who makes the lifestyle scene: local, openai or gemini")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("pack: unexpected argument %q", fs.Arg(0))
	}
	if *in == "" || *out == "" {
		return errors.New("pack: -in and -out are required")
	}
	if len(features) > imaging.MaxFeatures {
		return fmt.Errorf("pack: %d features given; the infographic shows at most %d", len(features), imaging.MaxFeatures)
	}
	prof, err := imaging.ProfileFor(*marketplace)
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	product := imaging.Product{Title: strings.TrimSpace(*title), Features: features}
	if *dims != "" {
		d, err := imaging.ParseDimensions(*dims)
		if err != nil {
			return fmt.Errorf("pack: %w", err)
		}
		product.Dimensions = &d
	}
	cfg := ai.ConfigFromEnv(e.getenv)
	gen, err := lifestyleGenerator(*provider, cfg)
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}

	data, err := os.ReadFile(*in)
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	img, format, err := imaging.DecodeBytes(ctx, data, prof.SourceLimits())
	if err != nil {
		return fmt.Errorf("pack: %s: %w", *in, err)
	}
	m := packManifest{
		Marketplace: prof.Name, Product: product, Images: []packManifestImage{}, Skipped: []packSkipped{},
		Source: packSource{File: filepath.Base(*in), Format: format, Width: img.Rect.Dx(), Height: img.Rect.Dy(),
			Bytes: len(data), SHA256: sha256Hex(data), Cutout: imaging.ProviderLocal},
	}
	cut, err := imaging.RemoveBackground(img)
	if errors.Is(err, imaging.ErrNeedsAIBackgroundRemoval) && cfg.RemoveBGAPIKey != "" {
		cut, err = removeWithAI(ctx, ai.NewRemoveBG(cfg), data)
		m.Source.Cutout = ai.ProviderRemoveBG
	}
	if errors.Is(err, imaging.ErrNeedsAIBackgroundRemoval) {
		return fmt.Errorf("pack: %w (set REMOVEBG_API_KEY to use remove.bg, or photograph the product on a plain backdrop)", err)
	}
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("pack: %w", err)
	}

	// Render the local images in parallel; the machine's cores are the limit.
	outputs := make([]*imaging.Output, len(imaging.ImageTypes))
	errs := make([]error, len(imaging.ImageTypes))
	var wg sync.WaitGroup
	for i, t := range imaging.ImageTypes {
		if t == imaging.TypeLifestyle && gen != nil {
			continue // made from the main image below
		}
		wg.Go(func() { outputs[i], errs[i] = imaging.Make(t, cut, product, prof) })
	}
	wg.Wait()
	if gen != nil {
		i := indexOf(imaging.TypeLifestyle)
		outputs[i], errs[i] = generateLifestyle(ctx, gen, outputs[indexOf(imaging.TypeMain)], product, prof)
	}

	for i, t := range imaging.ImageTypes {
		if errors.Is(errs[i], imaging.ErrMissingProductData) {
			m.Skipped = append(m.Skipped, packSkipped{Type: t, Reason: errs[i].Error()})
			fmt.Fprintf(e.stderr, "packshot pack: skipped %s: %v\n", t, errs[i])
			continue
		}
		if errs[i] != nil {
			return fmt.Errorf("pack: %w", errs[i])
		}
		o := outputs[i]
		file := fmt.Sprintf("%02d-%s.jpg", i+1, t)
		if err := os.WriteFile(filepath.Join(*out, file), o.Data, 0o644); err != nil {
			return fmt.Errorf("pack: %w", err)
		}
		m.Images = append(m.Images, packManifestImage{
			Type: t, File: file, Width: o.Width, Height: o.Height, Bytes: len(o.Data),
			SHA256: sha256Hex(o.Data), Provider: o.Provider, Compliance: o.Compliance,
		})
		verdict := "passes"
		if !o.Compliance.Passed {
			verdict = "FAILS"
		}
		fmt.Fprintf(e.stdout, "%-16s %d×%d %4d KB  %-7s %s %s\n", file, o.Width, o.Height, len(o.Data)>>10,
			o.Provider, verdict, prof.Name)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	_, err = fmt.Fprintf(e.stdout, "wrote %d images and manifest.json to %s\n", len(m.Images), *out)
	return err
}

// lifestyleGenerator returns the AI generator for the lifestyle scene, or nil for the
// local studio render.
func lifestyleGenerator(provider string, cfg ai.Config) (ai.ImageGenerator, error) {
	switch provider {
	case imaging.ProviderLocal:
		return nil, nil
	case ai.ProviderOpenAI:
		if cfg.OpenAIAPIKey == "" {
			return nil, errors.New("-provider openai needs OPENAI_API_KEY")
		}
		return ai.NewOpenAI(cfg), nil
	case ai.ProviderGemini:
		if cfg.GeminiAPIKey == "" {
			return nil, errors.New("-provider gemini needs GEMINI_API_KEY")
		}
		return ai.NewGemini(cfg), nil
	}
	return nil, fmt.Errorf("unknown provider %q (valid: local, openai, gemini)", provider)
}

// generateLifestyle asks gen for a lifestyle scene with the main image (the real product
// on white) as the reference, and fits the answer to the marketplace canvas.
func generateLifestyle(ctx context.Context, gen ai.ImageGenerator, main *imaging.Output, p imaging.Product,
	prof imaging.Profile) (*imaging.Output, error) {
	if main == nil {
		return nil, errors.New("lifestyle: the main image failed, so there is no reference")
	}
	prompt, err := ai.Prompt(ai.KindLifestyle, ai.ProductInfo{Title: p.Title, Features: p.Features})
	if err != nil {
		return nil, fmt.Errorf("lifestyle: %w", err)
	}
	res, err := gen.Generate(ctx, ai.GenerateRequest{Image: main.Data, Prompt: prompt, Aspect: ai.AspectSquare})
	if err != nil {
		return nil, fmt.Errorf("lifestyle from %s: %w", gen.Name(), err)
	}
	r, err := imaging.FromGenerated(ctx, imaging.TypeLifestyle, res.Image, res.Provider, prof)
	if err != nil {
		return nil, err
	}
	return imaging.Finish(r, prof)
}

// removeWithAI cuts the product out with an AI remover (for busy backgrounds) and
// returns the cut-out along the returned alpha channel.
func removeWithAI(ctx context.Context, rm ai.BackgroundRemover, photo []byte) (*imaging.Cutout, error) {
	res, err := rm.RemoveBackground(ctx, photo)
	if err != nil {
		return nil, fmt.Errorf("background removal by %s: %w", rm.Name(), err)
	}
	cutImg, _, err := imaging.DecodeBytes(ctx, res.Image, imaging.Limits{MinLongestSide: 1})
	if err != nil {
		return nil, fmt.Errorf("background removal by %s: %w", rm.Name(), err)
	}
	return imaging.RemoveBackground(cutImg)
}

func indexOf(t imaging.ImageType) int {
	for i, x := range imaging.ImageTypes {
		if x == t {
			return i
		}
	}
	return -1
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
