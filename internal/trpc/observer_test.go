package trpc

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

type recordingObserver struct {
	mu     sync.Mutex
	events []string
}

func (o *recordingObserver) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, s)
}

func (o *recordingObserver) ConnOpened(t Transport) { o.add("open " + string(t)) }
func (o *recordingObserver) ConnClosed(t Transport) { o.add("close " + string(t)) }
func (o *recordingObserver) CallDone(path string, t Transport, code Code, d time.Duration) {
	o.add("call " + path + " " + string(t) + " " + string(code))
}

func TestObserver(t *testing.T) {
	t.Parallel()
	obs := &recordingObserver{}
	b := setup(t, Config{Observer: obs})
	b.do(t, "GET", "/trpc/item.get?input=%7B%22id%22%3A2%7D", "", "")
	b.do(t, "GET", "/trpc/item.watch", "", "")
	want := []string{
		"call item.get http NOT_FOUND",
		"open sse", "call item.watch sse ", "close sse",
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.events) != len(want) {
		t.Fatalf("got %q, want %q", obs.events, want)
	}
	for i := range want {
		if obs.events[i] != want[i] {
			t.Errorf("event %d: got %q, want %q", i, obs.events[i], want[i])
		}
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	h := CORS(NewOrigins([]string{"https://app.example"}), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	req := httptest.NewRequest("OPTIONS", "/trpc/x", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Headers") != "content-type, authorization, trpc-accept, last-event-id, trpc-batch-mode" {
		t.Errorf("preflight: %d %v", rec.Code, rec.Header())
	}
	req = httptest.NewRequest("GET", "/trpc/x", nil)
	req.Header.Set("Origin", "https://evil.example")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusTeapot || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin: %d %v", rec.Code, rec.Header())
	}
}
