package app

import (
	"context"
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

// probeArgs are a system.probe job's args; {} sleeps not at all.
type probeArgs struct {
	SleepMS int64 `json:"sleep_ms"`
}

// Kind returns "system.probe".
func (probeArgs) Kind() string { return probeKind }

// addProbe adds the system.probe worker to ws; every queue client runs it.
func addProbe(ws *queue.Workers) {
	queue.AddWorker(ws, queue.WorkFunc[probeArgs](runProbe), queue.HandlerOptions{Timeout: maxProbeSleep + 10*time.Second})
}

// runProbe waits sleep_ms (capped) or until ctx ends, whichever is first.
func runProbe(ctx context.Context, _ *queue.Job, p probeArgs) error {
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
