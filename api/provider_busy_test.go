package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/ai/aitest"
	"github.com/packshot/packshot/internal/pack"
)

// waitFor long-polls the project until ok holds for its snapshot, and returns it. It
// never sleeps: each poll returns as soon as the project's version changes.
func (b *testBundle) waitFor(t *testing.T, tok, id string, ok func(pack.Snapshot) bool) pack.Snapshot {
	t.Helper()
	// A safety net, not a timing assertion: what the test waits for must happen at all.
	deadline := time.Now().Add(2 * time.Minute)
	etag := ""
	for time.Now().Before(deadline) {
		h := http.Header{}
		if etag != "" {
			h.Set("If-None-Match", etag)
		}
		resp, raw := b.rest(t, tok, http.MethodGet, "/api/projects/"+id+"?wait=20s", nil, h)
		if resp.StatusCode == http.StatusNotModified {
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("poll: %d %s", resp.StatusCode, raw)
		}
		var s pack.Snapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		if ok(s) {
			return s
		}
		etag = resp.Header.Get("ETag")
	}
	t.Fatal("the project never reached the awaited state")
	return pack.Snapshot{}
}

// Item 9 of the hardening issue: jobs waiting for a busy AI provider must not sit on
// worker slots. The provider's one slot is held by a call the fake does not answer
// until the test says so; three more AI jobs and then a local-engine image are queued
// on an instance with four workers. The waiting AI jobs go back to the queue (no
// attempt spent), so the local image is made while the provider is still busy.
func TestJobsWaitingForABusyProviderFreeTheirWorkers(t *testing.T) {
	t.Parallel()
	openai := aitest.NewOpenAI(t)
	release := make(chan struct{})
	openai.Script(func(aitest.Call) aitest.Response {
		<-release
		return aitest.Success()
	})
	var releaseOnce bool
	t.Cleanup(func() {
		if !releaseOnce {
			close(release)
		}
	})
	b := setup(t, setupOptions{
		providers: ai.NewProviders(ai.Config{OpenAIAPIKey: openai.Key(), OpenAIBaseURL: openai.URL()}),
		guard:     &ai.GuardConfig{Concurrency: map[string]int{"openai": 1}, BusyRetryAfter: 20 * time.Millisecond},
	})
	tok := token(t, "dora", "authenticated")
	s := readyProject(t, b, tok)
	id := s.ID.String()

	var custom []pack.Job
	for _, prompt := range []string{"on a desk", "on a beach", "in a kitchen", "in a forest"} {
		var jobs pack.Jobs
		b.mutate(t, tok, "image.generate", map[string]any{"projectId": id, "type": "custom", "prompt": prompt}).decode(t, &jobs)
		custom = append(custom, jobs.Jobs...)
	}
	var main pack.Jobs
	b.mutate(t, tok, "image.generate", map[string]any{"projectId": id, "type": "main"}).decode(t, &main)

	b.waitFor(t, tok, id, func(s pack.Snapshot) bool {
		for _, sl := range s.Images {
			if sl.Type == "main" && sl.Status == "completed" {
				return true
			}
		}
		return false
	})
	if n := b.guard.Waiting("openai"); n != 0 {
		t.Errorf("%d workers wait for the provider; want 0", n)
	}
	if n := openai.Count(); n != 1 {
		t.Errorf("the provider got %d calls while its one slot was taken; want 1", n)
	}

	releaseOnce = true
	close(release)
	// Every job state change bumps the project's version, so the long-poll wakes for each.
	var jobs []pack.Job
	b.waitFor(t, tok, id, func(pack.Snapshot) bool {
		b.query(t, tok, "job.list", map[string]any{"projectId": id}).decode(t, &jobs)
		for _, j := range jobs {
			if j.Status == "pending" || j.Status == "processing" {
				return false
			}
		}
		return true
	})
	for _, j := range jobs {
		if j.Status != "completed" || j.Attempts != 1 {
			t.Errorf("%s job %s: %s after %d attempts; want completed after 1 (waiting spends none)", j.Kind, j.ID, j.Status, j.Attempts)
		}
	}
	if len(jobs) != len(custom)+1 {
		t.Errorf("%d jobs; want %d", len(jobs), len(custom)+1)
	}
}

// countingBlobs counts the reads of a blob store.
type countingBlobs struct {
	pack.Blobs
	gets atomic.Int64
}

func (c *countingBlobs) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Blobs.Get(ctx, key)
}

// A job that finds its provider busy goes back to the queue before the expensive work a
// call needs (reading and decoding the photo's cut-out, cutting the product out again,
// encoding the reference image): while the provider's one slot is held, the other
// custom jobs are snoozed again and again, and the blob store is not read once.
func TestABusyProviderCostsWaitingJobsNoPreparation(t *testing.T) {
	t.Parallel()
	openai := aitest.NewOpenAI(t)
	started, release := make(chan struct{}), make(chan struct{})
	openai.Script(func(c aitest.Call) aitest.Response {
		if c.N == 1 {
			close(started)
			<-release
		}
		return aitest.Success()
	})
	var released bool
	t.Cleanup(func() {
		if !released {
			close(release)
		}
	})
	const wantBusy = 9
	var busy atomic.Int64
	enoughBusy := make(chan struct{})
	blobs := &countingBlobs{}
	b := setup(t, setupOptions{
		providers: ai.NewProviders(ai.Config{OpenAIAPIKey: openai.Key(), OpenAIBaseURL: openai.URL()}),
		guard: &ai.GuardConfig{Concurrency: map[string]int{"openai": 1}, BusyRetryAfter: 5 * time.Millisecond,
			Observer: ai.GuardObserver{BusyFunc: func(string) {
				if busy.Add(1) == wantBusy {
					close(enoughBusy)
				}
			}}},
		wrapBlobs: func(bl pack.Blobs) pack.Blobs { blobs.Blobs = bl; return blobs },
	})
	tok := token(t, "erin", "authenticated")
	s := readyProject(t, b, tok)
	id := s.ID.String()

	b.mutate(t, tok, "image.generate", map[string]any{"projectId": id, "type": "custom", "prompt": "on a desk"})
	<-started // the provider's one slot is now held
	before := blobs.gets.Load()
	for _, prompt := range []string{"on a beach", "in a kitchen", "in a forest"} {
		b.mutate(t, tok, "image.generate", map[string]any{"projectId": id, "type": "custom", "prompt": prompt})
	}
	<-enoughBusy
	if n := blobs.gets.Load() - before; n != 0 {
		t.Errorf("the jobs waiting for the busy provider read %d blobs over %d snoozes; want none", n, busy.Load())
	}
	if n := openai.Count(); n != 1 {
		t.Errorf("the provider got %d calls while its one slot was taken; want 1", n)
	}

	released = true
	close(release)
	var jobs []pack.Job
	b.waitFor(t, tok, id, func(pack.Snapshot) bool {
		b.query(t, tok, "job.list", map[string]any{"projectId": id}).decode(t, &jobs)
		for _, j := range jobs {
			if j.Status == "pending" || j.Status == "processing" {
				return false
			}
		}
		return true
	})
	for _, j := range jobs {
		if j.Status != "completed" || j.Attempts != 1 || j.LastError != nil {
			t.Errorf("%s job %s: %s after %d attempts, error %v; want completed after 1, no error", j.Kind, j.ID, j.Status, j.Attempts, j.LastError)
		}
	}
}
