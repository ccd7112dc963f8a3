package imaging

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

func TestRemoveBackgroundMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	nearWhite := color.NRGBA{246, 246, 243, 255}
	grey := color.NRGBA{168, 170, 174, 255}
	cases := []scene{
		{shape: "mug", background: nearWhite, colour: color.NRGBA{200, 40, 40, 255}, noise: 3, shadow: 0.25, quality: 85},
		{shape: "bottle", background: nearWhite, colour: color.NRGBA{30, 90, 160, 255}, noise: 4, shadow: 0.3, gradient: -10, quality: 80},
		{shape: "ball", background: grey, colour: color.NRGBA{240, 200, 40, 255}, noise: 3, shadow: 0.3, quality: 85},
		{shape: "box", background: grey, colour: color.NRGBA{60, 60, 64, 255}, noise: 5, shadow: 0.2, gradient: 12, quality: 75},
		{shape: "mug", background: grey, colour: color.NRGBA{250, 250, 250, 255}, noise: 3, shadow: 0.2, quality: 85},
		{shape: "box", background: nearWhite, colour: color.NRGBA{120, 120, 118, 255}, noise: 3, shadow: 0.35, quality: 85},
	}
	for i, sc := range cases {
		sc.w, sc.h, sc.seed = 900, 700, uint64(i+1)
		t.Run(fmt.Sprintf("%s-on-%d", sc.shape, sc.background.R), func(t *testing.T) {
			t.Parallel()
			img, truth := sc.render(t)
			cut, err := RemoveBackground(img)
			if err != nil {
				t.Fatalf("RemoveBackground: %v", err)
			}
			iou := maskIoU(cut, truth, sc.w, sc.h)
			t.Logf("mask IoU %.4f", iou)
			if iou < 0.95 {
				t.Errorf("mask IoU = %.4f, want ≥ 0.95", iou)
			}
		})
	}
}

func TestRemoveBackgroundRefusesBusyBackground(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	img := image.NewNRGBA(image.Rect(0, 0, 800, 600))
	// A cluttered scene: random coloured blocks with noise, as in a room photo.
	for by := 0; by < 600; by += 40 {
		for bx := 0; bx < 800; bx += 40 {
			c := [3]uint8{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256))}
			for y := by; y < by+40; y++ {
				for x := bx; x < bx+40; x++ {
					o := 4 * (y*800 + x)
					for ch := 0; ch < 3; ch++ {
						img.Pix[o+ch] = uint8(min(255, max(0, int(c[ch])+rng.IntN(41)-20)))
					}
					img.Pix[o+3] = 255
				}
			}
		}
	}
	_, err := RemoveBackground(img)
	if !errors.Is(err, ErrNeedsAIBackgroundRemoval) {
		t.Fatalf("RemoveBackground(busy) = %v, want ErrNeedsAIBackgroundRemoval", err)
	}
}

func TestRemoveBackgroundRefusesTwoSurfaces(t *testing.T) {
	t.Parallel()
	// A product on a wooden table against a white wall: two surfaces meet in the frame.
	sc := scene{w: 800, h: 600, shape: "ball", background: color.NRGBA{245, 245, 245, 255},
		colour: color.NRGBA{30, 120, 60, 255}, noise: 2, seed: 9}
	img, _ := sc.render(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for y := 330; y < 600; y++ {
		for x := 0; x < 800; x++ {
			o := 4 * (y*800 + x)
			grain := uint8(rng.IntN(30))
			img.Pix[o], img.Pix[o+1], img.Pix[o+2] = 140+grain, 90+grain/2, 50
		}
	}
	_, err := RemoveBackground(img)
	if !errors.Is(err, ErrNeedsAIBackgroundRemoval) {
		t.Fatalf("RemoveBackground(two surfaces) = %v, want ErrNeedsAIBackgroundRemoval", err)
	}
}

func TestRemoveBackgroundRefusesFaintOutline(t *testing.T) {
	t.Parallel()
	// A white bottle, shaded grey at its sides, on a grey-blue sweep: its shading passes
	// through the backdrop's colour, so a colour cut would follow the shading.
	sc := scene{w: 900, h: 700, shape: "bottle", background: color.NRGBA{200, 205, 215, 255},
		colour: color.NRGBA{240, 240, 240, 255}, noise: 4, shadow: 0.3, gradient: 40, quality: 70, seed: 8}
	img, _ := sc.render(t)
	_, err := RemoveBackground(img)
	if !errors.Is(err, ErrNeedsAIBackgroundRemoval) {
		t.Fatalf("RemoveBackground(faint outline) = %v, want ErrNeedsAIBackgroundRemoval", err)
	}
}

func TestRemoveBackgroundEmptyBackdrop(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 600, 600))
	for i := range img.Pix {
		img.Pix[i] = 250
	}
	_, err := RemoveBackground(img)
	if !errors.Is(err, ErrNoProduct) {
		t.Fatalf("RemoveBackground(empty) = %v, want ErrNoProduct", err)
	}
}
