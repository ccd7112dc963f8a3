package api_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/packshot/packshot/internal/pack"
)

// jobIDs returns the ids of jobs, sorted.
func jobIDs(jobs []pack.Job) []uuid.UUID {
	ids := make([]uuid.UUID, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return ids
}

// countJobs counts a project's rows in job_queue.
func countJobs(t *testing.T, b *testBundle, pid uuid.UUID) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM job_queue WHERE project_id = $1", pid).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIdempotentPackRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noWorker: true})
	tok := token(t, "irene", "authenticated")
	p := readyProject(t, b, tok)
	packOf := func(key string) pack.Jobs {
		var j pack.Jobs
		b.mutate(t, tok, "image.generateCompletePack", map[string]any{"projectId": p.ID, "idempotencyKey": key}).decode(t, &j)
		return j
	}

	first := packOf("click-1")
	if len(first.Jobs) != 5 {
		t.Fatalf("first request: %d jobs; want 5", len(first.Jobs))
	}
	// A client retry with the same key: the same jobs, nothing enqueued.
	again := packOf("click-1")
	if !slices.Equal(jobIDs(first.Jobs), jobIDs(again.Jobs)) || countJobs(t, b, p.ID) != 5 {
		t.Fatalf("repeat with the same key: jobs %v (of %d in the table); want %v of 5",
			jobIDs(again.Jobs), countJobs(t, b, p.ID), jobIDs(first.Jobs))
	}
	// REST honours Idempotency-Key the same way.
	resp, _ := b.rest(t, tok, http.MethodPost, "/api/projects/"+p.ID.String()+"/pack", nil, http.Header{"Idempotency-Key": {"click-1"}})
	if resp.StatusCode != http.StatusAccepted || countJobs(t, b, p.ID) != 5 {
		t.Fatalf("REST repeat: %d with %d jobs in the table; want 202 with 5", resp.StatusCode, countJobs(t, b, p.ID))
	}

	// Even once those jobs are finished (here: cancelled), the key still answers with
	// them: a late retry never pays for the pack twice.
	for _, j := range first.Jobs {
		b.mutate(t, tok, "job.cancel", map[string]any{"id": j.ID}).decode(t, new(pack.Job))
	}
	late := packOf("click-1")
	if !slices.Equal(jobIDs(first.Jobs), jobIDs(late.Jobs)) || countJobs(t, b, p.ID) != 5 {
		t.Fatalf("late repeat: %d jobs in the table; want 5", countJobs(t, b, p.ID))
	}
	for _, j := range late.Jobs {
		if j.Status != "cancelled" {
			t.Errorf("late repeat: job %s is %s; want cancelled, as it is now", j.ID, j.Status)
		}
	}

	// A double click: two requests with a new key at once enqueue one set.
	var wg sync.WaitGroup
	results := make([]pack.Jobs, 2)
	for i := range results {
		wg.Go(func() { results[i] = packOf("click-2") })
	}
	wg.Wait()
	if !slices.Equal(jobIDs(results[0].Jobs), jobIDs(results[1].Jobs)) || countJobs(t, b, p.ID) != 10 {
		t.Fatalf("concurrent requests with one key: %v and %v, %d jobs in the table; want one set of 5 new jobs",
			jobIDs(results[0].Jobs), jobIDs(results[1].Jobs), countJobs(t, b, p.ID))
	}

	// The same key for another project is refused rather than answered with this one's jobs.
	other := readyProject(t, b, tok)
	r := b.mutate(t, tok, "image.generateCompletePack", map[string]any{"projectId": other.ID, "idempotencyKey": "click-2"})
	if r.code() != "CONFLICT" {
		t.Fatalf("key reused for another project: %q; want CONFLICT", r.code())
	}
	// Without a key, a second click while the images are queued returns the queued jobs.
	var noKey pack.Jobs
	b.mutate(t, tok, "image.generateCompletePack", map[string]any{"projectId": p.ID}).decode(t, &noKey)
	if !slices.Equal(jobIDs(noKey.Jobs), jobIDs(results[0].Jobs)) || countJobs(t, b, p.ID) != 10 {
		t.Fatalf("second click without a key: %d jobs in the table; want the queued 10", countJobs(t, b, p.ID))
	}
}
