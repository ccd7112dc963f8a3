package queue

import (
	"context"
	"strings"
	"testing"
)

// greetArgs are typed args, as the domain's job kinds have.
type greetArgs struct {
	Name string `json:"name"`
}

func (greetArgs) Kind() string { return "greet.typed" }

func TestTypedWorkerGetsDecodedArgs(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	got := make(chan string, 1)
	c := b.start(t, cfg, func(ws *Workers) {
		AddWorker(ws, WorkFunc[greetArgs](func(ctx context.Context, j *Job, a greetArgs) error {
			got <- a.Name
			return nil
		}), HandlerOptions{MaxAttempts: 3})
	})
	j := enqueue(t, c, EnqueueParams{Args: greetArgs{Name: "world"}})
	if j.Kind != "greet.typed" || string(j.Payload) != `{"name": "world"}` || j.MaxAttempts != 3 {
		t.Fatalf("enqueued job = %+v (payload %s)", j, j.Payload)
	}
	if name := recv(t, got); name != "world" {
		t.Fatalf("worker got %q", name)
	}
	b.expect(t, "completed")
}

func TestUndecodablePayloadFailsAtOnce(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	c := b.start(t, cfg, func(ws *Workers) {
		AddWorker(ws, WorkFunc[greetArgs](func(ctx context.Context, j *Job, a greetArgs) error {
			t.Error("worker ran with an undecodable payload")
			return nil
		}), HandlerOptions{})
	})
	// A job enqueued from SQL (enqueue_job) may carry anything.
	j := enqueue(t, c, EnqueueParams{Args: args("greet.typed", []int{1, 2})})
	b.expect(t, "failed")
	j = get(t, c, j.ID)
	if j.Status != StatusFailed || j.Attempts != 1 || !strings.Contains(j.LastError, "greet.typed job payload does not decode") {
		t.Fatalf("job = %+v", j)
	}
}

func TestAddWorkerPanicsOnDuplicateKind(t *testing.T) {
	t.Parallel()
	ws := NewWorkers()
	w := WorkFunc[greetArgs](func(context.Context, *Job, greetArgs) error { return nil })
	AddWorker(ws, w, HandlerOptions{})
	defer func() {
		if recover() == nil {
			t.Fatal("second AddWorker for one kind did not panic")
		}
	}()
	AddWorker(ws, w, HandlerOptions{})
}
