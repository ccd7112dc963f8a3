package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/ai/aitest"
	"github.com/packshot/packshot/internal/pack"
	"github.com/packshot/packshot/internal/pgtest"
)

// refusals counts spend-limit refusals by limit, as the metrics do.
type refusals struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *refusals) add(limit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[limit]++
}

func (r *refusals) count(limit string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[limit]
}

// twoInstances starts two API instances on one database with an OpenAI key configured
// (so custom and lifestyle images are paid work) and the given spend limits. Neither
// runs jobs: every admitted job stays in flight, so the counts are exact.
func twoInstances(t *testing.T, spend pack.SpendLimits) (a, b *testBundle, refused *refusals) {
	t.Helper()
	openai := aitest.NewOpenAI(t)
	refused = &refusals{}
	spend.RefusedFunc = refused.add
	opts := setupOptions{
		providers: ai.NewProviders(ai.Config{OpenAIAPIKey: openai.Key(), OpenAIBaseURL: openai.URL()}),
		noWorker:  true, db: pgtest.New(t), spend: spend,
	}
	return setup(t, opts), setup(t, opts), refused
}

// requireRefused checks a tRPC answer is TOO_MANY_REQUESTS naming limit, with a retry time.
func requireRefused(t *testing.T, r trpcResult, limit string) {
	t.Helper()
	if r.code() != "TOO_MANY_REQUESTS" || r.status != http.StatusTooManyRequests ||
		!strings.Contains(r.Error.Message, limit) || r.Error.Data.RetryAfterSeconds <= 0 {
		t.Fatalf("answer %d %+v; want TOO_MANY_REQUESTS naming %s with retryAfterSeconds", r.status, r.Error, limit)
	}
}

// A user fires custom-image requests at two instances at once, on two projects (so no
// project lock serialises them): only PACKSHOT_MAX_AI_JOBS_IN_FLIGHT get in, the rest
// are refused naming the limit, and job.retry cannot get round it. Other users and the
// service role are unaffected.
func TestAIJobsInFlightCapHoldsAcrossInstances(t *testing.T) {
	t.Parallel()
	const maxJobs = 3
	a, b, refused := twoInstances(t, pack.SpendLimits{MaxAIJobsInFlight: maxJobs})
	tok := token(t, "mallory", "authenticated")
	projects := []string{readyProject(t, a, tok).ID.String(), readyProject(t, b, tok).ID.String()}

	const attempts = 16
	results := make([]trpcResult, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		inst := []*testBundle{a, b}[i%2]
		wg.Go(func() {
			results[i] = inst.mutate(t, tok, "image.generate",
				map[string]any{"projectId": projects[i/2%2], "type": "custom", "prompt": "attempt " + strconv.Itoa(i)})
		})
	}
	wg.Wait()
	var admitted []pack.Job
	for _, r := range results {
		if r.Error == nil {
			var jobs pack.Jobs
			r.decode(t, &jobs)
			admitted = append(admitted, jobs.Jobs...)
			continue
		}
		requireRefused(t, r, "ai_jobs_in_flight")
	}
	if len(admitted) != maxJobs {
		t.Fatalf("%d custom images admitted across two instances; want the cap of %d", len(admitted), maxJobs)
	}
	if n := refused.count(pack.LimitAIJobsInFlight); n != attempts-maxJobs {
		t.Errorf("refusals counted: %d; want %d", n, attempts-maxJobs)
	}

	// Cancel one, fill its place, and retrying the cancelled one is over the cap again.
	b.mutate(t, tok, "job.cancel", map[string]any{"id": admitted[0].ID}).decode(t, new(pack.Job))
	b.mutate(t, tok, "image.generate", map[string]any{"projectId": projects[0], "type": "custom", "prompt": "refill"}).decode(t, new(pack.Jobs))
	requireRefused(t, a.mutate(t, tok, "job.retry", map[string]any{"id": admitted[0].ID}), "ai_jobs_in_flight")
	// A local-engine image is not AI work.
	a.mutate(t, tok, "image.generate", map[string]any{"projectId": projects[0], "type": "main"}).decode(t, new(pack.Jobs))

	// Another user is not limited by mallory's jobs; the service role is exempt.
	other := token(t, "nina", "authenticated")
	a.mutate(t, other, "image.generate", map[string]any{"projectId": readyProject(t, a, other).ID, "type": "custom", "prompt": "mine"}).decode(t, new(pack.Jobs))
	ops := token(t, "ops", "service_role")
	b.mutate(t, ops, "job.retry", map[string]any{"id": admitted[0].ID}).decode(t, new(pack.Job))
}

// A user whose images are still being made, then whose spend is used up, is refused
// with the per-user budget named; the global ceiling then refuses everyone; REST gets the
// same refusal as problem JSON with Retry-After.
func TestAIDailyBudgetsHoldAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// gpt-image-1 is estimated at $0.25 a job: four fit in $1.
	a, b, refused := twoInstances(t, pack.SpendLimits{UserDailyUSD: 1, GlobalDailyUSD: 3})
	tok := token(t, "mallory", "authenticated")
	p := readyProject(t, a, tok).ID.String()

	var jobs []pack.Job
	for i := range 4 {
		var js pack.Jobs
		[]*testBundle{a, b}[i%2].mutate(t, tok, "image.generate", map[string]any{"projectId": p, "type": "custom", "prompt": "n" + strconv.Itoa(i)}).decode(t, &js)
		jobs = append(jobs, js.Jobs...)
	}
	// Reserved for the four unfinished images: a short wait, as one may finish cheaper.
	r := b.mutate(t, tok, "image.generate", map[string]any{"projectId": p, "type": "custom", "prompt": "fifth"})
	requireRefused(t, r, "ai_user_daily_budget")
	if r.Error.Data.RetryAfterSeconds > 60 {
		t.Errorf("refused for reservations: retry in %d s; want a short wait", r.Error.Data.RetryAfterSeconds)
	}

	// The four finish (cancelled here) having cost $1 in all: the day's budget is spent.
	for _, j := range jobs {
		a.mutate(t, tok, "job.cancel", map[string]any{"id": j.ID}).decode(t, new(pack.Job))
	}
	if err := a.db.Store.AISpendAdd(ctx, db.AISpendAddParams{UserID: "mallory", CostUsd: 1}); err != nil {
		t.Fatal(err)
	}
	r = a.mutate(t, tok, "job.retry", map[string]any{"id": jobs[0].ID})
	requireRefused(t, r, "ai_user_daily_budget")
	if s := r.Error.Data.RetryAfterSeconds; s <= 60 || s > 24*3600 {
		t.Errorf("budget used up: retry in %d s; want the time until 00:00 UTC", s)
	}
	if !strings.Contains(r.Error.Message, "00:00 UTC") {
		t.Errorf("message %q does not say when the budget starts again", r.Error.Message)
	}
	// REST: problem JSON, 429, Retry-After; a pack includes a paid lifestyle image.
	resp, raw := b.rest(t, tok, http.MethodPost, "/api/projects/"+p+"/pack", strings.NewReader("{}"), http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(resp.Header.Get("Content-Type"), "problem+json") || !strings.Contains(string(raw), "ai_user_daily_budget") {
		t.Fatalf("REST pack over budget: %d %v %s; want 429 problem JSON naming the limit with Retry-After", resp.StatusCode, resp.Header, raw)
	}

	// The service as a whole has spent $3: a user with nothing spent is refused too.
	if err := a.db.Store.AISpendAdd(ctx, db.AISpendAddParams{UserID: "nina", CostUsd: 2}); err != nil {
		t.Fatal(err)
	}
	olga := token(t, "olga", "authenticated")
	r = b.mutate(t, olga, "image.generate", map[string]any{"projectId": readyProject(t, b, olga).ID, "type": "custom", "prompt": "mine"})
	requireRefused(t, r, "ai_global_daily_budget")
	if refused.count(pack.LimitAIUserDaily) != 3 || refused.count(pack.LimitAIGlobalDaily) != 1 {
		t.Errorf("refusals counted: %v; want 3 per-user, 1 global", refused.n)
	}
	// The service role is exempt.
	b.mutate(t, token(t, "ops", "service_role"), "job.retry", map[string]any{"id": jobs[0].ID}).decode(t, new(pack.Job))
}

// With only remove.bg paid (images made by the local engine), every first pack of a
// project costs one cut-out. The cut-outs not yet made are reserved against the budgets:
// projects whose jobs are still pending count, so a user cannot start more first packs
// than the budget pays for (before, each request saw only its own cut-out), and a second
// request on a project whose cut-out is pending reserves it only once.
func TestPendingCutOutsAreReservedAgainstTheBudgets(t *testing.T) {
	t.Parallel()
	removebg := aitest.NewRemoveBG(t)
	refused := &refusals{}
	credit := ai.EstimateCallUSD(ai.ProviderRemoveBG)
	// Two and a half cut-outs: two projects fit, the third does not.
	b := setup(t, setupOptions{
		providers: ai.NewProviders(ai.Config{RemoveBGAPIKey: removebg.Key(), RemoveBGBaseURL: removebg.URL()}),
		noWorker:  true,
		spend:     pack.SpendLimits{UserDailyUSD: 2.5 * credit, RefusedFunc: refused.add},
	})
	tok := token(t, "oscar", "authenticated")
	var projects []string
	for range 3 {
		projects = append(projects, readyProject(t, b, tok).ID.String())
	}
	for _, p := range projects[:2] {
		b.mutate(t, tok, "image.generate", map[string]any{"projectId": p, "type": "main"}).decode(t, new(pack.Jobs))
	}
	// Another image of a project whose cut-out is already reserved costs nothing more.
	b.mutate(t, tok, "image.generate", map[string]any{"projectId": projects[0], "type": "infographic"}).decode(t, new(pack.Jobs))
	requireRefused(t, b.mutate(t, tok, "image.generate", map[string]any{"projectId": projects[2], "type": "main"}), "ai_user_daily_budget")
	if n := refused.count(pack.LimitAIUserDaily); n != 1 {
		t.Errorf("refusals counted: %d; want 1", n)
	}
	if n := removebg.Count(); n != 0 {
		t.Errorf("remove.bg got %d calls; want 0 (no job ran)", n)
	}
}

// A request that is over a budget by itself can never be admitted: it is refused as a
// bad request naming the limit, saying that waiting will not help, without a retry time
// (before, it was told to come back at midnight, when it would be refused again).
func TestARequestLargerThanTheBudgetIsNotToldToWait(t *testing.T) {
	t.Parallel()
	// gpt-image-1 is estimated at $0.25 a job, more than the whole $0.10.
	a, _, refused := twoInstances(t, pack.SpendLimits{UserDailyUSD: 0.10})
	tok := token(t, "rita", "authenticated")
	p := readyProject(t, a, tok).ID.String()
	r := a.mutate(t, tok, "image.generate", map[string]any{"projectId": p, "type": "custom", "prompt": "too dear"})
	if r.code() != "BAD_REQUEST" || !strings.Contains(r.Error.Message, "ai_user_daily_budget") ||
		!strings.Contains(r.Error.Message, "waiting will not help") || r.Error.Data.RetryAfterSeconds != 0 {
		t.Fatalf("answer %d %+v; want BAD_REQUEST naming ai_user_daily_budget, saying waiting will not help, no retry time", r.status, r.Error)
	}
	if n := refused.count(pack.LimitAIUserDaily); n != 1 {
		t.Errorf("refusals counted: %d; want 1", n)
	}
}
