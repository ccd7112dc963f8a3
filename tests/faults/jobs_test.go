//go:build faults

package faults

import (
	"context"
	"fmt"
)

// enqueueProbes inserts n system.probe jobs that each sleep sleepMS, in one statement
// through the operators' SQL entry point, then wakes the dispatchers with one NOTIFY.
func (s *scenario) enqueueProbes(ctx context.Context, n, sleepMS int) {
	s.t.Helper()
	_, err := s.pool.Exec(ctx, `SELECT enqueue_job('system.probe', jsonb_build_object('sleep_ms', $2::int), 'faults', notify => false)
		FROM generate_series(1, $1::int)`, n, sleepMS)
	if err != nil {
		s.t.Fatalf("enqueue %d probes: %v", n, err)
	}
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify('packshot_queue', 'w:sql:default')`); err != nil {
		s.t.Fatalf("notify: %v", err)
	}
}

// jobCounts returns how many jobs are in each status.
func (s *scenario) jobCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM job_queue GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// waitAllJobsCompleted polls until every one of want jobs is completed; a failed or
// cancelled job fails the test at once.
func (s *scenario) waitAllJobsCompleted(ctx context.Context, want int) {
	s.t.Helper()
	waitFor(ctx, s.t, fmt.Sprintf("all %d jobs completed", want), func(ctx context.Context) (bool, error) {
		c, err := s.jobCounts(ctx)
		if err != nil {
			return false, err
		}
		if c["failed"] > 0 || c["cancelled"] > 0 {
			var kind, lastErr string
			_ = s.pool.QueryRow(ctx, `SELECT kind, coalesce(last_error, '') FROM job_queue
				WHERE status IN ('failed', 'cancelled') LIMIT 1`).Scan(&kind, &lastErr)
			s.t.Fatalf("jobs gave up: %v; e.g. a %s job: %s", c, kind, lastErr)
		}
		total := 0
		for _, n := range c {
			total += n
		}
		if total != want {
			return false, fmt.Errorf("%d jobs in the table; want %d", total, want)
		}
		if c["completed"] != want {
			return false, fmt.Errorf("jobs by status: %v", c)
		}
		return true, nil
	})
}

// attemptsHistogram returns how many jobs ran how many times.
func (s *scenario) attemptsHistogram(ctx context.Context) map[int]int {
	s.t.Helper()
	rows, err := s.pool.Query(ctx, `SELECT attempts, count(*) FROM job_queue GROUP BY attempts`)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var a, n int
		if err := rows.Scan(&a, &n); err != nil {
			s.t.Fatal(err)
		}
		out[a] = n
	}
	return out
}

// projectState reads a project's status and version from the database.
func (s *scenario) projectState(ctx context.Context, id string) (status string, version int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT status, version FROM projects WHERE id = $1`, id).Scan(&status, &version)
	return status, version, err
}
