package pack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/imaging"
)

// made is one finished image, ready to be stored and recorded.
type made struct {
	data       []byte
	width      int
	height     int
	mime       string
	provider   string
	model      string
	prompt     string
	compliance Compliance
	costUSD    float64
}

// progressFunc reports a job's progress (0–100) and stage.
type progressFunc func(percent int, stage string)

// errPermanent marks an error that retrying cannot fix: the job fails at once with its
// message.
type errPermanent struct{ msg string }

// Error is the message with "(packshot)" after it: the mark PublicError shows users a
// failure by (as "(openai, …)" marks an AI service's), without the mark.
func (e *errPermanent) Error() string { return e.msg + " (packshot)" }

func permanent(format string, args ...any) error {
	return &errPermanent{msg: fmt.Sprintf(format, args...)}
}

// productOf is the project data the renderers draw.
func productOf(p db.Project) imaging.Product {
	prod := imaging.Product{Title: p.Title, Features: p.Features}
	if p.DimUnit != "" {
		prod.Dimensions = &imaging.Dimensions{Width: p.DimWidth, Height: p.DimHeight, Depth: p.DimDepth, Unit: p.DimUnit}
	}
	return prod
}

// canMake reports whether the project has the data an image type needs: features for
// the infographic, dimensions for the dimensions image.
func canMake(p db.Project, t string) bool {
	switch t {
	case TypeInfographic:
		return len(p.Features) > 0
	case TypeDimensions:
		return p.DimUnit != ""
	}
	return true
}

// makeImage makes one image of type t for the project from its photo.
func (h *Handlers) makeImage(ctx context.Context, p db.Project, src db.SourceImage, t, customPrompt string, progress progressFunc) (*made, error) {
	prof, err := h.cfg.ProfileFunc(p.Marketplace)
	if err != nil {
		return nil, permanent("%v", err)
	}
	progress(10, "cutting out the product")
	cut, err := h.cutout(ctx, p, src)
	if err != nil {
		return nil, err
	}
	r, err := Render(ctx, h.cfg.Providers.Generator, cut, productOf(p), t, customPrompt, prof, progress)
	if errors.Is(err, imaging.ErrMissingProductData) {
		return nil, permanent("%v: add it to the project, then retry", err)
	}
	if err != nil {
		return nil, err
	}
	m := &made{data: r.Data, width: r.Width, height: r.Height, mime: r.ContentType, provider: ProviderLocal,
		model: r.Model, prompt: r.Prompt, compliance: complianceOf(r.Compliance), costUSD: r.CostUSD}
	if r.Generated {
		m.provider = r.Provider
	}
	return m, nil
}

// Rendered is one image the engine made.
type Rendered struct {
	// Output is the encoded image, its size, its provider and its compliance check.
	*imaging.Output
	// Generated says an AI service made the image; Model and Prompt say how, CostUSD
	// what it charged.
	Generated bool
	Model     string
	Prompt    string
	CostUSD   float64
}

// Render makes one image of type t from the product's cut-out: a custom image, or a
// lifestyle scene when gen is not nil, by asking gen with the cut-out as its reference;
// every other image with the local engine. It is the engine the image jobs run and
// `packshot pack` calls; progress hears its stages. An image the product lacks the data
// for fails with imaging.ErrMissingProductData; a custom image without gen, a prompt
// that cannot be made, or a generated image packshot cannot use fail with a permanent
// error; the generator's errors are returned as they are.
func Render(ctx context.Context, gen ai.ImageGenerator, cut *imaging.Cutout, prod imaging.Product, t, customPrompt string,
	prof imaging.Profile, progress func(percent int, stage string)) (*Rendered, error) {
	if t == TypeCustom || (t == TypeLifestyle && gen != nil) {
		if gen == nil {
			return nil, permanent("custom images need an AI image service: set OPENAI_API_KEY or GEMINI_API_KEY")
		}
		return generate(ctx, gen, prod, cut, t, customPrompt, prof, progress)
	}
	progress(50, "rendering")
	out, err := imaging.MakeContext(ctx, imaging.ImageType(t), cut, prod, prof)
	if errors.Is(err, imaging.ErrMissingProductData) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t, err)
	}
	return &Rendered{Output: out}, nil
}

// generate asks the AI generator for a lifestyle or custom image from the cut-out.
func generate(ctx context.Context, gen ai.ImageGenerator, prod imaging.Product, cut *imaging.Cutout, t, customPrompt string,
	prof imaging.Profile, progress progressFunc) (*Rendered, error) {
	prompt, err := ai.Prompt(t, ai.ProductInfo{Title: prod.Title, Features: prod.Features, CustomPrompt: customPrompt})
	if err != nil {
		return nil, permanent("%v", err)
	}
	var ref bytes.Buffer
	if err := png.Encode(&ref, cut.Image); err != nil {
		return nil, fmt.Errorf("encode reference image: %w", err)
	}
	progress(30, "generating with "+gen.Name())
	res, err := gen.Generate(ctx, ai.GenerateRequest{Image: ref.Bytes(), Prompt: prompt, Aspect: ai.AspectSquare})
	if err != nil {
		return nil, err
	}
	progress(80, "finishing")
	r, err := imaging.FromGenerated(ctx, imaging.ImageType(t), res.Image, res.Provider, prof)
	if errors.Is(err, imaging.ErrDecodeBusy) {
		return nil, err // the job ended while waiting for the decode budget: try again
	}
	if err != nil {
		return nil, permanent("%s returned an image packshot cannot use: %v", gen.Name(), err)
	}
	out, err := imaging.FinishContext(ctx, r, prof)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", t, err)
	}
	out.Provider = res.Provider
	return &Rendered{Output: out, Generated: true, Model: res.Model, Prompt: prompt, CostUSD: res.CostUSD}, nil
}

// complianceOf converts the imaging check result to the stored shape.
func complianceOf(c imaging.Compliance) Compliance {
	out := Compliance{OK: c.Passed, Violations: make([]Violation, 0, len(c.Violations))}
	for _, v := range c.Violations {
		out.Violations = append(out.Violations, Violation{Code: v.Code, Message: v.Message, Severity: string(v.Severity)})
	}
	return out
}

// cutoutCall is one cut-out in progress, shared by the jobs that need it at once.
type cutoutCall struct {
	done chan struct{}
	cut  *imaging.Cutout
	err  error
}

// cutout returns the product cut out of the project's photo: the cached one if the
// photo has it, else made now (remove.bg when configured, else locally), cached in
// storage and recorded with its cost. Jobs of one pack running at once on this instance
// share one call, so a pack pays remove.bg once.
func (h *Handlers) cutout(ctx context.Context, p db.Project, src db.SourceImage) (*imaging.Cutout, error) {
	if src.CutoutKey != "" {
		if cut, err := h.loadCutout(ctx, src.CutoutKey); err == nil {
			return cut, nil
		}
	}
	h.cutoutMu.Lock()
	call, ok := h.cutoutCalls[src.StorageKey]
	if !ok {
		call = &cutoutCall{done: make(chan struct{})}
		h.cutoutCalls[src.StorageKey] = call
		go func() {
			// The shared call must not die with the first job's context.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
			defer cancel()
			call.cut, call.err = h.makeCutout(cctx, p, src)
			h.cutoutMu.Lock()
			delete(h.cutoutCalls, src.StorageKey)
			h.cutoutMu.Unlock()
			close(call.done)
		}()
	}
	h.cutoutMu.Unlock()
	select {
	case <-call.done:
		return call.cut, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *Handlers) loadCutout(ctx context.Context, key string) (*imaging.Cutout, error) {
	data, err := h.cfg.Blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	img, _, err := imaging.DecodeBytes(ctx, data, imaging.Limits{MinLongestSide: 1})
	if err != nil {
		return nil, err
	}
	return imaging.RemoveBackground(img)
}

func (h *Handlers) makeCutout(ctx context.Context, p db.Project, src db.SourceImage) (*imaging.Cutout, error) {
	// A job that read the photo's row before another job recorded its cut-out finds it
	// here, instead of paying for it again.
	if cur, err := h.store.SourceImageGet(ctx, p.ID); err == nil && cur.StorageKey == src.StorageKey && cur.CutoutKey != "" {
		if cut, err := h.loadCutout(ctx, cur.CutoutKey); err == nil {
			return cut, nil
		}
	}
	photo, err := h.cfg.Blobs.Get(ctx, src.StorageKey)
	if err != nil {
		return nil, fmt.Errorf("load photo: %w", err)
	}
	provider := ProviderLocal
	var cost float64
	var img = photo
	if rm := h.cfg.Providers.BackgroundRemover; rm != nil {
		res, err := rm.RemoveBackground(ctx, photo)
		if err != nil {
			return nil, err
		}
		img, provider, cost = res.Image, rm.Name(), res.CostUSD
	}
	decoded, _, err := imaging.DecodeBytes(ctx, img, imaging.Limits{MinLongestSide: 1})
	if errors.Is(err, imaging.ErrDecodeBusy) {
		return nil, err // the job ended while waiting for the decode budget: try again
	}
	if err != nil {
		return nil, permanent("cannot read the photo: %v", err)
	}
	cut, err := imaging.RemoveBackground(decoded)
	switch {
	case errors.Is(err, imaging.ErrNeedsAIBackgroundRemoval):
		return nil, permanent("the photo's background is not plain enough to cut the product out locally: " +
			"upload a photo on a plain background, or configure remove.bg (REMOVEBG_API_KEY)")
	case errors.Is(err, imaging.ErrNoProduct):
		return nil, permanent("no product could be found in the photo")
	case err != nil:
		return nil, fmt.Errorf("cut out product: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, cut.Image); err != nil {
		return nil, fmt.Errorf("encode cut-out: %w", err)
	}
	key, err := h.cfg.Blobs.Put(ctx, buf.Bytes(), "image/png")
	if err != nil {
		return nil, fmt.Errorf("store cut-out: %w", err)
	}
	var change *Change
	// Locks in the order of record and of an enqueue: the project, its photo, then the
	// user's spend, so that none of them can deadlock with this (and lose a paid cut-out).
	err = h.store.InTx(ctx, func(q db.Querier) error {
		if _, err := q.ProjectLock(ctx, p.ID); db.IsNotFound(err) {
			// Deleted meanwhile: nothing to record but what the provider charged.
			return recordSpendTx(ctx, q, p.UserID, cost)
		} else if err != nil {
			return fmt.Errorf("lock project: %w", err)
		}
		if _, err := q.SourceImageSetCutout(ctx, db.SourceImageSetCutoutParams{
			ProjectID: p.ID, StorageKey: src.StorageKey, CutoutKey: key, CutoutProvider: provider}); err != nil {
			return fmt.Errorf("record cut-out: %w", err)
		}
		if cost > 0 {
			pr, err := q.ProjectAddCost(ctx, db.ProjectAddCostParams{ID: p.ID, CostUsd: cost})
			if err != nil {
				return fmt.Errorf("record cut-out cost: %w", err)
			}
			change = &Change{ProjectID: pr.ID, UserID: pr.UserID, Version: pr.Version}
		}
		return recordSpendTx(ctx, q, p.UserID, cost)
	})
	if err != nil {
		return nil, err
	}
	if change != nil {
		h.cfg.Announcer.ProjectChanged(*change)
	}
	return cut, nil
}
