package imaging

import (
	"bytes"
	"context"
	"errors"
	"image/color"
	"image/jpeg"
	"sync"
	"syscall"
	"testing"
	"time"
)

// benchPhoto returns a 12-megapixel (4000 × 3000) product photo as a JPEG file.
func benchPhoto(b *testing.B) []byte {
	b.Helper()
	sc := scene{w: 4000, h: 3000, shape: "mug", background: color.NRGBA{246, 246, 243, 255},
		colour: color.NRGBA{180, 60, 40, 255}, noise: 3, shadow: 0.25, seed: 12}
	img, _ := sc.render(b)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkLocalPack12MP measures one whole local pack from a 12 MP JPEG: decode with
// guards, background removal, then render, encode and check all five image types.
func BenchmarkLocalPack12MP(b *testing.B) {
	data := benchPhoto(b)
	prof, _ := ProfileFor("amazon")
	p := testProduct(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	before := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		img, _, err := DecodeBytes(context.Background(), data, prof.SourceLimits())
		if err != nil {
			b.Fatal(err)
		}
		cut, err := RemoveBackground(img)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range ImageTypes {
			if _, err := Make(t, cut, p, prof); err != nil {
				b.Fatal(err)
			}
		}
	}
	// CPU time per pack does not grow when other processes share the machine, unlike
	// ns/op; peak RSS is the whole test process's high-water mark.
	b.ReportMetric(float64((cpuTime()-before).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident set size in bytes (Linux reports KiB).
func peakRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss << 10
}

// BenchmarkRenderMain12MP measures the main image alone (resample, composite, encode,
// verify, check) from a 12 MP photo's cut-out.
func BenchmarkRenderMain12MP(b *testing.B) {
	data := benchPhoto(b)
	prof, _ := ProfileFor("amazon")
	img, _, err := DecodeBytes(context.Background(), data, prof.SourceLimits())
	if err != nil {
		b.Fatal(err)
	}
	cut, err := RemoveBackground(img)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		RenderMain(cut, prof)
	}
}

// BenchmarkLocalPack12MPConcurrent is BenchmarkLocalPack12MP with the five images made
// concurrently after the cut-out, as `packshot pack` does; on a 2-core machine its ns/op
// is the command's wall time.
func BenchmarkLocalPack12MPConcurrent(b *testing.B) {
	data := benchPhoto(b)
	prof, _ := ProfileFor("amazon")
	p := testProduct(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		img, _, err := DecodeBytes(context.Background(), data, prof.SourceLimits())
		if err != nil {
			b.Fatal(err)
		}
		cut, err := RemoveBackground(img)
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(ImageTypes))
		for i, t := range ImageTypes {
			wg.Go(func() { _, errs[i] = Make(t, cut, p, prof) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
}
