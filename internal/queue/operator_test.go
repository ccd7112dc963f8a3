package queue

import (
	"context"
	"database/sql"
	"testing"
)

// The monitoring queries operators run against job_queue, verbatim.
const (
	opLatest  = `SELECT * FROM job_queue ORDER BY created_at DESC LIMIT 10;`
	opPending = `SELECT * FROM job_queue WHERE status = 'pending';`
	opFailed  = `SELECT * FROM job_queue WHERE status = 'failed' ORDER BY created_at DESC LIMIT 10;`
	opStats   = `SELECT status, COUNT(*) as count,
       AVG(EXTRACT(EPOCH FROM (completed_at - created_at))) as avg_duration_seconds
FROM job_queue GROUP BY status;`
)

func TestOperatorQueries(t *testing.T) {
	t.Parallel()
	b, cfg := setup(t)
	ctx := context.Background()
	c := b.start(t, cfg, func(ws *Workers) {
		ws.add("ok", func(ctx context.Context, j *Job) error { return nil }, HandlerOptions{})
		ws.add("bad", func(ctx context.Context, j *Job) error { return Permanent(errBoom) }, HandlerOptions{})
	})
	for range 3 {
		enqueue(t, c, EnqueueParams{Args: args("ok")})
		b.expect(t, "completed")
	}
	for range 12 {
		enqueue(t, c, EnqueueParams{Args: args("bad")})
		b.expect(t, "failed")
	}
	cancelled := enqueue(t, c, EnqueueParams{Args: args("nobody-handles-this")})
	if _, err := c.Cancel(ctx, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	b.expect(t, "cancelled")
	for range 2 {
		enqueue(t, c, EnqueueParams{Args: args("nobody-handles-this")})
	}

	statuses := func(query string) []string {
		t.Helper()
		rows, err := b.db.Pool.Query(ctx, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			idx := -1
			for i, f := range rows.FieldDescriptions() {
				if f.Name == "status" {
					idx = i
				}
			}
			out = append(out, v[idx].(string))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := statuses(opLatest); len(got) != 10 || got[0] != "pending" || got[1] != "pending" || got[2] != "cancelled" || got[3] != "failed" {
		t.Fatalf("latest = %v", got)
	}
	if got := statuses(opPending); len(got) != 2 {
		t.Fatalf("pending = %v", got)
	}
	if got := statuses(opFailed); len(got) != 10 || got[0] != "failed" || got[9] != "failed" {
		t.Fatalf("failed = %v", got)
	}

	rows, err := b.db.Pool.Query(ctx, opStats)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var status string
		var count int64
		var avg sql.NullFloat64
		if err := rows.Scan(&status, &count, &avg); err != nil {
			t.Fatal(err)
		}
		counts[status] = count
		// Finished jobs have a duration; pending ones do not.
		if finished := status != "pending"; avg.Valid != finished || (finished && avg.Float64 < 0) {
			t.Fatalf("%s: avg_duration_seconds %+v", status, avg)
		}
	}
	want := map[string]int64{"completed": 3, "failed": 12, "cancelled": 1, "pending": 2}
	for s, n := range want {
		if counts[s] != n {
			t.Fatalf("counts = %v, want %v", counts, want)
		}
	}
	stats, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if s.Count != want[string(s.Status)] || (s.AvgDurationSeconds == nil) != (s.Status == StatusPending) {
			t.Fatalf("Stats() line %+v", s)
		}
	}
}
