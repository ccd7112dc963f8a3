package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/packshot/packshot/internal/queue"
)

// probeKind is the built-in diagnostic job: it waits sleep_ms milliseconds (its simulated
// work, at most maxProbeSleep) or until its run is cancelled, then completes. Every queue
// client runs it, so operators can check from plain SQL that the dispatchers are alive:
//
//	SELECT id FROM enqueue_job('system.probe', '{"sleep_ms": 50}', 'ops');
//	SELECT status, attempts, completed_at FROM job_queue WHERE id = '…';
//
// The fault-tolerance suite (tests/faults) loads the queue with thousands of them.
const probeKind = "system.probe"

// maxProbeSleep caps a probe's sleep_ms.
const maxProbeSleep = 60 * time.Second

// probePayload is a system.probe job's payload; {} sleeps not at all.
type probePayload struct {
	SleepMS int64 `json:"sleep_ms"`
}

// registerProbe registers the system.probe handler on jobs.
func registerProbe(jobs *queue.Client) {
	jobs.Register(probeKind, runProbe, queue.HandlerOptions{Timeout: maxProbeSleep + 10*time.Second})
}

// runProbe waits the payload's sleep_ms (capped) or until ctx ends, whichever is first.
func runProbe(ctx context.Context, job *queue.Job) error {
	var p probePayload
	if len(job.Payload) > 0 {
		if err := json.Unmarshal(job.Payload, &p); err != nil {
			return queue.Permanent(fmt.Errorf("system.probe payload: %w", err))
		}
	}
	d := min(max(time.Duration(p.SleepMS)*time.Millisecond, 0), maxProbeSleep)
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("system.probe interrupted: %w", context.Cause(ctx))
	}
}
