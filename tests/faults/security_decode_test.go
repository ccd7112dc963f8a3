//go:build faults

package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/imaging/imagingtest"
)

// decodePeakLimit bounds the serve process's peak resident memory while it decodes the
// bombs below: twice the default decode budget of 768 MiB (the budget bounds the live
// decodes, however many uploads arrive at once; the collector may let the heap grow to
// twice what was live at its last cycle) plus what the process holds besides (under
// 100 MiB). Measured: about 800 MiB with the budget; without it the eight uploads decode
// at once and the peak passes 5 GiB.
const decodePeakLimit = 1800 << 20

// TestDecodeBomb is issue 13 item 2: eight small JPEGs (120–310 KB each) uploaded at
// once, each costing hundreds of megabytes to decode in Go: progressive 4:4:4 and
// progressive CMYK at 40 MP (over the progressive/CMYK pixel limit: refused from the
// header) and at 23.5 MP (accepted, but each must wait for its share of the decode
// budget). Half go through tRPC image.upload, half through POST /api/projects/:id/source.
// Every upload gets a success or a clean 400 saying which limit, the peak memory of the
// server stays under decodePeakLimit, and the server still answers.
func TestDecodeBomb(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := newScenario(t, map[string]string{"PACKSHOT_WORKERS": "2"})
	srv := s.serve(ctx, "serve", nil)
	rss0, peak0 := srv.memory()
	t.Logf("serve memory at start: rss %d MiB, peak %d MiB", rss0>>20, peak0>>20)

	type bomb struct {
		name    string
		jpeg    imagingtest.JPEG
		refused bool // over the progressive/CMYK pixel limit
	}
	var bombs []bomb
	for _, b := range []bomb{
		{"progressive 4:4:4 40 MP", imagingtest.JPEG{Width: 6400, Height: 6250, Progressive: true}, true},
		{"progressive CMYK 40 MP", imagingtest.JPEG{Width: 6400, Height: 6250, Progressive: true, CMYK: true}, true},
		{"progressive 4:4:4 23.5 MP", imagingtest.JPEG{Width: 5600, Height: 4200, Progressive: true}, false},
		{"progressive CMYK 23.5 MP", imagingtest.JPEG{Width: 5600, Height: 4200, Progressive: true, CMYK: true}, false},
	} {
		bombs = append(bombs, b, b)
	}

	a := api{base: srv.baseURL(), tok: token(t, "bomber")}
	projects := make([]string, len(bombs))
	for i := range bombs {
		var p snapshot
		if err := a.call(ctx, true, "project.create", map[string]any{"name": fmt.Sprintf("Bomb %d", i)}, &p); err != nil {
			t.Fatalf("project.create: %v", err)
		}
		projects[i] = p.ID
	}

	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, b := range bombs {
		data := b.jpeg.Bytes()
		what := fmt.Sprintf("%s (%d KB) #%d", b.name, len(data)>>10, i)
		viaREST := i%2 == 1
		wg.Go(func() {
			<-start
			if viaREST {
				body, ct := multipartFile(data)
				r := rawRequest(ctx, t, http.MethodPost, srv.baseURL()+"/api/projects/"+projects[i]+"/source", a.tok, ct, body)
				switch {
				case b.refused:
					wantProblem(t, what+" via REST", r, http.StatusBadRequest)
					if !strings.Contains(string(r.body), "progressive or CMYK") {
						t.Errorf("%s via REST: %.300s; want the progressive/CMYK limit named", what, r.body)
					}
				case r.status != http.StatusOK:
					t.Errorf("%s via REST: HTTP %d %.300s; want it accepted", what, r.status, r.body)
				}
				return
			}
			var up snapshot
			err := a.upload(ctx, projects[i], data, &up)
			var te *trpcError
			switch {
			case b.refused:
				wantTRPCError(t, what+" via tRPC", err, http.StatusBadRequest, "BAD_REQUEST")
				if errors.As(err, &te) && !strings.Contains(te.Message, "progressive or CMYK") {
					t.Errorf("%s via tRPC: %q; want the progressive/CMYK limit named", what, te.Message)
				}
			case err != nil || up.Source == nil:
				t.Errorf("%s via tRPC: %v (source %v); want it accepted", what, err, up.Source)
			}
		})
	}
	close(start)
	wg.Wait()

	if !srv.running() {
		t.Fatal("serve died decoding the bombs")
	}
	if err := a.call(ctx, false, "project.list", map[string]any{}, nil); err != nil {
		t.Errorf("project.list after the bombs: %v", err)
	}
	// The operator sees the refusals, and the budget given back.
	m := rawRequest(ctx, t, http.MethodGet, srv.baseURL()+"/metrics", "", "", nil)
	for _, want := range []string{
		`packshot_decode_refusals_total{reason="costly_pixels"} 4`,
		"packshot_decode_budget_in_use_bytes 0",
	} {
		if !strings.Contains(string(m.body), want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	rss, peak := srv.memory()
	t.Logf("serve memory after the bombs: rss %d MiB, peak %d MiB (limit %d MiB)", rss>>20, peak>>20, decodePeakLimit>>20)
	if peak > decodePeakLimit {
		t.Errorf("serve's peak memory is %d MiB; want under %d MiB", peak>>20, decodePeakLimit>>20)
	}
}

// TestDecodeStrip: a PNG one pixel high and 10,000,000 wide (a few KB; 40 megapixels of
// 16-bit RGBA would cost about 1.1 GB to decode, most of it the decoder's row buffers)
// is refused from its header by the side limit, through tRPC and REST, and the server
// still answers.
func TestDecodeStrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newScenario(t, nil)
	srv := s.serve(ctx, "serve", nil)
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewNRGBA64(image.Rect(0, 0, 10_000_000, 1))); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	a := api{base: srv.baseURL(), tok: token(t, "striper")}
	var p snapshot
	if err := a.call(ctx, true, "project.create", map[string]any{"name": "Strip"}, &p); err != nil {
		t.Fatalf("project.create: %v", err)
	}
	err := a.upload(ctx, p.ID, data, new(snapshot))
	wantTRPCError(t, "strip via tRPC", err, http.StatusBadRequest, "BAD_REQUEST")
	var te *trpcError
	if errors.As(err, &te) && !strings.Contains(te.Message, "no side may be over") {
		t.Errorf("strip via tRPC: %q; want the side limit named", te.Message)
	}
	body, ct := multipartFile(data)
	r := rawRequest(ctx, t, http.MethodPost, srv.baseURL()+"/api/projects/"+p.ID+"/source", a.tok, ct, body)
	wantProblem(t, "strip via REST", r, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "no side may be over") {
		t.Errorf("strip via REST: %.300s; want the side limit named", r.body)
	}
	if !srv.running() {
		t.Fatal("serve died on the strip")
	}
	if err := a.call(ctx, false, "project.list", map[string]any{}, nil); err != nil {
		t.Errorf("project.list after the strip: %v", err)
	}
}
