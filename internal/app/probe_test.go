package app

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestProbe(t *testing.T) {
	// The payloads operators write in SQL decode into the probe's args (the queue fails a
	// payload that does not decode at once; see queue's tests).
	for _, p := range []string{`{}`, `{"sleep_ms": 0}`, `{"sleep_ms": -5}`, `{"sleep_ms": 1}`} {
		var a probeArgs
		if err := json.Unmarshal([]byte(p), &a); err != nil {
			t.Fatalf("payload %q: %v", p, err)
		}
		if err := runProbe(context.Background(), nil, a); err != nil {
			t.Errorf("probe %q: %v; want it to complete", p, err)
		}
	}
	if err := json.Unmarshal([]byte(`{"sleep_ms": "soon"}`), new(probeArgs)); err == nil {
		t.Error(`payload {"sleep_ms": "soon"} decoded; want an error`)
	}

	// A probe that would sleep a minute stops when its run is cancelled (shutdown,
	// job.cancel) and says why.
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("worker shutting down")
	cancel(cause)
	if err := runProbe(ctx, nil, probeArgs{SleepMS: 600000}); !errors.Is(err, cause) {
		t.Errorf("cancelled probe: %v; want the cancellation's cause", err)
	}
}
