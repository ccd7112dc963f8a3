package trpc

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRetryAfterReachesTheClient: an error that knows when a retry can succeed says so
// in data.retryAfterSeconds and, over HTTP, in the Retry-After header (also for a batch).
func TestRetryAfterReachesTheClient(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{})
	Mutation(r, "pack.start", func(context.Context, Void) (Void, error) {
		return Void{}, &Error{Code: CodeTooManyRequests, Message: "slow down", RetryAfter: 1500 * time.Millisecond}
	}, Public())
	Mutation(r, "ok", func(context.Context, Void) (string, error) { return "fine", nil }, Public())

	for _, tc := range []struct{ name, target, body string }{
		{"single", "/pack.start", ""},
		{"batch", "/pack.start,ok?batch=1", `{}`},
	} {
		req := httptest.NewRequest("POST", tc.target, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		r.HTTPHandler().ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if got := rec.Header().Get("Retry-After"); got != "2" {
			t.Errorf("%s: Retry-After = %q; want 2 (1.5 s rounded up)", tc.name, got)
		}
		if !strings.Contains(string(body), `"retryAfterSeconds":2`) || !strings.Contains(string(body), `"TOO_MANY_REQUESTS"`) {
			t.Errorf("%s: body %s lacks TOO_MANY_REQUESTS with retryAfterSeconds", tc.name, body)
		}
	}
}
