package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/imaging"
	"github.com/packshot/packshot/internal/pack"
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

// packRequest is what `packshot pack` was asked to make.
type packRequest struct {
	in, out  string
	prof     imaging.Profile
	product  imaging.Product
	gen      ai.ImageGenerator // nil: the local studio render for the lifestyle scene
	aiConfig ai.Config
}

// cmdPack renders a whole image pack from one photo, offline: no server, no database. It
// makes each image with pack.Render, the engine the image jobs run. Only the lifestyle
// scene can come from an AI provider (-provider openai|gemini); the main image is always
// the real product on white, and all text is rendered locally.
func cmdPack(ctx context.Context, e *env, args []string) error {
	req, err := parsePackArgs(e, args)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(req.in)
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	img, format, err := imaging.DecodeBytes(ctx, data, req.prof.SourceLimits())
	if err != nil {
		return fmt.Errorf("pack: %s: %w", req.in, err)
	}
	m := packManifest{
		Marketplace: req.prof.Name, Product: req.product, Images: []packManifestImage{}, Skipped: []packSkipped{},
		Source: packSource{File: filepath.Base(req.in), Format: format, Width: img.Rect.Dx(), Height: img.Rect.Dy(),
			Bytes: len(data), SHA256: sha256Hex(data)},
	}
	cut, cutoutBy, err := cutOutPhoto(ctx, req.aiConfig, img, data)
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	m.Source.Cutout = cutoutBy
	if err := os.MkdirAll(req.out, 0o755); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	outputs, errs := renderPack(ctx, req, cut)
	for i, t := range imaging.ImageTypes {
		if errors.Is(errs[i], imaging.ErrMissingProductData) {
			m.Skipped = append(m.Skipped, packSkipped{Type: t, Reason: errs[i].Error()})
			fmt.Fprintf(e.stderr, "packshot pack: skipped %s: %v\n", t, errs[i])
			continue
		}
		if errs[i] != nil {
			return fmt.Errorf("pack: %w", errs[i])
		}
		img, err := writePackImage(req.out, i, t, outputs[i])
		if err != nil {
			return fmt.Errorf("pack: %w", err)
		}
		m.Images = append(m.Images, img)
		verdict := "passes"
		if !img.Compliance.Passed {
			verdict = "FAILS"
		}
		fmt.Fprintf(e.stdout, "%-16s %d×%d %4d KB  %-7s %s %s\n", img.File, img.Width, img.Height, img.Bytes>>10,
			img.Provider, verdict, req.prof.Name)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	if err := os.WriteFile(filepath.Join(req.out, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	_, err = fmt.Fprintf(e.stdout, "wrote %d images and manifest.json to %s\n", len(m.Images), req.out)
	return err
}

// parsePackArgs reads and checks `packshot pack`'s flags.
func parsePackArgs(e *env, args []string) (packRequest, error) {
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
		return packRequest{}, err
	}
	if fs.NArg() > 0 {
		return packRequest{}, fmt.Errorf("pack: unexpected argument %q", fs.Arg(0))
	}
	if *in == "" || *out == "" {
		return packRequest{}, errors.New("pack: -in and -out are required")
	}
	if len(features) > imaging.MaxFeatures {
		return packRequest{}, fmt.Errorf("pack: %d features given; the infographic shows at most %d", len(features), imaging.MaxFeatures)
	}
	prof, err := imaging.ProfileFor(*marketplace)
	if err != nil {
		return packRequest{}, fmt.Errorf("pack: %w", err)
	}
	req := packRequest{in: *in, out: *out, prof: prof, aiConfig: ai.ConfigFromEnv(e.getenv),
		product: imaging.Product{Title: strings.TrimSpace(*title), Features: features}}
	if *dims != "" {
		d, err := imaging.ParseDimensions(*dims)
		if err != nil {
			return packRequest{}, fmt.Errorf("pack: %w", err)
		}
		req.product.Dimensions = &d
	}
	if req.gen, err = lifestyleGenerator(*provider, req.aiConfig); err != nil {
		return packRequest{}, fmt.Errorf("pack: %w", err)
	}
	return req, nil
}

// cutOutPhoto separates the product from the photo locally, or with remove.bg when the
// background is too busy and REMOVEBG_API_KEY is set; it returns who cut it out.
func cutOutPhoto(ctx context.Context, cfg ai.Config, img *image.NRGBA, data []byte) (*imaging.Cutout, string, error) {
	cut, err := imaging.RemoveBackground(img)
	by := imaging.ProviderLocal
	if errors.Is(err, imaging.ErrNeedsAIBackgroundRemoval) && cfg.RemoveBGAPIKey != "" {
		cut, err = removeWithAI(ctx, ai.NewRemoveBG(cfg), data)
		by = ai.ProviderRemoveBG
	}
	if errors.Is(err, imaging.ErrNeedsAIBackgroundRemoval) {
		return nil, "", fmt.Errorf("%w (set REMOVEBG_API_KEY to use remove.bg, or photograph the product on a plain backdrop)", err)
	}
	return cut, by, err
}

// renderPack makes every image type in parallel with pack.Render (the machine's cores
// and the AI provider are the limits); the answers are in imaging.ImageTypes' order.
func renderPack(ctx context.Context, req packRequest, cut *imaging.Cutout) ([]*pack.Rendered, []error) {
	outputs := make([]*pack.Rendered, len(imaging.ImageTypes))
	errs := make([]error, len(imaging.ImageTypes))
	var wg sync.WaitGroup
	for i, t := range imaging.ImageTypes {
		wg.Go(func() {
			outputs[i], errs[i] = pack.Render(ctx, req.gen, cut, req.product, string(t), "", req.prof, func(int, string) {})
		})
	}
	wg.Wait()
	return outputs, errs
}

// writePackImage writes the i-th image of the pack, of type t, into dir and returns its
// manifest entry.
func writePackImage(dir string, i int, t imaging.ImageType, o *pack.Rendered) (packManifestImage, error) {
	file := fmt.Sprintf("%02d-%s.jpg", i+1, t)
	if err := os.WriteFile(filepath.Join(dir, file), o.Data, 0o644); err != nil {
		return packManifestImage{}, err
	}
	return packManifestImage{
		Type: t, File: file, Width: o.Width, Height: o.Height, Bytes: len(o.Data),
		SHA256: sha256Hex(o.Data), Provider: o.Provider, Compliance: o.Compliance,
	}, nil
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

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
