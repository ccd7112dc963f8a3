package trpc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lateWriter is a ResponseWriter that records writes made after the handler returned,
// which net/http turns into a panic (Flush on a reset buffer) or bytes in another
// request's response.
type lateWriter struct {
	*httptest.ResponseRecorder
	mu       sync.Mutex
	returned atomic.Bool
	late     *atomic.Int64
}

func (w *lateWriter) Write(b []byte) (int, error) {
	if w.returned.Load() {
		w.late.Add(1)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ResponseRecorder.Write(b)
}

func (w *lateWriter) Flush() {
	if w.returned.Load() {
		w.late.Add(1)
	}
}

// TestSSENoWriteAfterReturn runs many short SSE streams whose ping fires all the time
// (every microsecond) and checks that no ping is written once the handler returned: the
// handler waits for its ping goroutine.
func TestSSENoWriteAfterReturn(t *testing.T) {
	t.Parallel()
	r := NewRouter(Config{SSEPingInterval: time.Microsecond})
	Subscription(r, "once", func(ctx context.Context, in Void, _ string, send func(Event[int]) error) error {
		return send(Event[int]{Data: 1})
	})
	h := r.HTTPHandler()
	var late atomic.Int64
	for range 300 {
		w := &lateWriter{ResponseRecorder: httptest.NewRecorder(), late: &late}
		req := httptest.NewRequest(http.MethodGet, "/once", nil)
		req.Header.Set("Accept", "text/event-stream")
		h.ServeHTTP(w, req)
		w.returned.Store(true)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	if n := late.Load(); n != 0 {
		t.Errorf("%d writes after the SSE handler returned; want none", n)
	}
}
