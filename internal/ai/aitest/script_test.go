package aitest_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/ai/aitest"
)

func geminiCall(t *testing.T, f *aitest.Gemini) (int, http.Header, []byte) {
	t.Helper()
	return do(t, "POST", geminiURL(f, "gemini-2.5-flash-image"),
		map[string]string{"x-goog-api-key": f.Key(), "Content-Type": "application/json"},
		strings.NewReader(`{"contents":[{"parts":[{"text":"x"}]}]}`))
}

func TestQueueThenScriptThenSuccess(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(t)
	fake.Enqueue(aitest.GeminiServerError(503), aitest.GeminiRateLimited(time.Second))
	fake.Script(func(c aitest.Call) aitest.Response {
		if c.N == 3 {
			return aitest.HTMLError(http.StatusBadGateway)
		}
		return aitest.Success().WithHeader("X-Extra", "yes")
	})
	var got []int
	for range 4 {
		status, h, _ := geminiCall(t, fake)
		got = append(got, status)
		if status == 502 && h.Get("Content-Type") != "text/html" {
			t.Errorf("HTML error sent as %q", h.Get("Content-Type"))
		}
		if status == 200 && h.Get("X-Extra") != "yes" {
			t.Errorf("header added to success was lost")
		}
	}
	want := []int{503, 429, 502, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses = %v, want %v", got, want)
		}
	}
	if fake.Count() != 4 || len(fake.Calls()) != 4 || fake.Calls()[3].Status != 200 {
		t.Errorf("count %d calls %+v", fake.Count(), fake.Calls())
	}
}

func TestDelayEndsWhenTheClientGivesUp(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(t)
	fake.Enqueue(aitest.Delayed(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", geminiURL(fake, "gemini-2.5-flash-image"),
		strings.NewReader(`{"contents":[{"parts":[{"text":"x"}]}]}`))
	req.Header.Set("x-goog-api-key", fake.Key())
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a delayed answer arrived before the client gave up")
	}
	// The test's cleanup closes the server, which waits for the handler:
	// it returns only if the delay ended with the client's request.
}

func TestOutageUntil(t *testing.T) {
	t.Parallel()
	over := aitest.OutageUntil(time.Now().Add(-time.Second), aitest.GeminiServerError(503))
	ongoing := aitest.OutageUntil(time.Now().Add(time.Hour), aitest.GeminiServerError(503))
	if over(aitest.Call{}).Status != 0 || ongoing(aitest.Call{}).Status != 503 {
		t.Error("OutageUntil answers wrongly before or after its end")
	}
}

// Close ends a delay the client is still waiting for, so a test that ends
// with a hung call does not hang too.
func TestCloseEndsPendingDelays(t *testing.T) {
	t.Parallel()
	fake := aitest.NewGemini(nil)
	fake.Enqueue(aitest.Delayed(time.Hour))
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", geminiURL(fake, "gemini-2.5-flash-image"),
			strings.NewReader(`{"contents":[{"parts":[{"text":"x"}]}]}`))
		req.Header.Set("x-goog-api-key", fake.Key())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for fake.Count() == 0 {
		runtime.Gosched()
	}
	fake.Close()
	if err := <-errc; err == nil {
		t.Error("the delayed call got an answer from a closed fake")
	}
}
