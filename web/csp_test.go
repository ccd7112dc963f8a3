package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestIndexForbidsFramingAndInlineCode: the app page is sent with a CSP that refuses
// framing (clickjacking) and inline code, and the built page needs none, so the policy
// does not break it.
func TestIndexForbidsFramingAndInlineCode(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/", "/projects/123"} {
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		csp := rec.Header().Get("Content-Security-Policy")
		for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'", "style-src 'self'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: CSP %q allows inline code", path, csp)
		}
		if rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q", path, rec.Header().Get("X-Frame-Options"))
		}
	}
	index, err := fs.ReadFile(Dist(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	page := string(index)
	for _, script := range regexp.MustCompile(`(?is)<script\b[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(script, `src="/assets/`) {
			t.Errorf("index.html has an inline script %s, which the CSP blocks", script)
		}
	}
	for _, bad := range []*regexp.Regexp{regexp.MustCompile(`(?i)<style\b`), regexp.MustCompile(`(?i)\sstyle=`), regexp.MustCompile(`(?i)\son[a-z]+=`)} {
		if loc := bad.FindStringIndex(page); loc != nil {
			t.Errorf("index.html has inline code %q, which the CSP blocks", page[loc[0]:min(loc[1]+40, len(page))])
		}
	}
}
