// Package web embeds the browser app built into web/dist (see web/build.sh)
// and serves it: hashed assets cached for a year, index.html revalidated on
// every load, and index.html for every client-side route such as
// /projects/<id>, so a reload or a shared link opens the right screen.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// Dist returns the built app: index.html at the root, bundles under assets/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("web: dist missing from the embedded files: " + err.Error())
	}
	return sub
}

// ContentSecurityPolicy is sent with index.html. The app is one module script and one
// stylesheet from /assets, talks only to its own origin (HTTP, WebSocket, SSE), shows
// images from /files (and data:/blob: previews), and is never framed (clickjacking).
// No inline script or style is allowed: the build emits none, and the app sets styles
// through the CSSOM (element.style), which CSP does not restrict.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// reserved are the path prefixes that belong to the server, never to the
// app: an unknown path under them is a 404, not the app's index.html.
var reserved = []string{"/api/", "/trpc/", "/files/", "/ws", "/healthz", "/readyz", "/metrics"}

// Handler serves the app for GET and HEAD requests. Files under /assets/
// (content-hashed names) are immutable; index.html is sent with no-cache
// and an ETag, for "/" and for any extension-less path outside the server's
// own prefixes. Anything else that does not exist is a 404.
func Handler() http.Handler {
	files := Dist()
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic("web: index.html missing from the embedded files: " + err.Error())
	}
	sum := sha256.Sum256(index)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	assets := http.FileServerFS(files)

	serveIndex := func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY") // frame-ancestors for browsers without CSP 2
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
	}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		if p == "/" || p == "/index.html" {
			serveIndex(w, r)
			return
		}
		if strings.HasPrefix(p, "/assets/") {
			if _, err := fs.Stat(files, strings.TrimPrefix(p, "/")); err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			r2 := r.Clone(r.Context())
			r2.URL.Path = p
			assets.ServeHTTP(w, r2)
			return
		}
		for _, prefix := range reserved {
			if strings.HasPrefix(p+"/", prefix) || strings.HasPrefix(p, prefix) {
				http.NotFound(w, r)
				return
			}
		}
		if path.Ext(p) != "" {
			http.NotFound(w, r)
			return
		}
		serveIndex(w, r)
	})
}
