package api_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/packshot/packshot/db"
	"github.com/packshot/packshot/internal/ai"
	"github.com/packshot/packshot/internal/ai/aitest"
	"github.com/packshot/packshot/internal/pack"
)

// slot returns the snapshot's slot of an image type.
func slot(t *testing.T, s pack.Snapshot, typ string) pack.ImageSlot {
	t.Helper()
	for _, sl := range s.Images {
		if sl.Type == typ {
			return sl
		}
	}
	t.Fatalf("no %s slot in %+v", typ, s.Images)
	return pack.ImageSlot{}
}

func TestPackWithAIServices(t *testing.T) {
	t.Parallel()
	openai, gemini, removebg := aitest.NewOpenAI(t), aitest.NewGemini(t), aitest.NewRemoveBG(t)
	b := setup(t, setupOptions{providers: ai.NewProviders(ai.Config{
		OpenAIAPIKey: openai.Key(), OpenAIBaseURL: openai.URL(),
		GeminiAPIKey: gemini.Key(), GeminiBaseURL: gemini.URL(),
		RemoveBGAPIKey: removebg.Key(), RemoveBGBaseURL: removebg.URL(),
	})})
	tok := token(t, "carol", "authenticated")
	s := readyProject(t, b, tok)

	// The first lifestyle call is rate limited with a retry time: the job is snoozed,
	// then succeeds.
	openai.Enqueue(aitest.OpenAIRateLimited(30 * time.Millisecond))
	var jobs pack.Jobs
	b.mutate(t, tok, "image.generateCompletePack", map[string]any{"projectId": s.ID}).decode(t, &jobs)
	done := b.waitSettled(t, tok, s.ID.String())
	if done.Status != pack.StatusCompleted {
		t.Fatalf("pack: status %q; want completed (slots %+v)", done.Status, done.Images)
	}
	life := slot(t, done, "lifestyle")
	if life.Image == nil || life.Image.Provider != "openai" || life.Image.CostUSD <= 0 || life.Image.Prompt == "" {
		t.Fatalf("lifestyle image: %+v; want one from openai with its prompt and cost", life.Image)
	}
	if n := openai.Count(); n != 2 {
		t.Errorf("openai got %d calls; want 2 (the 429, then the success)", n)
	}
	var lifeJob pack.Job
	b.query(t, tok, "job.get", map[string]any{"id": life.JobID}).decode(t, &lifeJob)
	if lifeJob.Status != "completed" || lifeJob.Attempts != 1 {
		t.Errorf("lifestyle job: %s after %d attempts; want completed after 1 (a snooze spends none)", lifeJob.Status, lifeJob.Attempts)
	}
	// remove.bg cut the product out once for the whole pack.
	if n := removebg.Count(); n != 1 {
		t.Errorf("remove.bg got %d calls; want 1", n)
	}
	if main := slot(t, done, "main"); main.Image == nil || !main.Image.Compliance.OK {
		t.Errorf("main image: %+v; want one passing its checks", main.Image)
	}
	if done.CostUSD < life.Image.CostUSD+0.01 {
		t.Errorf("project cost %.4f; want the lifestyle image's %.4f plus remove.bg's", done.CostUSD, life.Image.CostUSD)
	}

	// A custom image is safety-blocked: it fails with a readable reason and the project
	// ends partial.
	openai.Enqueue(aitest.OpenAIModerationBlocked())
	var custom pack.Jobs
	b.mutate(t, tok, "image.generate", map[string]any{"projectId": s.ID, "type": "custom", "prompt": "on a marble kitchen counter"}).decode(t, &custom)
	partial := b.waitSettled(t, tok, s.ID.String())
	cs := slot(t, partial, "custom")
	if partial.Status != pack.StatusPartial || cs.Status != "failed" || cs.Error == nil || !strings.Contains(strings.ToLower(*cs.Error), "safety") {
		t.Fatalf("after the blocked image: project %q, custom slot %s error %v; want partial, failed with a safety reason",
			partial.Status, cs.Status, cs.Error)
	}
	var failed pack.Job
	b.query(t, tok, "job.get", map[string]any{"id": custom.Jobs[0].ID}).decode(t, &failed)
	if failed.Status != "failed" || failed.Attempts != 1 {
		t.Errorf("blocked job: %s after %d attempts; want failed at once", failed.Status, failed.Attempts)
	}

	// The operator sees it among the failed jobs.
	var failedJobs []pack.Job
	b.query(t, token(t, "ops", "service_role"), "admin.failedJobs", map[string]any{"limit": 10}).decode(t, &failedJobs)
	if len(failedJobs) != 1 || failedJobs[0].ID != custom.Jobs[0].ID || failedJobs[0].LastError == nil {
		t.Errorf("admin.failedJobs: %+v; want the blocked job with its error", failedJobs)
	}

	// job.retry later succeeds.
	var retried pack.Job
	b.mutate(t, tok, "job.retry", map[string]any{"id": custom.Jobs[0].ID}).decode(t, &retried)
	final := b.waitSettled(t, tok, s.ID.String())
	cs = slot(t, final, "custom")
	if final.Status != pack.StatusCompleted || cs.Image == nil || cs.Image.Provider != "openai" {
		t.Fatalf("after the retry: project %q, custom slot %s; want completed with an openai image", final.Status, cs.Status)
	}
	if final.CostUSD <= done.CostUSD {
		t.Errorf("cost %.4f after the custom image; want more than %.4f", final.CostUSD, done.CostUSD)
	}
	if n := gemini.Count(); n != 0 {
		t.Errorf("gemini got %d calls while openai is configured; want 0", n)
	}
	// Everything the providers charged (remove.bg's cut-out, both generated images) counts
	// against carol's daily AI budget.
	u, err := b.db.Store.AISpendUserUsage(context.Background(), db.AISpendUserUsageParams{UserID: "carol", Kinds: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(u.SpentUsd-final.CostUSD) > 1e-9 {
		t.Errorf("carol's AI spend today: $%.4f; want the project's cost $%.4f", u.SpentUsd, final.CostUSD)
	}
}

func TestCustomImageWithGemini(t *testing.T) {
	t.Parallel()
	gemini := aitest.NewGemini(t)
	b := setup(t, setupOptions{providers: ai.NewProviders(ai.Config{GeminiAPIKey: gemini.Key(), GeminiBaseURL: gemini.URL()})})
	tok := token(t, "dave", "authenticated")
	s := readyProject(t, b, tok)

	gemini.Enqueue(aitest.GeminiImageBlocked("IMAGE_SAFETY"))
	var jobs pack.Jobs
	b.mutate(t, tok, "image.generate", map[string]any{"projectId": s.ID, "type": "custom", "prompt": "in a forest"}).decode(t, &jobs)
	got := b.waitSettled(t, tok, s.ID.String())
	cs := slot(t, got, "custom")
	if got.Status != pack.StatusFailed || cs.Status != "failed" || cs.Error == nil || *cs.Error == "" {
		t.Fatalf("blocked: project %q slot %s error %v; want failed with a reason", got.Status, cs.Status, cs.Error)
	}
	b.mutate(t, tok, "job.retry", map[string]any{"id": jobs.Jobs[0].ID}).decode(t, new(pack.Job))
	got = b.waitSettled(t, tok, s.ID.String())
	cs = slot(t, got, "custom")
	if got.Status != pack.StatusCompleted || cs.Image == nil || cs.Image.Provider != "gemini" || cs.Image.CostUSD <= 0 {
		t.Fatalf("after retry: project %q slot %+v; want completed with a priced gemini image", got.Status, cs)
	}
	// Without remove.bg the cut-out is local and free; without OpenAI the lifestyle
	// image would come from Gemini.
	if p := b.svc.Providers(); p.CutoutProvider() != "local" || p.ImageProvider("lifestyle") != "gemini" {
		t.Errorf("providers: cut-out %s, lifestyle %s; want local, gemini", p.CutoutProvider(), p.ImageProvider("lifestyle"))
	}
}
