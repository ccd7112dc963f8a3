package trpc

import (
	"net/http"
	"net/url"
	"strings"
)

// CORSHeaders lists the request headers tRPC clients send: content-type and
// authorization, trpc-accept (httpBatchStreamLink), Last-Event-ID
// (EventSource resume) and trpc-batch-mode (v10 streaming). A preflight is
// answered with the headers it asks for (Access-Control-Request-Headers),
// so custom ones such as x-trpc-source work too; these are the answer when
// it asks for none.
var CORSHeaders = []string{"content-type", "authorization", "trpc-accept", "last-event-id", "trpc-batch-mode"}

// maxRequestHeaders bounds the Access-Control-Request-Headers value a
// preflight may ask for; a longer one gets the default CORSHeaders.
const maxRequestHeaders = 2048

// Origins decides which browser origins may call the server: one rule for
// CORS and for WebSocket upgrades, so PACKSHOT_ALLOWED_ORIGINS means the
// same thing on both. An entry is an exact origin ("https://app.example.com",
// scheme, host and port as the browser sends them; compared without regard
// to case), or "*" for any origin.
type Origins struct {
	any  bool
	list map[string]bool
}

// NewOrigins returns the Origins of list (entries as in Origins).
func NewOrigins(list []string) Origins {
	o := Origins{list: map[string]bool{}}
	for _, e := range list {
		e = strings.TrimRight(strings.ToLower(strings.TrimSpace(e)), "/")
		switch e {
		case "":
		case "*":
			o.any = true
		default:
			o.list[e] = true
		}
	}
	return o
}

// Listed reports whether origin is allowed cross-origin: it is in the list,
// or the list has "*". "null" (sandboxed frames, file: pages) is allowed
// only by "*".
func (o Origins) Listed(origin string) bool {
	if origin == "" {
		return false
	}
	return o.any || o.list[strings.ToLower(origin)]
}

// Allowed reports whether req may be served to the browser that sent it:
// no Origin header (not a browser, or a same-origin GET), the server's own
// origin, or a listed one.
func (o Origins) Allowed(req *http.Request) bool {
	origin := req.Header.Get("Origin")
	return origin == "" || SameOrigin(req) || o.Listed(origin)
}

// SameOrigin reports whether req's Origin header names the host the request
// was sent to (the Host header), as a same-origin page's requests do. The
// scheme is not compared: behind a TLS-terminating proxy the server cannot
// see it. A request without Origin is not same-origin by this test.
func SameOrigin(req *http.Request) bool {
	origin := req.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, req.Host)
}

// CORS wraps h to answer cross-origin requests from the origins o lists. A
// listed origin gets Access-Control-Allow-Origin echoing it, with
// credentials; "*" gets "*" and never credentials (browsers refuse the pair,
// and a wildcard must not carry cookies). OPTIONS preflights are answered
// with 204, the methods tRPC uses and the request headers the preflight
// asked for. tRPC itself sets no CORS headers, like the reference server.
func CORS(o Origins, h http.Handler) http.Handler {
	defaultHeaders := strings.Join(CORSHeaders, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		origin := req.Header.Get("Origin")
		hd := w.Header()
		hd.Add("Vary", "Origin")
		if o.Listed(origin) {
			if o.list[strings.ToLower(origin)] {
				hd.Set("Access-Control-Allow-Origin", origin)
				hd.Set("Access-Control-Allow-Credentials", "true")
			} else {
				hd.Set("Access-Control-Allow-Origin", "*")
			}
			if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
				allow := defaultHeaders
				if asked := requestedHeaders(req); asked != "" {
					allow = asked
				}
				hd.Add("Vary", "Access-Control-Request-Headers")
				hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				hd.Set("Access-Control-Allow-Headers", allow)
				hd.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		h.ServeHTTP(w, req)
	})
}

// requestedHeaders returns the header names a preflight asks for, lower
// case and comma-separated, or "" when it asks for none or the list is not
// a plain list of header names (which is then not echoed).
func requestedHeaders(req *http.Request) string {
	var names []string
	for _, v := range req.Header.Values("Access-Control-Request-Headers") {
		for _, n := range strings.Split(v, ",") {
			if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
				names = append(names, n)
			}
		}
	}
	out := strings.Join(names, ", ")
	if len(out) > maxRequestHeaders {
		return ""
	}
	for _, n := range names {
		if !headerName(n) {
			return ""
		}
	}
	return out
}

// headerName reports whether s is an HTTP token (RFC 9110), the syntax of a
// header name.
func headerName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return s != ""
}
