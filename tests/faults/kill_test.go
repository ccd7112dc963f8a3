//go:build faults

package faults

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// TestKillWorker is scenario 1: two worker processes share 2,000 probe jobs; one is
// killed with SIGKILL mid-run. Every job completes; only jobs the dead worker held ran a
// second time (when their leases expired), at most its concurrency, none more than twice.
func TestKillWorker(t *testing.T) {
	const jobs, concurrency = 2000, 16
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := newScenario(t, map[string]string{"PACKSHOT_WORKERS": strconv.Itoa(concurrency), "PACKSHOT_JOB_LEASE": "3s"})
	victim := s.worker(ctx, "worker-a", nil)
	s.worker(ctx, "worker-b", nil)

	s.enqueueProbes(ctx, jobs, 40)
	// The victim's worker id is host-pid-random.
	held := fmt.Sprintf("%%-%d-%%", victim.pid())
	waitFor(ctx, t, "a few hundred jobs done and the victim busy", func(ctx context.Context) (bool, error) {
		var done, busy int
		err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'completed'),
			count(*) FILTER (WHERE status = 'processing' AND locked_by LIKE $1) FROM job_queue`, held).Scan(&done, &busy)
		return done >= 300 && busy >= concurrency/2, err
	})
	victim.kill()

	// What the dead worker held is exactly what must run again.
	var inFlight []string
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM job_queue WHERE status = 'processing' AND locked_by LIKE $1`, held)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		inFlight = append(inFlight, id)
	}
	rows.Close()
	t.Logf("killed worker-a (pid %d) holding %d jobs", victim.pid(), len(inFlight))
	if len(inFlight) == 0 || len(inFlight) > concurrency {
		t.Fatalf("the killed worker held %d jobs; want 1..%d (its concurrency)", len(inFlight), concurrency)
	}

	s.waitAllJobsCompleted(ctx, jobs)

	hist := s.attemptsHistogram(ctx)
	t.Logf("jobs by attempts: %v", hist)
	for a, n := range hist {
		if a < 1 || a > 2 {
			t.Errorf("%d jobs ran %d times; want 1 or 2", n, a)
		}
	}
	var twice []string
	rows, err = s.pool.Query(ctx, `SELECT id::text FROM job_queue WHERE attempts > 1 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		twice = append(twice, id)
	}
	rows.Close()
	want := map[string]bool{}
	for _, id := range inFlight {
		want[id] = true
	}
	for _, id := range twice {
		if !want[id] {
			t.Errorf("job %s ran twice but the killed worker did not hold it", id)
		}
		delete(want, id)
	}
	// A held job may still have completed at attempt 1: a completion the worker sent
	// just before it died can commit after the snapshot above.
	if len(want) > 0 {
		t.Logf("%d held jobs completed with the dead worker's last write", len(want))
	}
}
