package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// filesBundle is a FileServer over an FS store, behind a real HTTP server, with a clock
// fixed at signClock.
type filesBundle struct {
	store  Store
	signer *Signer
	url    string
}

func setupFiles(t *testing.T, store Store) *filesBundle {
	t.Helper()
	signer := newTestSigner(t, "file-secret")
	fsrv := NewFileServer(store, signer)
	fsrv.now = func() time.Time { return signClock }
	srv := httptest.NewServer(fsrv)
	t.Cleanup(srv.Close)
	return &filesBundle{store: store, signer: signer, url: srv.URL}
}

func newFSForTest(t *testing.T) Store {
	t.Helper()
	s, err := NewFS(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (b *filesBundle) put(t *testing.T, data []byte, contentType string) string {
	t.Helper()
	key, err := b.store.Put(context.Background(), bytes.NewReader(data), contentType)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func (b *filesBundle) do(t *testing.T, method, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, b.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestFileServer(t *testing.T) {
	t.Parallel()
	testFileServer(t, newFSForTest)
}

// testFileServer checks what a browser sees through signed links, over any store.
func testFileServer(t *testing.T, newStore func(t *testing.T) Store) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("pixels"), 100)...)

	t.Run("serves a signed link", func(t *testing.T) {
		t.Parallel()
		b := setupFiles(t, newStore(t))
		key := b.put(t, png, "image/png")
		resp, body := b.do(t, http.MethodGet, b.signer.URL(key, signClock.Add(time.Hour)))
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, png) {
			t.Fatalf("status %d, %d bytes; want 200 and the %d stored", resp.StatusCode, len(body), len(png))
		}
		for h, want := range map[string]string{
			"Content-Type":           "image/png",
			"Content-Length":         strconv.Itoa(len(png)),
			"ETag":                   `"` + key[:64] + `"`,
			"Cache-Control":          "private, max-age=3600, immutable",
			"X-Content-Type-Options": "nosniff",
			"Accept-Ranges":          "bytes",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s: %q; want %q", h, got, want)
			}
		}
	})

	t.Run("head, range and revalidation", func(t *testing.T) {
		t.Parallel()
		b := setupFiles(t, newStore(t))
		key := b.put(t, png, "image/png")
		link := b.signer.URL(key, signClock.Add(time.Hour))

		resp, body := b.do(t, http.MethodHead, link)
		if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(png)) {
			t.Errorf("HEAD: status %d, body %d bytes, length %q", resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
		}
		resp, body = b.do(t, http.MethodGet, link, "Range", "bytes=8-13")
		if resp.StatusCode != http.StatusPartialContent || string(body) != "pixels" {
			t.Errorf("Range: status %d, body %q; want 206 \"pixels\"", resp.StatusCode, body)
		}
		if cr := resp.Header.Get("Content-Range"); cr != "bytes 8-13/"+strconv.Itoa(len(png)) {
			t.Errorf("Content-Range %q", cr)
		}
		resp, body = b.do(t, http.MethodGet, link, "Range", "bytes=-6")
		if resp.StatusCode != http.StatusPartialContent || string(body) != "pixels" {
			t.Errorf("suffix Range: status %d, body %q", resp.StatusCode, body)
		}
		resp, body = b.do(t, http.MethodGet, link, "If-None-Match", `"`+key[:64]+`"`)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match: status %d, %d bytes; want 304", resp.StatusCode, len(body))
		}
	})

	t.Run("refuses bad links", func(t *testing.T) {
		t.Parallel()
		b := setupFiles(t, newStore(t))
		key := b.put(t, png, "image/png")
		other := b.put(t, []byte("another image"), "image/png")
		good := b.signer.URL(key, signClock.Add(time.Hour))
		_, exp, sig := linkParts(t, good)

		for _, tc := range []struct {
			name, path string
			status     int
			detail     string
		}{
			{"expired", b.signer.URL(key, signClock.Add(-time.Second)), 403, "file link expired"},
			{"signature of another blob", "/files/" + other + "?exp=" + exp + "&sig=" + sig, 403, "file link signature invalid"},
			{"exp changed", "/files/" + key + "?exp=" + exp + "0&sig=" + sig, 403, "file link signature invalid"},
			{"unsigned", "/files/" + key, 403, "file link signature invalid"},
			{"traversal", "/files/..%2f..%2fetc%2fpasswd?exp=" + exp + "&sig=" + sig, 403, "file link signature invalid"},
			{"signed but never stored", b.signer.URL(KeyFor([]byte("nothing"), "image/png"), signClock.Add(time.Hour)), 404, "file not found"},
			{"signed name that is no key", b.signer.URL("passwd", signClock.Add(time.Hour)), 404, "file not found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := b.do(t, http.MethodGet, tc.path)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d; want %d (%s)", resp.StatusCode, tc.status, body)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q", ct)
				}
				var p struct {
					Type, Title, Detail string
					Status              int
				}
				if err := json.Unmarshal(body, &p); err != nil {
					t.Fatalf("body %q: %v", body, err)
				}
				if p.Status != tc.status || p.Detail != tc.detail || p.Title == "" || !strings.HasPrefix(p.Type, "https://") {
					t.Errorf("problem %+v; want status %d, detail %q", p, tc.status, tc.detail)
				}
				if bytes.Contains(body, png[:8]) {
					t.Error("a refused request got the file's bytes")
				}
			})
		}
	})

	t.Run("only GET and HEAD", func(t *testing.T) {
		t.Parallel()
		b := setupFiles(t, newStore(t))
		key := b.put(t, png, "image/png")
		resp, _ := b.do(t, http.MethodDelete, b.signer.URL(key, signClock.Add(time.Hour)))
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("DELETE: status %d; want 405", resp.StatusCode)
		}
		if _, err := b.store.Stat(context.Background(), key); err != nil {
			t.Fatalf("the blob is gone after a refused DELETE: %v", err)
		}
	})
}
