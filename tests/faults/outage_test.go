//go:build faults

package faults

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/ai/aitest"
)

// TestProviderOutage is scenario 3: OpenAI answers 503 for 20 s, then recovers, while two
// serve instances make packs whose lifestyle images need it. Every job completes with the
// lifestyle images from OpenAI, and the outage costs the provider a trickle of probe
// requests, not one request per job attempt: the pause is shared by both instances
// through the database.
func TestProviderOutage(t *testing.T) {
	const packs = 8
	const outage = 20 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	fake := aitest.NewOpenAI(t)
	var during, after atomic.Int64
	var end atomic.Int64 // unix nanos; zero until the outage starts
	fake.Script(func(aitest.Call) aitest.Response {
		if e := end.Load(); e == 0 || time.Now().UnixNano() < e {
			during.Add(1)
			return aitest.OpenAIOverloaded()
		}
		after.Add(1)
		return aitest.Success()
	})

	s := newScenario(t, map[string]string{"PACKSHOT_WORKERS": "4", "PACKSHOT_JOB_LEASE": "30s"})
	serves := []*proc{s.serve(ctx, "serve-a", fake.Env()), s.serve(ctx, "serve-b", fake.Env())}

	end.Store(time.Now().Add(outage).UnixNano())
	outageEnd := time.Unix(0, end.Load())
	var ids []string
	for i := range packs {
		a := api{base: serves[i%2].baseURL(), tok: token(t, fmt.Sprintf("outage-user-%d", i))}
		ids = append(ids, startPack(ctx, t, a, fmt.Sprintf("Bottle %d", i)))
	}

	s.waitAllJobsCompleted(ctx, 5*packs)
	if time.Now().Before(outageEnd) {
		t.Fatalf("every job completed during the outage: the lifestyle images cannot have come from OpenAI")
	}
	for _, id := range ids {
		status, _, err := s.projectState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if status != "completed" {
			t.Errorf("project %s ended %s; want completed", id, status)
		}
	}
	var fromOpenAI int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM generated_images
		WHERE type = 'lifestyle' AND provider = 'openai' AND superseded_by IS NULL`).Scan(&fromOpenAI); err != nil {
		t.Fatal(err)
	}
	if fromOpenAI != packs {
		t.Errorf("%d lifestyle images came from OpenAI; want %d", fromOpenAI, packs)
	}

	// Without the shared pause each of the 8 jobs would try every few seconds until its
	// attempts ran out (5 attempts: 40 requests, and failed jobs). With it, the first
	// failures open the breaker and each pause ends in a single probe.
	t.Logf("requests during the %s outage: %d; after it: %d", outage, during.Load(), after.Load())
	if n := during.Load(); n > 2*packs {
		t.Errorf("the provider saw %d requests during the outage; want a trickle (at most %d)", n, 2*packs)
	}
	if n := after.Load(); n != packs {
		t.Errorf("the provider saw %d requests after recovering; want one per lifestyle image (%d)", n, packs)
	}
	var attemptsMax int
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(attempts), 0) FROM job_queue WHERE kind = 'image.lifestyle'`).Scan(&attemptsMax); err != nil {
		t.Fatal(err)
	}
	t.Logf("most attempts spent by a lifestyle job: %d", attemptsMax)
	for _, sv := range serves {
		if !sv.running() {
			t.Errorf("%s exited", sv.name)
		}
	}
}
