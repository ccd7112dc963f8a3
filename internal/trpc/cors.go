package trpc

import (
	"net/http"
	"slices"
	"strings"
)

// CORSHeaders lists the request headers tRPC clients send and a CORS
// preflight must allow: content-type and authorization, trpc-accept
// (httpBatchStreamLink), Last-Event-ID (EventSource resume) and
// trpc-batch-mode (v10 streaming).
var CORSHeaders = []string{"content-type", "authorization", "trpc-accept", "last-event-id", "trpc-batch-mode"}

// CORS wraps h to answer cross-origin requests from the listed origins
// (exact "scheme://host[:port]" values, or "*" for any): it sets
// Access-Control-Allow-Origin (echoing the origin, with credentials) and
// answers OPTIONS preflights with 204 and CORSHeaders. tRPC itself sets no
// CORS headers, like the reference server.
func CORS(origins []string, h http.Handler) http.Handler {
	any := slices.Contains(origins, "*")
	allowHeaders := strings.Join(CORSHeaders, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		origin := req.Header.Get("Origin")
		if origin != "" && (any || slices.Contains(origins, origin)) {
			hd := w.Header()
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Set("Access-Control-Allow-Credentials", "true")
			hd.Add("Vary", "Origin")
			if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
				hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				hd.Set("Access-Control-Allow-Headers", allowHeaders)
				hd.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		h.ServeHTTP(w, req)
	})
}
