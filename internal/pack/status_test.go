package pack

import (
	"testing"

	"github.com/packshot/packshot/db"
)

func TestAggregate(t *testing.T) {
	t.Parallel()
	job := func(status string, progress int32) db.JobQueue {
		return db.JobQueue{Status: status, Progress: progress}
	}
	cases := []struct {
		name         string
		hasSource    bool
		jobs         []db.JobQueue
		wantStatus   string
		wantProgress int
	}{
		{"no photo", false, nil, StatusDraft, 0},
		{"photo, nothing asked", true, nil, StatusReady, 0},
		{"queued", true, []db.JobQueue{job(JobPending, 0), job(JobPending, 0)}, StatusGenerating, 0},
		{"half done", true, []db.JobQueue{job(JobCompleted, 100), job(JobProcessing, 50)}, StatusGenerating, 75},
		{"running never shows 100", true, []db.JobQueue{job(JobProcessing, 100)}, StatusGenerating, 99},
		{"all made", true, []db.JobQueue{job(JobCompleted, 100), job(JobCompleted, 100)}, StatusCompleted, 100},
		{"one failed", true, []db.JobQueue{job(JobCompleted, 100), job(JobFailed, 30)}, StatusPartial, 100},
		{"all failed", true, []db.JobQueue{job(JobFailed, 0), job(JobFailed, 0)}, StatusFailed, 100},
		{"all cancelled", true, []db.JobQueue{job(JobCancelled, 0)}, StatusReady, 0},
		{"made and cancelled", true, []db.JobQueue{job(JobCompleted, 100), job(JobCancelled, 0)}, StatusCompleted, 100},
		{"retrying after a failure", true, []db.JobQueue{job(JobFailed, 0), job(JobPending, 0)}, StatusGenerating, 50},
	}
	for _, c := range cases {
		status, progress := aggregate(c.hasSource, c.jobs)
		if status != c.wantStatus || progress != c.wantProgress {
			t.Errorf("%s: %s %d%%; want %s %d%%", c.name, status, progress, c.wantStatus, c.wantProgress)
		}
	}
}

func TestPackOrderAndProviders(t *testing.T) {
	t.Parallel()
	if got := PackTypes("amazon"); len(got) != 5 || got[0] != TypeMain || got[1] != TypeLifestyle {
		t.Errorf("amazon pack %v; want main, lifestyle first", got)
	}
	if got := PackTypes("etsy"); got[2] != TypeDetail {
		t.Errorf("etsy pack %v; want the detail image third", got)
	}
	var local Providers
	if local.CutoutProvider() != ProviderLocal || local.ImageProvider(TypeLifestyle) != ProviderLocal || local.ImageProvider(TypeCustom) != "" {
		t.Errorf("no keys: cut-out %s, lifestyle %s, custom %q; want local, local and none",
			local.CutoutProvider(), local.ImageProvider(TypeLifestyle), local.ImageProvider(TypeCustom))
	}
	if _, err := ParseMarketplace("ebay"); err == nil {
		t.Error("ebay accepted as a marketplace")
	}
	if m, err := ParseMarketplace(""); err != nil || m != "amazon" {
		t.Errorf("empty marketplace: %q, %v; want amazon", m, err)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c, err := decodeCursor("")
	if err != nil || c.createdAt.Unix() != 0 {
		t.Fatalf("empty cursor: %v %v", c, err)
	}
	if _, err := decodeCursor("bm9wZQ"); err == nil {
		t.Error("garbage cursor accepted")
	}
}
