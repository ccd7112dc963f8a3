package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesTheAppForClientRoutes(t *testing.T) {
	t.Parallel()
	h := Handler()
	for _, target := range []string{"/", "/index.html", "/projects/7b1c", "/projects/new", "/jobs", "/signin?next=%2F"} {
		rec := get(t, h, http.MethodGet, target, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d, want 200", target, rec.Code)
		}
		if !strings.Contains(rec.Body.String(), `<main id="main"`) {
			t.Fatalf("GET %s: body is not the app's index.html", target)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Fatalf("GET %s: Cache-Control %q, want no-cache", target, got)
		}
	}
}

func TestHandlerRevalidatesIndexWithETag(t *testing.T) {
	t.Parallel()
	h := Handler()
	first := get(t, h, http.MethodGet, "/", nil)
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("index.html has no ETag")
	}
	again := get(t, h, http.MethodGet, "/projects/1", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match: status %d, want 304", again.Code)
	}
}

func TestHandlerCachesHashedAssetsForever(t *testing.T) {
	t.Parallel()
	assets, err := fs.Glob(Dist(), "assets/*")
	if err != nil || len(assets) == 0 {
		t.Fatalf("no built assets embedded (run web/build.sh): %v", err)
	}
	h := Handler()
	for _, a := range assets {
		rec := get(t, h, http.MethodGet, "/"+a, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /%s: status %d", a, rec.Code)
		}
		if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Fatalf("GET /%s: Cache-Control %q, want immutable", a, got)
		}
		wantType := map[bool]string{true: "text/javascript", false: "text/css"}[strings.HasSuffix(a, ".js")]
		if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, wantType) {
			t.Fatalf("GET /%s: Content-Type %q, want %s", a, got, wantType)
		}
	}
}

func TestHandlerAnswersNotFoundOutsideTheApp(t *testing.T) {
	t.Parallel()
	h := Handler()
	for _, target := range []string{"/assets/missing-ABC.js", "/favicon.ico", "/api/nope", "/trpc/nope", "/files/x", "/ws"} {
		if rec := get(t, h, http.MethodGet, target, nil); rec.Code != http.StatusNotFound {
			t.Fatalf("GET %s: status %d, want 404", target, rec.Code)
		}
	}
	if rec := get(t, h, http.MethodPost, "/", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /: status %d, want 405", rec.Code)
	}
	if rec := get(t, h, http.MethodHead, "/projects/1", nil); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: status %d, %d body bytes; want 200 and none", rec.Code, rec.Body.Len())
	}
}
