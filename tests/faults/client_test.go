//go:build faults

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/auth"
)

// token issues a valid bearer token for user, signed with the suite's secret.
func token(t *testing.T, user string) string {
	t.Helper()
	tok, err := auth.Issue(jwtSecret, user, "authenticated", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// trpcError is a tRPC error envelope's content, with the HTTP status it came with.
type trpcError struct {
	Status  int
	Message string `json:"message"`
	Code    int    `json:"code"`
	Data    struct {
		Code       string `json:"code"`
		HTTPStatus int    `json:"httpStatus"`
	} `json:"data"`
}

func (e *trpcError) Error() string {
	return fmt.Sprintf("tRPC %s (HTTP %d, code %d): %s", e.Data.Code, e.Status, e.Code, e.Message)
}

// api calls one packshot instance over tRPC's HTTP transport.
type api struct {
	base string
	tok  string
}

// call sends one procedure call (GET for a query, POST for a mutation) and decodes the
// result into out (if not nil). An error envelope comes back as a *trpcError.
func (a api) call(ctx context.Context, mutation bool, path string, input, out any) error {
	raw, err := json.Marshal(input)
	if err != nil {
		return err
	}
	var req *http.Request
	if mutation {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/trpc/"+path, bytes.NewReader(raw))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/trpc/"+path+"?input="+url.QueryEscape(string(raw)), nil)
	}
	if err != nil {
		return err
	}
	return a.do(req, out)
}

func (a api) do(req *http.Request, out any) error {
	if a.tok != "" {
		req.Header.Set("Authorization", "Bearer "+a.tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeEnvelope(resp, out)
}

// decodeEnvelope reads a tRPC response: the result's data into out, or the error.
func decodeEnvelope(resp *http.Response, out any) error {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read %s: %w", resp.Request.URL.Path, err)
	}
	var env struct {
		Result *struct {
			Data json.RawMessage `json:"data"`
		} `json:"result"`
		Error *trpcError `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: HTTP %d, not a tRPC envelope: %.300s", resp.Request.URL.Path, resp.StatusCode, body)
	}
	if env.Error != nil {
		env.Error.Status = resp.StatusCode
		return env.Error
	}
	if env.Result == nil {
		return fmt.Errorf("%s: HTTP %d, envelope without result: %.300s", resp.Request.URL.Path, resp.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(env.Result.Data, out)
	}
	return nil
}

// upload calls image.upload with a FormData body holding the photo.
func (a api) upload(ctx context.Context, projectID string, photo []byte, out any) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("projectId", projectID)
	fw, _ := mw.CreateFormFile("file", "photo.jpg")
	_, _ = fw.Write(photo)
	_ = mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/trpc/image.upload", &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return a.do(req, out)
}

// snapshot is the part of a ProjectSnapshot the scenarios look at.
type snapshot struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Version  int64  `json:"version"`
	Progress int    `json:"progress"`
	Source   *struct {
		URL string `json:"url"`
	} `json:"source"`
	Images []struct {
		Type   string  `json:"type"`
		Status string  `json:"status"`
		Error  *string `json:"error"`
	} `json:"images"`
}

// startPack creates a project for the API's user, uploads a small product photo and
// starts its complete pack; it returns the project's id.
func startPack(ctx context.Context, t *testing.T, a api, name string) string {
	t.Helper()
	var s snapshot
	if err := a.call(ctx, true, "project.create", map[string]any{
		"name": name, "title": "Insulated steel bottle, 750 ml",
		"features":   []string{"Keeps drinks cold 24 h", "Leak-proof lid", "BPA free"},
		"dimensions": "8 x 26 x 8 cm",
	}, &s); err != nil {
		t.Fatalf("project.create: %v", err)
	}
	var up snapshot
	if err := a.upload(ctx, s.ID, productPhoto(t, 640, 640), &up); err != nil {
		t.Fatalf("image.upload: %v", err)
	}
	if up.Status != "ready" {
		t.Fatalf("after upload the project is %q; want ready", up.Status)
	}
	var jobs struct {
		Jobs []struct {
			ID string `json:"id"`
		} `json:"jobs"`
	}
	if err := a.call(ctx, true, "image.generateCompletePack", map[string]any{"projectId": s.ID, "idempotencyKey": "pack-" + s.ID}, &jobs); err != nil {
		t.Fatalf("image.generateCompletePack: %v", err)
	}
	if len(jobs.Jobs) != 5 {
		t.Fatalf("generateCompletePack enqueued %d jobs; want 5", len(jobs.Jobs))
	}
	return s.ID
}

// productPhoto is a w×h JPEG of a product on a plain light backdrop, which the local
// engine can cut out.
func productPhoto(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	cx, cy := float64(w)/2, float64(h)/2
	rx, ry := float64(w)*0.22, float64(h)*0.32
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			c := color.RGBA{238, 238, 236, 255}
			if dx*dx+dy*dy <= 1 {
				c = color.RGBA{30, 70, 160, 255}
				if dy > -0.2 && dy < 0.3 {
					v := uint8(200 + (x*7+y*13)%40)
					c = color.RGBA{v, v - 30, 40, 255}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
