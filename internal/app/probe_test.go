package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/packshot/packshot/internal/queue"
)

func TestProbe(t *testing.T) {
	job := func(payload string) *queue.Job { return &queue.Job{Kind: probeKind, Payload: json.RawMessage(payload)} }

	for _, p := range []string{``, `{}`, `{"sleep_ms": 0}`, `{"sleep_ms": -5}`, `{"sleep_ms": 1}`} {
		if err := runProbe(context.Background(), job(p)); err != nil {
			t.Errorf("probe %q: %v; want it to complete", p, err)
		}
	}

	// A probe that would sleep a minute stops when its run is cancelled (shutdown,
	// job.cancel) and says why.
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("worker shutting down")
	cancel(cause)
	if err := runProbe(ctx, job(`{"sleep_ms": 600000}`)); !errors.Is(err, cause) {
		t.Errorf("cancelled probe: %v; want the cancellation's cause", err)
	}

	// A payload that is not the probe's fails at once instead of retrying.
	err := runProbe(context.Background(), job(`{"sleep_ms": "soon"}`))
	var perm interface{ Permanent() bool }
	if !errors.As(err, &perm) || !perm.Permanent() {
		t.Errorf("bad payload: %v; want a permanent error", err)
	}
}
