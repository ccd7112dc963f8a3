package db_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/ai/aitest"
	"github.com/packshot/packshot/internal/pgtest"
)

// These tests run two ai.Guards, two "instances" of packshot, over one database, in front
// of one fake provider. A fake clock drives the pauses; only the provider's HTTP calls and
// the database are real.

func TestGuardsShareARateLimitThroughTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newTestClock()
	fake := aitest.NewOpenAI(t)
	a, b := twoInstances(t, fake, clock)

	fake.Enqueue(aitest.OpenAIRateLimited(7 * time.Second))
	if _, err := a.Generate(ctx, generateRequest()); ai.RetryAfterOf(err) != 7*time.Second {
		t.Fatalf("instance A: %v; want the provider's 429 with a 7s retry", err)
	}
	_, err := b.Generate(ctx, generateRequest())
	var e *ai.Error
	if !errors.As(err, &e) || e.Code != "provider_paused" || e.RetryAfter != 7*time.Second || !e.Retryable() || e.SpendsAttempt() {
		t.Fatalf("instance B: %v; want provider_paused with a 7s retry that spends no attempt", err)
	}
	if fake.Count() != 1 {
		t.Fatalf("the provider saw %d requests; want only instance A's", fake.Count())
	}

	clock.Advance(7 * time.Second)
	if _, err := b.Generate(ctx, generateRequest()); err != nil {
		t.Fatalf("instance B after the retry time: %v", err)
	}
	if fake.Count() != 2 {
		t.Fatalf("the provider saw %d requests, want 2", fake.Count())
	}
}

// TestGuardsRideOutAnOutage is fault scenario 3 in small: the provider answers 503 for
// 20 s (of the fake clock) while 16 jobs on two instances keep retrying every second, as
// an unprotected queue would. The provider sees a bounded trickle, not a storm, and every
// job completes within the queue's default 5 attempts once it recovers.
func TestGuardsRideOutAnOutage(t *testing.T) {
	t.Parallel()
	const (
		outage      = 20 * time.Second
		jobs        = 16
		maxAttempts = 5 // job_queue's default max_attempts
		retryDelay  = time.Second
	)
	clock := newTestClock()
	end := clock.Now().Add(outage)
	fake := aitest.NewOpenAI(t)
	var duringOutage atomic.Int64
	fake.Script(func(aitest.Call) aitest.Response {
		if clock.Now().Before(end) {
			duringOutage.Add(1)
			return aitest.OpenAIOverloaded()
		}
		return aitest.Success()
	})
	a, b := twoInstances(t, fake, clock)

	type job struct {
		gen      ai.ImageGenerator
		runAt    time.Time
		attempts int // attempts spent: snoozes after a RateLimited answer spend none
		done     bool
	}
	js := make([]*job, jobs)
	for i := range js {
		js[i] = &job{gen: a, runAt: clock.Now()}
		if i%2 == 1 {
			js[i].gen = b
		}
	}
	var runsDuringOutage int
	for step := 0; ; step++ {
		if step > 200 {
			t.Fatal("the jobs did not finish within 200 steps")
		}
		now := clock.Now()
		var due []*job
		for _, j := range js {
			if !j.done && !j.runAt.After(now) {
				due = append(due, j)
			}
		}
		if now.Before(end) {
			runsDuringOutage += len(due)
		}
		errs := make([]error, len(due))
		var wg sync.WaitGroup
		for i, j := range due {
			wg.Go(func() { _, errs[i] = j.gen.Generate(context.Background(), generateRequest()) })
		}
		wg.Wait()
		for i, j := range due {
			var e *ai.Error
			switch {
			case errs[i] == nil:
				j.attempts++
				j.done = true
			case errors.As(errs[i], &e) && e.Retryable() && !e.SpendsAttempt():
				j.runAt = now.Add(e.RetryAfter)
			case errors.As(errs[i], &e) && e.Retryable():
				j.attempts++
				j.runAt = now.Add(retryDelay)
			default:
				t.Fatalf("job failed for good: %v", errs[i])
			}
			if j.attempts > maxAttempts {
				t.Fatalf("a job spent %d attempts; the queue would have failed it", j.attempts)
			}
		}
		next, left := time.Time{}, 0
		for _, j := range js {
			if !j.done {
				left++
				if next.IsZero() || j.runAt.Before(next) {
					next = j.runAt
				}
			}
		}
		if left == 0 {
			break
		}
		clock.Advance(next.Sub(now))
	}

	// Per instance: the calls already admitted when the breaker opened (up to the cap, plus
	// the slots freed by the first failures), then one probe per pause, and the pauses
	// double: 2 s, 4 s, 8 s, 16 s.
	perInstance := ai.DefaultGeneratorConcurrency + ai.DefaultBreakerThreshold - 1 + 5
	seen := int(duringOutage.Load())
	t.Logf("during the %s outage the jobs ran %d times and the provider saw %d requests", outage, runsDuringOutage, seen)
	if seen > 2*perInstance {
		t.Errorf("the provider saw %d requests during the outage; want at most %d", seen, 2*perInstance)
	}
	if total := fake.Count(); total != seen+jobs {
		t.Errorf("the provider saw %d requests in all; want the %d during the outage and one per job after it", total, seen)
	}
}

// twoInstances returns fake's OpenAI client behind two guards that share the pauses of one
// fresh database, as two packshot instances would.
func twoInstances(t *testing.T, fake *aitest.OpenAI, clock *testClock) (a, b ai.ImageGenerator) {
	t.Helper()
	store := pgtest.New(t).Store
	var cfg ai.Config
	fake.Configure(&cfg)
	client := ai.NewOpenAI(cfg)
	guard := func() ai.ImageGenerator {
		return ai.NewGuard(ai.GuardConfig{Store: db.NewPauseStore(store), Now: clock.Now}).Generator(client)
	}
	return guard(), guard()
}

func generateRequest() ai.GenerateRequest {
	return ai.GenerateRequest{Image: aitest.PNG(64, 64), Prompt: "a mug on a kitchen table"}
}

// testClock is a clock the test moves by hand. It starts at the wall clock's time, so the
// pauses it writes look real in the table.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now().Truncate(time.Second)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
